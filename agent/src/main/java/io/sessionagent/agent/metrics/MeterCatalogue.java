package io.sessionagent.agent.metrics;

import io.micrometer.core.instrument.Meter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every meter the agent exports, by dotted name. Counters of the {@link Counter} catalogue
 * become meters by one rule ({@link #meterOf}); gauges and timers are listed here. Binders
 * register meters by these specs only, so the catalogue is what a scrape shows; the gRPC
 * servers' meters are Micrometer's, and listed here under its names.
 */
public final class MeterCatalogue {
    public static final String PREFIX = "session_agent.";

    /** Counters whose names start with this are one meter with a {@code reason} tag. */
    private static final String DROPPED = "frames.dropped.";

    public static final MeterSpec FRAMES_DROPPED = new MeterSpec(PREFIX + "frames.dropped", Meter.Type.COUNTER,
            "frames", List.of("reason"), "Datagrams dropped, by reason: malformed, version, foreign_cluster,"
            + " oversized, auth (not sealed with a key this agent holds, or failing authentication), replay"
            + " (an authentic control frame received before), duplicate_member (another process uses this"
            + " node's name), window_full"
            + " (the receive window for their sender was full), unknown_member (data from a sender not in the"
            + " view), overload (the protocol thread was too far behind)");
    public static final MeterSpec MEMBERS = gauge("members", "members", List.of("state"),
            "Other members in this agent's view, by state (joining, ready, leaving)");
    public static final MeterSpec VIEW_ID = gauge("view.id", "id", List.of(),
            "Id of this agent's current view; it rises with every change of the view");
    public static final MeterSpec SESSIONS_HELD = gauge("sessions.held", "sessions", List.of("origin"),
            "Live sessions held, by origin: the node name of their last writer as the view knows it,"
                    + " self for this node's writes, unknown for writers not in the view");
    public static final MeterSpec SESSIONS_BYTES = gauge("sessions.bytes", "bytes", List.of("origin"),
            "Bytes of the live sessions held (ids, attribute names and values), by origin as sessions.held");
    public static final MeterSpec TOMBSTONES = gauge("tombstones", "sessions", List.of(),
            "Invalidated sessions remembered so that a late change cannot revive them");
    public static final MeterSpec RETRANSMIT_FRAMES = gauge("retransmit_buffer.frames", "frames", List.of(),
            "Datagrams this agent keeps for retransmission");
    public static final MeterSpec RETRANSMIT_BYTES = gauge("retransmit_buffer.bytes", "bytes", List.of(),
            "Bytes this agent keeps for retransmission");
    public static final MeterSpec REPLICATION_UNACKED_AGE = gauge("replication.unacked_age", "seconds", List.of(),
            "How long the oldest change this agent sent has waited for a ready replica's acknowledgement;"
                    + " 0 when every ready replica has all of them. Read at each scrape");
    public static final MeterSpec REPLICATION_ENABLED = gauge("replication.enabled", "boolean", List.of(),
            "1 while this agent replicates, 0 while replication is switched off");
    public static final MeterSpec STATE = gauge("state", "boolean", List.of("state"),
            "1 for this agent's state (joining, ready, leaving), 0 for the others");
    public static final MeterSpec REPLICATION_LAG = timer("replication.lag", List.of(),
            "From the commit of a change on its origin to its apply on this replica (wall clocks;"
                    + " assumes synchronised clocks)");
    public static final MeterSpec SYNC_ACK_LATENCY = timer("sync.ack_latency", List.of("outcome"),
            "From the send of a sync write's batch to the end of its wait, by outcome: replicated,"
                    + " timeout, no_replicas");
    public static final MeterSpec STATE_TRANSFER_DURATION = timer("state_transfer.duration", List.of(),
            "Duration of the state transfers received at join, from request to the last record");
    /*
     * The gRPC servers' meters come from Micrometer's interceptor (GrpcServerMeters), under its names
     * and tags; they are listed here so that the docs and dashboard checks cover them, and a test
     * proves the interceptor still registers exactly these.
     */
    public static final MeterSpec GRPC_SERVER_PROCESSING_DURATION = new MeterSpec("grpc.server.processing.duration",
            Meter.Type.TIMER, "seconds", List.of("service", "method", "methodType", "statusCode"),
            "gRPC calls served (SessionService, PeerService, Health), from their start to their close, by service,"
                    + " method, method type and status code");
    public static final MeterSpec GRPC_SERVER_REQUESTS_RECEIVED = new MeterSpec("grpc.server.requests.received",
            Meter.Type.COUNTER, "messages", List.of("service", "method", "methodType"),
            "Request messages the gRPC servers received, by service, method and method type");
    public static final MeterSpec GRPC_SERVER_RESPONSES_SENT = new MeterSpec("grpc.server.responses.sent",
            Meter.Type.COUNTER, "messages", List.of("service", "method", "methodType"),
            "Response messages the gRPC servers sent, by service, method and method type");

    private MeterCatalogue() {
    }

    /** Every meter, counters first, in catalogue order. */
    public static List<MeterSpec> all() {
        Map<String, MeterSpec> specs = new LinkedHashMap<>();
        for (Counter c : Counter.values()) {
            specs.putIfAbsent(meterOf(c).spec().name(), meterOf(c).spec());
        }
        List<MeterSpec> out = new ArrayList<>(specs.values());
        out.addAll(List.of(MEMBERS, VIEW_ID, SESSIONS_HELD, SESSIONS_BYTES, TOMBSTONES, RETRANSMIT_FRAMES,
                RETRANSMIT_BYTES, REPLICATION_UNACKED_AGE, REPLICATION_ENABLED, STATE, REPLICATION_LAG, SYNC_ACK_LATENCY,
                STATE_TRANSFER_DURATION, GRPC_SERVER_PROCESSING_DURATION, GRPC_SERVER_REQUESTS_RECEIVED,
                GRPC_SERVER_RESPONSES_SENT));
        return out;
    }

    /** The meter a counter is exported as, and the tag that tells it apart within that meter. */
    public record CounterMeter(MeterSpec spec, String tagKey, String tagValue) {
    }

    /**
     * The frames.dropped.* counters share one meter tagged by reason, so that one query sums or
     * splits them; every other counter is a meter of its own name.
     */
    public static CounterMeter meterOf(Counter c) {
        if (c.metricName().startsWith(DROPPED)) {
            return new CounterMeter(FRAMES_DROPPED, "reason", c.metricName().substring(DROPPED.length()));
        }
        return new CounterMeter(new MeterSpec(PREFIX + c.metricName(), Meter.Type.COUNTER, c.baseUnit(), List.of(),
                c.description()), null, null);
    }

    private static MeterSpec gauge(String name, String unit, List<String> tags, String description) {
        return new MeterSpec(PREFIX + name, Meter.Type.GAUGE, unit, tags, description);
    }

    private static MeterSpec timer(String name, List<String> tags, String description) {
        return new MeterSpec(PREFIX + name, Meter.Type.TIMER, "seconds", tags, description);
    }
}
