package io.sessionagent.bench.http.harness;

/**
 * One configuration's measurement; {@code replica} is null for a configuration that does not
 * replicate, {@code filter} (node 1's filter counters over the measured run) for one without the filter.
 */
record Result(Configuration config, Wrk.Load load, ReplicaCheck.Outcome replica, FilterStatus filter,
              long cpuMillis) {
    /** CPU time of every server JVM of the configuration (app servers and agents) per request, in µs. */
    double cpuMicrosPerRequest() {
        return load.requests() == 0 ? Double.NaN : cpuMillis * 1000.0 / load.requests();
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
