package io.sessionagent.bench.http.harness;

import java.util.Map;

/**
 * One configuration's measurement at one connection count; {@code replica} is null for a
 * configuration that does not replicate; {@code filter} (node 1's filter counters over the measured
 * run) and {@code agent2} (agent 2's counters over the measured run and the settle time) are null
 * for one without the filter.
 */
record Result(Configuration config, int connections, Wrk.Load load, ReplicaCheck.Outcome replica, FilterStatus filter,
              AgentMetrics agent2, Map<String, Long> cpuMillisByProcess) {

    /**
     * Writes the agent accepted from node 1's filter less the deltas agent 2 applied: 0 when each
     * write reached node 2; null without the filter.
     */
    Long notApplied() {
        return filter == null || agent2 == null ? null : filter.deltasSent() - agent2.deltasApplied();
    }

    /**
     * Requests node 1 answered with 200 in the measured run: each one wrote its session (every
     * request of the benchmark is a write), so node 1 made at least this many writes.
     */
    long httpWrites() {
        return load.requests() - load.badResponses();
    }

    /**
     * Whether every write was replicated: agent 2 applied as many deltas as the filter's agent
     * accepted, those deltas and the changes coalesced into them cover every request answered, and
     * no agent call failed or was skipped, no write stream failed and the filter counted no write as
     * not replicated. Null without the filter.
     */
    Boolean everyWriteReplicated() {
        Long d = notApplied();
        return d == null ? null : d == 0 && agent2.deltasApplied() + filter.coalesced() >= httpWrites()
                && filter.errors() == 0 && filter.streamFailures() == 0 && filter.notReplicated() == 0;
    }

    /** Agent 2's replication lag p99 (upper bound of its histogram bucket) in ms; NaN without the filter or lags. */
    double lagP99Ms() {
        return agent2 == null ? Double.NaN : agent2.lagP99Seconds() * 1000;
    }

    long cpuMillis() {
        return cpuMillisByProcess.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Each JVM's share, e.g. {@code node1 310, agent1 180}, in µs per request. */
    String cpuBreakdown() {
        StringBuilder sb = new StringBuilder();
        cpuMillisByProcess.forEach((name, ms) -> sb.append(sb.length() == 0 ? "" : ", ").append(name).append(' ')
                .append(load.requests() == 0 ? 0 : Math.round(ms * 1000.0 / load.requests())));
        return sb.toString();
    }

    /** CPU time of every server JVM of the configuration (app servers and agents) per request, in µs. */
    double cpuMicrosPerRequest() {
        return load.requests() == 0 ? Double.NaN : cpuMillis() * 1000.0 / load.requests();
    }

    double rps() {
        return load.requestsPerSecond();
    }

    double p99Ms() {
        return load.p99Us() / 1000.0;
    }

    double p50Ms() {
        return load.p50Us() / 1000.0;
    }
}
