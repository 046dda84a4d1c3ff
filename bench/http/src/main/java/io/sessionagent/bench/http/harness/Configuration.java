package io.sessionagent.bench.http.harness;

import java.util.Arrays;

/** What runs behind the two ports the load generator and the replica check talk to. */
enum Configuration {
    ALONE("alone", "Tomcat alone", Kind.ALONE, 0, null),
    DELTA_ASYNC("delta-async", "DeltaManager async (8)", Kind.DELTA, 8, null),
    DELTA_SYNC("delta-sync", "DeltaManager sync (6)", Kind.DELTA, 6, null),
    OURS_ASYNC("ours-async", "filter + agents async", Kind.FILTER, 0, "async"),
    /** Async responses wait only for the lag bound, not for the local agent (async-wait-for-agent=false). */
    OURS_ASYNC_NO_WAIT("ours-async-nowait", "filter + agents async, no wait for the agent", Kind.FILTER, 0, "async"),
    OURS_SYNC("ours-sync", "filter + agents sync", Kind.FILTER, 0, "sync");

    enum Kind { ALONE, DELTA, FILTER }

    final String id;
    final String label;
    final Kind kind;
    /** SimpleTcpCluster channelSendOptions: 8 asynchronous; 6 USE_ACK | SYNCHRONIZED_ACK. */
    final int sendOptions;
    /** The filter's replication-mode init-param. */
    final String replicationMode;

    Configuration(String id, String label, Kind kind, int sendOptions, String replicationMode) {
        this.id = id;
        this.label = label;
        this.kind = kind;
        this.sendOptions = sendOptions;
        this.replicationMode = replicationMode;
    }

    /** The filter's async-wait-for-agent init-param. */
    boolean waitForAgent() {
        return this != OURS_ASYNC_NO_WAIT;
    }

    boolean replicated() {
        return kind != Kind.ALONE;
    }

    /** The DeltaManager configuration this one is compared with, or null. */
    Configuration deltaPeer() {
        return switch (this) {
            case OURS_ASYNC, OURS_ASYNC_NO_WAIT -> DELTA_ASYNC;
            case OURS_SYNC -> DELTA_SYNC;
            default -> null;
        };
    }

    static Configuration byId(String id) {
        return Arrays.stream(values()).filter(c -> c.id.equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown configuration " + id + "; known: "
                        + Arrays.stream(values()).map(c -> c.id).toList()));
    }
}
