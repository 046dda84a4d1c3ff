package io.sessionagent.agent.replication;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.DiscardedBranch;
import org.slf4j.Logger;

import java.util.function.LongSupplier;

/**
 * Counts and logs the branches the conflict rule drops, so that the writes lost to a concurrent
 * writer (two nodes serving one session, a failover while the old node still writes, a partition)
 * are visible. Each kind (a held version replaced, an incoming one refused, an acknowledged write
 * among them) is logged at WARNING the first time and then at most once per
 * {@link #LOG_INTERVAL_MS} with how many were suppressed, so a node that keeps fighting over
 * sessions cannot flood the log. Called from the protocol thread and the peer I/O thread.
 */
final class DiscardedBranches {
    static final long LOG_INTERVAL_MS = 60_000;

    private final Counters counters;
    private final LongSupplier clockMs;
    private final Logger log;
    private final Kind held = new Kind();
    private final Kind incoming = new Kind();
    private final Kind acknowledged = new Kind();

    DiscardedBranches(Counters counters, LongSupplier clockMs, Logger log) {
        this.counters = counters;
        this.clockMs = clockMs;
        this.log = log;
    }

    void report(DiscardedBranch b) {
        counters.increment(b.held() ? Counter.BRANCHES_DISCARDED_HELD : Counter.BRANCHES_DISCARDED_INCOMING);
        long now = clockMs.getAsLong();
        if (b.acknowledged()) {
            counters.increment(Counter.ACKNOWLEDGED_WRITES_DISCARDED);
            long suppressed = acknowledged.due(now);
            if (suppressed >= 0) {
                log.warn("acknowledged write discarded: session {}, the branch at version {} by writer {} ({}) holds "
                                + "a write that waited for replicas and lost to the concurrent version {} by writer {}{}",
                        b.id(), b.droppedVersion(), Long.toUnsignedString(b.droppedWriter()),
                        b.held() ? "held here" : "received", b.keptVersion(), Long.toUnsignedString(b.keptWriter()),
                        more(suppressed, "conflicts.acknowledged_writes_discarded"));
            }
            return;
        }
        Kind kind = b.held() ? held : incoming;
        long suppressed = kind.due(now);
        if (suppressed >= 0) {
            log.warn("concurrent branch discarded: session {} version {} by writer {} {} the concurrent version {} "
                            + "by writer {}{}", b.id(), b.droppedVersion(), Long.toUnsignedString(b.droppedWriter()),
                    b.held() ? "was held here and lost to" : "was received and lost to the held",
                    b.keptVersion(), Long.toUnsignedString(b.keptWriter()),
                    more(suppressed, b.held() ? "conflicts.held_branches_discarded"
                            : "conflicts.incoming_branches_discarded"));
        }
    }

    private static String more(long suppressed, String counter) {
        return suppressed == 0 ? "; the next of this kind are logged at most once a minute, all counted in " + counter
                : " (" + suppressed + " more since the last one logged, counted in " + counter + ")";
    }

    /** When one kind was last logged and how many were left out since. */
    private static final class Kind {
        private long lastLoggedMs;
        private boolean loggedOnce;
        private long suppressed;

        /** The number left out since the last one logged when this one is to be logged, else -1. */
        synchronized long due(long nowMs) {
            if (loggedOnce && nowMs - lastLoggedMs < LOG_INTERVAL_MS) {
                suppressed++;
                return -1;
            }
            long n = suppressed;
            loggedOnce = true;
            lastLoggedMs = nowMs;
            suppressed = 0;
            return n;
        }
    }
}
