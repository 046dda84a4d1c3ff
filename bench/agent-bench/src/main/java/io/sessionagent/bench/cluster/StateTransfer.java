package io.sessionagent.bench.cluster;

import io.micrometer.core.instrument.Timer;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.metrics.MeterCatalogue;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A member holding {@code sessions} × 1 KB; a second agent joins and pulls them by state
 * transfer. Heap is read from the JVM after full collections before and after each agent fills,
 * so each figure is what that agent's table retains (the agents share the JVM; the difference is
 * the one that filled).
 */
final class StateTransfer {
    record Result(int sessions, long payloadBytes, double joinToReadyMs, double transferMs,
                  long originHeapBytes, long replicaHeapBytes) {
        double originHeapRatio() {
            return (double) originHeapBytes / payloadBytes;
        }

        double replicaHeapRatio() {
            return (double) replicaHeapBytes / payloadBytes;
        }
    }

    private StateTransfer() {
    }

    static Result run(Random random, int sessions) throws Exception {
        try (LocalAgents agents = new LocalAgents("bench-" + Long.toHexString(random.nextLong()), random)) {
            Agent origin = agents.start("holder");
            LocalAgents.awaitReady(origin, 30_000);
            long beforeFill = retainedHeap();
            Writer writer = new Writer(origin, "st", sessions, 1024);
            for (int i = 0; i < sessions; i++) {
                writer.write(false);
            }
            long afterFill = retainedHeap();
            if (origin.table().liveCount() != sessions) {
                throw new IllegalStateException("holder has " + origin.table().liveCount() + " sessions");
            }

            long t0 = System.nanoTime();
            Agent joiner = agents.start("joiner");
            LocalAgents.awaitReady(joiner, 120_000);
            double joinToReadyMs = (System.nanoTime() - t0) / 1e6;
            if (joiner.table().liveCount() != sessions) {
                throw new IllegalStateException("joiner is ready with " + joiner.table().liveCount() + " of "
                        + sessions + " sessions");
            }
            Timer transfer = joiner.meterRegistry().find(MeterCatalogue.STATE_TRANSFER_DURATION.name()).timer();
            if (transfer == null || transfer.count() != 1) {
                throw new IllegalStateException("the joiner did not record one state transfer");
            }
            long afterJoin = retainedHeap();
            long payload = (long) sessions * 1024;
            return new Result(sessions, payload, joinToReadyMs, transfer.totalTime(TimeUnit.MILLISECONDS),
                    afterFill - beforeFill, afterJoin - afterFill);
        }
    }

    /** Heap in use after full collections: what is reachable. */
    static long retainedHeap() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
