package io.sessionagent.agent.store;

/** A local write would break a configured limit; the table is unchanged. */
public final class LimitExceededException extends Exception {
    public LimitExceededException(String message) {
        super(message, null, false, false);
    }
}
