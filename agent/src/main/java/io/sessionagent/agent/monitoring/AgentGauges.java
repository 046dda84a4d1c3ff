package io.sessionagent.agent.monitoring;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.sessionagent.agent.membership.MemberSnapshot;
import io.sessionagent.agent.metrics.MeterCatalogue;
import io.sessionagent.agent.metrics.MeterSpec;
import io.sessionagent.agent.replication.Replicator;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.proto.v1.MemberState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The gauges: the view, the sessions held by origin, the retransmit buffer, replication and the
 * agent's state. Nothing is recorded as it happens; {@link #refresh} reads the components once
 * before each scrape (one visit to the protocol thread), and the gauges report that reading.
 */
public final class AgentGauges {
    private static final Logger log = LoggerFactory.getLogger(AgentGauges.class);
    private static final List<MemberState> STATES = List.of(MemberState.MEMBER_STATE_JOINING,
            MemberState.MEMBER_STATE_READY, MemberState.MEMBER_STATE_LEAVING);

    private final Replicator replicator;
    private final SessionTable table;
    private final long selfId;
    private final MultiGauge sessionsHeld;
    private final MultiGauge sessionsBytes;
    private volatile Replicator.Sample sample;

    public AgentGauges(MeterRegistry registry, Replicator replicator, SessionTable table, long selfId) {
        this.replicator = replicator;
        this.table = table;
        this.selfId = selfId;
        for (MemberState st : STATES) {
            gauge(MeterCatalogue.MEMBERS, () -> membersIn(st)).tag("state", tag(st)).register(registry);
            gauge(MeterCatalogue.STATE, () -> replicator.state() == st ? 1 : 0).tag("state", tag(st))
                    .register(registry);
        }
        gauge(MeterCatalogue.VIEW_ID, () -> sample == null ? 0 : sample.view().viewId()).register(registry);
        gauge(MeterCatalogue.TOMBSTONES, table::tombstoneCount).register(registry);
        gauge(MeterCatalogue.RETRANSMIT_FRAMES, () -> sample == null ? 0 : sample.retransmitFrames())
                .register(registry);
        gauge(MeterCatalogue.RETRANSMIT_BYTES, () -> sample == null ? 0 : sample.retransmitBytes())
                .register(registry);
        gauge(MeterCatalogue.REPLICATION_UNACKED_AGE, () -> sample == null ? 0 : sample.unackedAgeMs() / 1000.0)
                .register(registry);
        gauge(MeterCatalogue.REPLICATION_ENABLED, () -> replicator.replicationEnabled() ? 1 : 0)
                .register(registry);
        sessionsHeld = multi(MeterCatalogue.SESSIONS_HELD).register(registry);
        sessionsBytes = multi(MeterCatalogue.SESSIONS_BYTES).register(registry);
    }

    /** The tag value of a member state: joining, ready, leaving. */
    public static String tag(MemberState state) {
        return state.name().substring("MEMBER_STATE_".length()).toLowerCase(Locale.ROOT);
    }

    /**
     * Reads the protocol state and the per-writer tallies for the next scrape. When the protocol
     * thread does not answer (stopped, or stuck), the gauges keep the last reading and the
     * scrape still succeeds: metrics must not fail when they are needed most.
     */
    public void refresh() {
        try {
            sample = replicator.sample();
        } catch (IllegalStateException e) {
            log.debug("metrics keep the last protocol sample: {}", e.getMessage());
        }
        Map<Long, String> names = new HashMap<>();
        if (sample != null) {
            for (MemberSnapshot m : sample.view().members()) {
                names.put(m.id(), m.nodeName());
            }
        }
        Map<String, long[]> byOrigin = new HashMap<>();
        table.heldByWriter().forEach((writer, held) -> {
            String origin = writer == selfId ? "self" : names.getOrDefault(writer, "unknown");
            long[] sum = byOrigin.computeIfAbsent(origin, o -> new long[2]);
            sum[0] += held.sessions();
            sum[1] += held.bytes();
        });
        List<MultiGauge.Row<?>> held = new ArrayList<>();
        List<MultiGauge.Row<?>> bytes = new ArrayList<>();
        byOrigin.forEach((origin, sum) -> {
            held.add(MultiGauge.Row.of(Tags.of("origin", origin), sum[0]));
            bytes.add(MultiGauge.Row.of(Tags.of("origin", origin), sum[1]));
        });
        // Overwrite: an origin that holds nothing any more disappears from the scrape.
        sessionsHeld.register(held, true);
        sessionsBytes.register(bytes, true);
    }

    private long membersIn(MemberState st) {
        Replicator.Sample s = sample;
        return s == null ? 0 : s.view().members().stream().filter(m -> m.state() == st).count();
    }

    private static Gauge.Builder<Supplier<Number>> gauge(MeterSpec spec,
                                                         Supplier<Number> value) {
        return Gauge.builder(spec.name(), value).description(spec.description()).baseUnit(spec.baseUnit());
    }

    private static MultiGauge.Builder multi(MeterSpec spec) {
        return MultiGauge.builder(spec.name()).description(spec.description()).baseUnit(spec.baseUnit());
    }
}
