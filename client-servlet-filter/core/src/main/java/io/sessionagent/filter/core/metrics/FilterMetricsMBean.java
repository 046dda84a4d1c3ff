package io.sessionagent.filter.core.metrics;

import java.util.Map;

/**
 * The JMX view of one filter instance: every counter of {@link FilterCounters} and the gauges of
 * {@link FilterState}, read when asked. Registered as
 * {@code io.sessionagent.filter:type=SessionReplicationFilter,context=<context path or ROOT>,name=<filter name>}.
 */
public interface FilterMetricsMBean {
    long getSerializeTimeNanos();

    long getSerializations();

    long getDeltasSent();

    long getDeltaBytes();

    long getSkippedAttributes();

    long getDeserializeFailures();

    /** Class name of the value as written to its count, sorted by name. */
    Map<String, Long> getDeserializeFailuresByClass();

    long getRefusedAttributes();

    /** Class name refused to its count, sorted by name. */
    Map<String, Long> getRefusedAttributesByClass();

    long getAgentErrors();

    long getAgentCallsSkipped();

    long getFailoverRestores();

    long getFailoverMisses();

    long getFailoverUnavailable();

    long getCacheEvictions();

    long getCacheMisses();

    long getTouchesSent();

    long getSessionsCreated();

    long getSessionsExpired();

    long getWriteConflicts();

    long getWritesCoalesced();

    long getWritesNotReplicated();

    long getWritesUnconfirmed();

    long getStreamFailures();

    long getBackpressureWaits();

    long getBackpressureTimeouts();

    int getLocalSessions();

    int getAgentDown();

    int getPendingWrites();

    long getReplicationLagMillis();
}
