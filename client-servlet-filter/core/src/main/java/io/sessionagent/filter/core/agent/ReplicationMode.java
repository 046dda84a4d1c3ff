package io.sessionagent.filter.core.agent;

import java.util.Locale;

/** Whether a write waits for another agent to hold the change. */
public enum ReplicationMode {
    /** The agent answers once it applied the change locally. */
    ASYNC,
    /** The agent answers once one other agent applied the change, or after the sync timeout. */
    SYNC;

    public static ReplicationMode parse(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        if (v.equals("async")) {
            return ASYNC;
        }
        if (v.equals("sync")) {
            return SYNC;
        }
        throw new IllegalArgumentException("replication-mode '" + s + "': expected async or sync");
    }
}
