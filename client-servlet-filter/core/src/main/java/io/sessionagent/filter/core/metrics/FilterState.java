package io.sessionagent.filter.core.metrics;

/** What the filter's gauges read, when a scrape or a JMX client asks. */
public interface FilterState {
    /** Sessions in this node's local cache. */
    int localSessionCount();

    /** Whether the agent is gone and sessions are served locally only. */
    boolean agentDown();

    /** Writes handed to the agent and not answered yet. */
    int pendingWrites();

    /** How long the oldest write not answered by the agent has waited, in ms; 0 when none waits. */
    long replicationLagMs();
}
