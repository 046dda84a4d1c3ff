package io.sessionagent.filter.core;

/**
 * A request names a session this node does not hold, and the agent could not say whether it
 * holds it. Answering with a new session would overwrite the user's cookie and lose the session
 * for good; the adapter answers 503 instead, keeping the cookie, so that the next try finds it.
 */
public final class SessionUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SessionUnavailableException(String id, Throwable cause) {
        super("session " + id + " is not held here and the session agent did not answer for it: " + cause.getMessage(),
                cause);
    }
}
