package io.sessionagent.filter.core.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** What the filter did, for operators; one set per filter instance. */
public final class FilterCounters {
    public final LongAdder serializeNanos = new LongAdder();
    public final LongAdder serializations = new LongAdder();
    public final LongAdder deltasSent = new LongAdder();
    public final LongAdder deltaBytes = new LongAdder();
    public final LongAdder skippedAttributes = new LongAdder();
    public final LongAdder deserializeFailures = new LongAdder();
    public final ClassCounts deserializeFailuresByClass = new ClassCounts();
    public final LongAdder refusedAttributes = new LongAdder();
    public final ClassCounts refusedByClass = new ClassCounts();
    public final LongAdder agentErrors = new LongAdder();
    public final LongAdder agentCallsSkipped = new LongAdder();
    public final LongAdder failoverRestores = new LongAdder();
    public final LongAdder failoverMisses = new LongAdder();
    public final LongAdder failoverUnavailable = new LongAdder();
    public final LongAdder touchesSent = new LongAdder();
    public final LongAdder sessionsCreated = new LongAdder();
    public final LongAdder sessionsExpired = new LongAdder();
    public final LongAdder writeConflicts = new LongAdder();
    public final LongAdder cacheEvictions = new LongAdder();
    public final LongAdder cacheMisses = new LongAdder();
    public final LongAdder writesCoalesced = new LongAdder();
    public final LongAdder writesNotReplicated = new LongAdder();
    public final LongAdder writesUnconfirmed = new LongAdder();
    public final LongAdder streamFailures = new LongAdder();
    public final LongAdder backpressureWaits = new LongAdder();
    public final LongAdder backpressureTimeouts = new LongAdder();
    /** The filter's gauges, read into {@link #snapshot}; set once the filter's session manager exists. */
    private volatile FilterState state;

    public void state(FilterState s) {
        this.state = s;
    }

    /** Total time spent serializing attribute values, in nanoseconds. */
    public long serializeNanos() {
        return serializeNanos.sum();
    }

    /** Attribute values serialized. */
    public long serializations() {
        return serializations.sum();
    }

    /** Deltas the agent accepted. */
    public long deltasSent() {
        return deltasSent.sum();
    }

    /** Serialized attribute bytes in accepted deltas. */
    public long deltaBytes() {
        return deltaBytes.sum();
    }

    /** Attribute values not replicated: not serializable, over max-attribute-bytes, or refused by allowed-classes. */
    public long skippedAttributes() {
        return skippedAttributes.sum();
    }

    /** Replicated attribute values that could not be deserialized here (left out of the session). */
    public long deserializeFailures() {
        return deserializeFailures.sum();
    }

    /**
     * Replicated attribute values that could not be deserialized here, by the class of the value
     * as written (at most {@value ClassCounts#MAX_NAMES} classes, then {@link ClassCounts#OTHER}).
     */
    public Map<String, Long> deserializeFailuresByClass() {
        return deserializeFailuresByClass.snapshot();
    }

    /**
     * Attribute values holding a class the allowed-classes init-param does not allow: not sent
     * (and also counted as skipped), or from the agent and left out.
     */
    public long refusedAttributes() {
        return refusedAttributes.sum();
    }

    /** {@link #refusedAttributes()} by the class refused. */
    public Map<String, Long> refusedAttributesByClass() {
        return refusedByClass.snapshot();
    }

    /** Agent calls that failed: agent down, deadline passed, or refused. */
    public long agentErrors() {
        return agentErrors.sum();
    }

    /** Agent calls not attempted because the agent failed recently (backoff). */
    public long agentCallsSkipped() {
        return agentCallsSkipped.sum();
    }

    /** Sessions this node did not hold, restored from the agent. */
    public long failoverRestores() {
        return failoverRestores.sum();
    }

    /** Unknown session ids the agent did not hold either. */
    public long failoverMisses() {
        return failoverMisses.sum();
    }

    /** Requests answered 503 because the agent could not be asked about a session this node does not hold. */
    public long failoverUnavailable() {
        return failoverUnavailable.sum();
    }

    /** Pure accesses sent to the agent. */
    public long touchesSent() {
        return touchesSent.sum();
    }

    /** Sessions created on this node. */
    public long sessionsCreated() {
        return sessionsCreated.sum();
    }

    /** Sessions dropped from the local cache by inactivity. */
    public long sessionsExpired() {
        return sessionsExpired.sum();
    }

    /** Writes the agent refused because its version differed; the session was then resent whole. */
    public long writeConflicts() {
        return writeConflicts.sum();
    }

    /** Live sessions dropped from the local cache past max-local-sessions; the agent still holds them. */
    public long cacheEvictions() {
        return cacheEvictions.sum();
    }

    /** Sessions evicted from the local cache and fetched again from the agent (not failovers). */
    public long cacheMisses() {
        return cacheMisses.sum();
    }

    /** Changes merged into their session's write that had not left for the agent yet. */
    public long writesCoalesced() {
        return writesCoalesced.sum();
    }

    /**
     * Changes the agent never took: made while it was unreachable, or on their way when the write
     * stream broke. Their sessions go whole to the agent once it answers again.
     */
    public long writesNotReplicated() {
        return writesNotReplicated.sum();
    }

    /** Changes the agent applied but no replica acknowledged within sync-timeout. */
    public long writesUnconfirmed() {
        return writesUnconfirmed.sum();
    }

    /** Write streams to the agent that ended with an error (the agent was gone). */
    public long streamFailures() {
        return streamFailures.sum();
    }

    /** Async requests that waited because replication was behind max-replication-lag. */
    public long backpressureWaits() {
        return backpressureWaits.sum();
    }

    /** Requests whose wait for the agent reached agent-timeout; they went on, the write stayed in flight. */
    public long backpressureTimeouts() {
        return backpressureTimeouts.sum();
    }

    /** All counters by name, and the gauges of the filter they belong to, for logging or a metrics bridge. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("serialize.nanos", serializeNanos());
        m.put("serializations", serializations());
        m.put("deltas.sent", deltasSent());
        m.put("delta.bytes", deltaBytes());
        m.put("attributes.skipped", skippedAttributes());
        m.put("attributes.deserialize_failures", deserializeFailures());
        m.put("attributes.refused", refusedAttributes());
        m.put("agent.errors", agentErrors());
        m.put("agent.calls_skipped", agentCallsSkipped());
        m.put("failover.restores", failoverRestores());
        m.put("failover.misses", failoverMisses());
        m.put("failover.unavailable", failoverUnavailable());
        m.put("touches.sent", touchesSent());
        m.put("sessions.created", sessionsCreated());
        m.put("sessions.expired", sessionsExpired());
        m.put("writes.conflicts", writeConflicts());
        m.put("cache.evictions", cacheEvictions());
        m.put("cache.misses", cacheMisses());
        m.put("writes.coalesced", writesCoalesced());
        m.put("writes.not_replicated", writesNotReplicated());
        m.put("writes.unconfirmed", writesUnconfirmed());
        m.put("agent.stream_failures", streamFailures());
        m.put("backpressure.waits", backpressureWaits());
        m.put("backpressure.timeouts", backpressureTimeouts());
        FilterState s = state;
        if (s != null) {
            m.put("sessions.local", (long) s.localSessionCount());
            m.put("agent.down", s.agentDown() ? 1L : 0L);
            m.put("writes.pending", (long) s.pendingWrites());
            m.put("replication.lag_ms", s.replicationLagMs());
        }
        return m;
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }
}
