package io.sessionagent.filter.core.metrics;

/**
 * The one catalogue of the filter's counters: each is declared here once, with the name it has in
 * {@link FilterCounters#snapshot()} (and, after {@code session_filter.}, as a Micrometer meter),
 * its JMX attribute, its unit and its meaning. The JMX view, the meters and the check of the
 * documentation are all read from it, so a counter cannot exist on one side only.
 */
public enum FilterCounter {
    SERIALIZE_NANOS("serialize.nanos", "SerializeTimeNanos", "nanoseconds", "Total time spent serializing attribute values"),
    SERIALIZATIONS("serializations", "Serializations", "values", "Attribute values serialized"),
    DELTAS_SENT("deltas.sent", "DeltasSent", "deltas", "Deltas the agent accepted"),
    DELTA_BYTES("delta.bytes", "DeltaBytes", "bytes", "Serialized attribute bytes in the deltas the agent accepted"),
    SKIPPED_ATTRIBUTES("attributes.skipped", "SkippedAttributes", "attributes", "Attribute values not replicated: not serializable, larger than max-attribute-bytes, or holding a class the allowed-classes init-param does not allow"),
    DESERIALIZE_FAILURES("attributes.deserialize_failures", "DeserializeFailures", "attributes", "Replicated attribute values that could not be deserialized on this node"),
    REFUSED_ATTRIBUTES("attributes.refused", "RefusedAttributes", "attributes", "Attribute values holding a class the allowed-classes init-param does not allow: not sent, or from the agent and left out"),
    AGENT_ERRORS("agent.errors", "AgentErrors", "calls", "Agent calls that failed: agent down, deadline passed, or refused"),
    AGENT_CALLS_SKIPPED("agent.calls_skipped", "AgentCallsSkipped", "calls", "Agent calls not attempted because the agent failed recently (backoff)"),
    FAILOVER_RESTORES("failover.restores", "FailoverRestores", "sessions", "Sessions this node did not hold, restored from the agent"),
    FAILOVER_MISSES("failover.misses", "FailoverMisses", "sessions", "Unknown session ids the agent did not hold either"),
    FAILOVER_UNAVAILABLE("failover.unavailable", "FailoverUnavailable", "requests", "Requests answered 503 because the agent could not be asked about a session this node does not hold"),
    TOUCHES_SENT("touches.sent", "TouchesSent", "touches", "Pure accesses sent to the agent"),
    SESSIONS_CREATED("sessions.created", "SessionsCreated", "sessions", "Sessions created on this node"),
    SESSIONS_EXPIRED("sessions.expired", "SessionsExpired", "sessions", "Sessions dropped from the local cache by inactivity"),
    WRITE_CONFLICTS("writes.conflicts", "WriteConflicts", "writes", "Writes the agent refused because its version differed (the session was resent whole)"),
    CACHE_EVICTIONS("cache.evictions", "CacheEvictions", "sessions", "Sessions moved out of the local cache past max-local-sessions (they stay at the agent)"),
    CACHE_MISSES("cache.misses", "CacheMisses", "sessions", "Evicted sessions fetched back from the agent by their next request"),
    WRITES_COALESCED("writes.coalesced", "WritesCoalesced", "writes", "Changes merged into their session's write that had not left for the agent yet"),
    WRITES_NOT_REPLICATED("writes.not_replicated", "WritesNotReplicated", "writes", "Changes the agent never took: made while it was unreachable, or on their way when the write stream broke (their sessions go whole to it once it answers again)"),
    WRITES_UNCONFIRMED("writes.unconfirmed", "WritesUnconfirmed", "writes", "Changes the agent applied but no replica acknowledged within sync-timeout"),
    STREAM_FAILURES("agent.stream_failures", "StreamFailures", "streams", "Write streams to the agent that ended with an error (the agent was gone)"),
    BACKPRESSURE_WAITS("backpressure.waits", "BackpressureWaits", "requests", "Async requests that waited because replication was behind max-replication-lag"),
    BACKPRESSURE_TIMEOUTS("backpressure.timeouts", "BackpressureTimeouts", "requests", "Requests whose wait for the agent reached agent-timeout; they went on and the write stayed in flight");

    /** The meter name prefix; {@link #SERIALIZE_NANOS} and {@link #SERIALIZATIONS} form one timer instead. */
    static final String METER_PREFIX = "session_filter.";

    private final String key;
    private final String attribute;
    private final String baseUnit;
    private final String description;

    FilterCounter(String key, String attribute, String baseUnit, String description) {
        this.key = key;
        this.attribute = attribute;
        this.baseUnit = baseUnit;
        this.description = description;
    }

    /** The name in {@link FilterCounters#snapshot()}, e.g. {@code deltas.sent}. */
    public String key() {
        return key;
    }

    /** The JMX attribute, e.g. {@code DeltasSent}. */
    public String attribute() {
        return attribute;
    }

    /** What one count is: its Micrometer base unit, also named in the JMX description. */
    public String baseUnit() {
        return baseUnit;
    }

    public String description() {
        return description;
    }

    /** Whether it is published as a function counter of its own (the serialize pair is a timer). */
    boolean ownMeter() {
        return this != SERIALIZE_NANOS && this != SERIALIZATIONS;
    }

    /** The Micrometer meter of a counter that has one of its own. */
    String meter() {
        return METER_PREFIX + key;
    }
}
