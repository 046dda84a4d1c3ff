package io.sessionagent.agent.replication;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.metrics.Histograms;
import io.sessionagent.agent.store.ApplyOutcome;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.proto.v1.DataBatch;
import io.sessionagent.proto.v1.DataEntry;
import io.sessionagent.proto.v1.ReplicatedDelta;

import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Applies a delivered batch to the session table by the apply rule; a delta that leaves the
 * table behind or loses to it by the conflict rule sends its session to {@link Repairs}.
 * Confined to the protocol thread.
 */
final class DeltaApplier {
    private final SessionTable table;
    private final Repairs repairs;
    private final Counters counters;
    private final Histograms histograms;
    private final LongSupplier clockMs;

    DeltaApplier(SessionTable table, Repairs repairs, Counters counters, Histograms histograms,
                 LongSupplier clockMs) {
        this.table = table;
        this.repairs = repairs;
        this.counters = counters;
        this.histograms = histograms;
        this.clockMs = clockMs;
    }

    /**
     * @param sender    the member the batch came from, used to route a repair when the delta names no
     *                  writer
     * @param unapplied told of each delta the table could not take (its session is being repaired)
     */
    void apply(long sender, DataBatch batch, Consumer<ReplicatedDelta> unapplied) {
        long now = clockMs.getAsLong();
        for (DataEntry e : batch.getEntriesList()) {
            if (e.hasDelta()) {
                ReplicatedDelta d = e.getDelta();
                counters.increment(Counter.DELTAS_RECEIVED);
                ApplyOutcome outcome = table.applyReplicated(d);
                switch (outcome) {
                    case APPLIED -> {
                    }
                    case DUPLICATE -> counters.increment(Counter.DELTAS_DUPLICATE);
                    case GAP -> counters.increment(Counter.DELTAS_OUT_OF_ORDER);
                    case WHOLE_OVER_GAP -> counters.increment(Counter.DELTAS_WHOLE_OVER_GAP);
                    case CONFLICT_LOCAL_WINS, CONFLICT_REMOTE_WINS, WHOLE_OVER_CONFLICT ->
                            counters.increment(Counter.CONFLICTS);
                }
                if (outcome.applied()) {
                    counters.increment(Counter.DELTAS_APPLIED);
                    if (d.getWrittenAtMs() > 0) {
                        histograms.replicationLag(now - d.getWrittenAtMs());
                    }
                }
                if (outcome.needsFetch()) {
                    repairs.add(d.getWriter() != 0 ? d.getWriter() : sender, d.getId(), d.getNewVersion());
                    unapplied.accept(d);
                }
            } else if (e.hasTouch()) {
                counters.increment(Counter.TOUCHES_RECEIVED);
                table.touch(e.getTouch().getId(), e.getTouch().getAccessTimeMs());
            }
        }
    }
}
