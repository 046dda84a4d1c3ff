package io.sessionagent.bench.cluster;

import java.util.Arrays;

/** Exact percentiles of a set of nanosecond samples (all kept and sorted: no histogram error). */
record Percentiles(int samples, double p50Ms, double p99Ms, double p999Ms, double maxMs) {
    static Percentiles of(long[] ns) {
        if (ns.length == 0) {
            throw new IllegalStateException("no samples");
        }
        long[] s = ns.clone();
        Arrays.sort(s);
        return new Percentiles(s.length, at(s, 0.50), at(s, 0.99), at(s, 0.999), s[s.length - 1] / 1e6);
    }

    /** Nearest rank. */
    private static double at(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, rank - 1)] / 1e6;
    }
}
