package io.sessionagent.bench.http.harness;

/** One configuration's measurement; {@code replica} is null for a configuration that does not replicate. */
record Result(Configuration config, Wrk.Load load, ReplicaCheck.Outcome replica) {
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
