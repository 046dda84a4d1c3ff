package io.sessionagent.agent.metrics;

import java.util.Locale;

/** How the wait of a sync write for replica acknowledgements ended; the tag of its latency. */
public enum SyncOutcome {
    /** The replicas asked for acknowledged it. */
    REPLICATED,
    /** sync-timeout passed first. */
    TIMEOUT,
    /** No ready replica was there to wait for. */
    NO_REPLICAS;

    public String tag() {
        return name().toLowerCase(Locale.ROOT);
    }
}
