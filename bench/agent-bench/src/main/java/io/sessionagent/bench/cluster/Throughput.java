package io.sessionagent.bench.cluster;

import java.lang.management.ManagementFactory;

/**
 * Messages per second over a window, and the CPU the whole process spent per message in it
 * (senders, receivers, GC). The CPU figure barely moves when other processes compete for the
 * cores, where the rate does: on a shared machine it is the steadier comparison.
 */
record Throughput(double perSecond, double cpuMicrosPerMessage) {
    /** Starts a window: note the clock and the process CPU time now. */
    static Window start(long countNow) {
        return new Window(System.nanoTime(), processCpuNanos(), countNow);
    }

    record Window(long startNanos, long startCpuNanos, long startCount) {
        Throughput end(long countNow) {
            long n = countNow - startCount;
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            double cpuMicros = (processCpuNanos() - startCpuNanos) / 1e3;
            return new Throughput(n / seconds, n == 0 ? Double.NaN : cpuMicros / n);
        }
    }

    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        throw new IllegalStateException("this JVM does not report its CPU time");
    }
}
