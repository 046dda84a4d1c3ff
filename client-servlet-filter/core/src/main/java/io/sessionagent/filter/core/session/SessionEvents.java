package io.sessionagent.filter.core.session;

/**
 * Lifecycle callbacks the servlet adapter turns into listener calls; the core knows no servlet
 * types. Called on request threads, and on the expiry thread for sessions that time out.
 */
public interface SessionEvents {
    /** A session was created on this node (never for a session restored after a failover). */
    void created(SessionData session);

    /**
     * A session ends (invalidated or expired): notify, then remove every attribute with its
     * unbinding notifications. The session is still readable during the call.
     */
    void destroyed(SessionData session);

    /** A session was restored from the agent on this node. */
    void activated(SessionData session);

    /**
     * A live session leaves this node's memory (the local cache is full) but stays at the agent;
     * a later request restores it and {@link #activated} follows.
     */
    default void passivating(SessionData session) {
    }

    /** A session was given a new id; {@code session.id()} is the new one. */
    default void idChanged(SessionData session, String oldId) {
    }
}
