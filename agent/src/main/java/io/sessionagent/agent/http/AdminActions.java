package io.sessionagent.agent.http;

/** What the admin endpoints do to the agent; the agent implements it, so this package needs none of it. */
public interface AdminActions {
    /** True once the agent left the cluster by a drain. */
    boolean drained();

    /**
     * Leaves the cluster and refuses further SessionService calls, the agent still running.
     *
     * @return false when it was drained or stopping already
     */
    boolean drain() throws InterruptedException;

    void setReplicationEnabled(boolean enabled);

    /** The cluster view as the CLI's {@code view --json} prints it. */
    String viewJson();
}
