package io.sessionagent.agent.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The latencies the protocol records as it goes: the only metrics written on the hot path.
 * Each is a timer with a published histogram, so that p50 and p99 can be computed from the
 * buckets across agents (a client-side percentile cannot be aggregated).
 */
public final class Histograms {
    private final Timer replicationLag;
    private final Timer stateTransfer;
    private final Map<SyncOutcome, Timer> syncAck = new EnumMap<>(SyncOutcome.class);

    public Histograms(MeterRegistry registry) {
        replicationLag = timer(MeterCatalogue.REPLICATION_LAG, Duration.ofMillis(1), Duration.ofSeconds(60))
                .register(registry);
        stateTransfer = timer(MeterCatalogue.STATE_TRANSFER_DURATION, Duration.ofMillis(10), Duration.ofMinutes(10))
                .register(registry);
        for (SyncOutcome o : SyncOutcome.values()) {
            syncAck.put(o, timer(MeterCatalogue.SYNC_ACK_LATENCY, Duration.ofMillis(1), Duration.ofSeconds(30))
                    .tag("outcome", o.tag()).register(registry));
        }
    }

    /** A bounded histogram: the expected range trims the buckets to the ones that can fill. */
    static Timer.Builder timer(MeterSpec spec, Duration min, Duration max) {
        return Timer.builder(spec.name())
                .description(spec.description())
                .publishPercentileHistogram()
                .minimumExpectedValue(min)
                .maximumExpectedValue(max);
    }

    /** A change applied here {@code ms} after its origin committed it; negative (clock skew) counts as 0. */
    public void replicationLag(long ms) {
        replicationLag.record(Math.max(0, ms), TimeUnit.MILLISECONDS);
    }

    public void syncAck(SyncOutcome outcome, long ms) {
        syncAck.get(outcome).record(Math.max(0, ms), TimeUnit.MILLISECONDS);
    }

    public void stateTransfer(long ms) {
        stateTransfer.record(Math.max(0, ms), TimeUnit.MILLISECONDS);
    }
}
