package io.sessionagent.agent.store;

/** A local write was based on another version than the one the table holds; the table is unchanged. */
public final class StaleBaseException extends Exception {
    private final long currentVersion;

    public StaleBaseException(String message, long currentVersion) {
        super(message, null, false, false);
        this.currentVersion = currentVersion;
    }

    /** The version the table holds (0: no such session). */
    public long currentVersion() {
        return currentVersion;
    }
}
