package io.sessionagent.bench.http.harness;

import java.util.Map;

/**
 * One configuration's measurement at one connection count; {@code replica} is null for a
 * configuration that does not replicate, {@code filter} (node 1's filter counters over the measured
 * run) for one without the filter.
 */
record Result(Configuration config, int connections, Wrk.Load load, ReplicaCheck.Outcome replica, FilterStatus filter,
              Map<String, Long> cpuMillisByProcess) {
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
