package io.sessionagent.filter.core.metrics;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the filter did, for operators; one set per filter instance. The counters are those of the
 * {@link FilterCounter} catalogue; counting one costs a {@link LongAdder} increment.
 */
public final class FilterCounters {
    private final Map<FilterCounter, LongAdder> counts = new EnumMap<>(FilterCounter.class);
    /** {@link FilterCounter#DESERIALIZE_FAILURES} by the class of the value as written. */
    public final ClassCounts deserializeFailuresByClass = new ClassCounts();
    /** {@link FilterCounter#REFUSED_ATTRIBUTES} by the class refused. */
    public final ClassCounts refusedByClass = new ClassCounts();
    /** The filter's gauges, read into {@link #snapshot}; set once the filter's session manager exists. */
    private volatile FilterState state;

    public FilterCounters() {
        for (FilterCounter c : FilterCounter.values()) {
            counts.put(c, new LongAdder());
        }
    }

    public void state(FilterState s) {
        this.state = s;
    }

    public void increment(FilterCounter c) {
        counts.get(c).increment();
    }

    public void add(FilterCounter c, long n) {
        counts.get(c).add(n);
    }

    public long get(FilterCounter c) {
        return counts.get(c).sum();
    }

    /**
     * Replicated attribute values that could not be deserialized here, by the class of the value
     * as written (at most {@value ClassCounts#MAX_NAMES} classes, then {@link ClassCounts#OTHER}).
     */
    public Map<String, Long> deserializeFailuresByClass() {
        return deserializeFailuresByClass.snapshot();
    }

    /** {@link FilterCounter#REFUSED_ATTRIBUTES} by the class refused. */
    public Map<String, Long> refusedAttributesByClass() {
        return refusedByClass.snapshot();
    }

    /** All counters by name, and the gauges of the filter they belong to, for logging or a metrics bridge. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (FilterCounter c : FilterCounter.values()) {
            m.put(c.key(), get(c));
        }
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
