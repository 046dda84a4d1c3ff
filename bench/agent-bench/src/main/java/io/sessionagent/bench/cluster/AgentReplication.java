package io.sessionagent.bench.cluster;

import io.sessionagent.agent.Agent;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ReplicatedDelta;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Agent A commits 1 KB deltas, agent B (in the same JVM, over real loopback multicast) applies
 * them. B's table tells the harness of each apply as it happens, so both the rate and the lag
 * (origin commit to replica apply, one {@code nanoTime} clock) are exact.
 */
final class AgentReplication implements AutoCloseable {
    /** Deltas written but not yet applied on B: the writer's flow control, as JGroups has MFC. */
    private static final int WINDOW = 4_096;

    private final LocalAgents agents;
    private final Agent origin;
    private final Agent replica;
    private final Writer writer;
    private final AtomicLong applied = new AtomicLong();
    /** Lag samples in ns, written by B's protocol thread while {@code recording}. */
    private volatile long[] lags = new long[0];
    private volatile boolean recording;
    private int lagCount;

    AgentReplication(Random random, int sessions, Map<String, String> overrides) throws Exception {
        agents = new LocalAgents("bench-" + Long.toHexString(random.nextLong()), random, overrides);
        origin = agents.start("origin");
        LocalAgents.awaitReady(origin, 30_000);
        replica = agents.start("replica");
        LocalAgents.awaitReady(replica, 30_000);
        LocalAgents.awaitPeer(origin, replica, 10_000);
        replica.table().observeReplicatedApplies(this::onApplied);
        writer = new Writer(origin, "s", sessions, 1024);
    }

    private void onApplied(ReplicatedDelta d) {
        if (recording && d.getSetCount() == 1) {
            Attribute a = d.getSet(0);
            long lag = System.nanoTime() - Writer.committedAt(a.getValue());
            long[] l = lags;
            if (lagCount < l.length) {
                l[lagCount++] = lag;
            }
        }
        // Last: the harness reads lagCount after seeing this count, which orders the writes above.
        applied.incrementAndGet();
    }

    /** Writes as fast as the window lets for {@code ms}; deltas applied on B per second. */
    Throughput maxRate(long warmupMs, long ms) throws InterruptedException {
        blast(warmupMs);
        Throughput.Window w = Throughput.start(applied.get());
        blast(ms);
        return w.end(applied.get());
    }

    /** Deltas applied on B so far. */
    long applied() {
        return applied.get();
    }

    private void blast(long ms) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        long written = applied.get();
        while (System.nanoTime() < end) {
            if (written - applied.get() >= WINDOW) {
                LockSupport.parkNanos(20_000);
                continue;
            }
            writer.write(true);
            written++;
        }
        drain(written, 10_000);
    }

    private void drain(long written, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (applied.get() < written) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("replica applied " + applied.get() + " of " + written
                        + " deltas within " + timeoutMs + " ms");
            }
            Thread.sleep(1);
        }
    }

    /** Lag percentiles of what B applied while A wrote at {@code ratePerSecond}, paced, for {@code ms}. */
    Percentiles lagAt(double ratePerSecond, long ms) throws InterruptedException {
        long count = Math.max(1, Math.round(ratePerSecond * ms / 1000.0));
        long base = applied.get();
        lags = new long[(int) count];
        lagCount = 0;
        recording = true;
        long periodNs = Math.round(1e9 / ratePerSecond);
        long start = System.nanoTime();
        for (long i = 0; i < count; i++) {
            long due = start + i * periodNs;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                // Behind schedule the writer catches up at once, as arriving requests would.
                LockSupport.parkNanos(wait);
            }
            writer.write(true);
        }
        drain(base + count, 10_000);
        recording = false;
        long[] samples = Arrays.copyOf(lags, lagCount);
        return Percentiles.of(samples);
    }

    @Override
    public void close() {
        agents.close();
    }
}
