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
    /** A run left deltas unapplied on B: repaired whole instead (anti-entropy), so not counted. */
    private boolean incomplete;

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

    /** The agents' counters that tell loss and repair apart, for a profile run's output. */
    String repairCounters() {
        StringBuilder sb = new StringBuilder();
        for (Agent a : new Agent[] {origin, replica}) {
            Map<String, Long> c = a.counters().snapshotByName();
            sb.append(a == origin ? "origin" : "replica");
            for (String name : new String[] {"frames.sent", "frames.received", "frames.dropped.overload",
                    "naks.sent", "naks.received", "retransmits.sent", "gone.sent", "gaps.unrecoverable", "acks.sent",
                    "members.failed"}) {
                sb.append(' ').append(name).append('=').append(c.get(name));
            }
            sb.append('\n');
        }
        return sb.toString();
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
        if (!drain(written, 10_000)) {
            incomplete = true;
        }
    }

    /** @return false when B did not apply every delta written within the time */
    private boolean drain(long written, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (applied.get() < written) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /**
     * Whether some run ended with deltas B never applied as deltas: under saturation the origin can
     * drop B from its view (its socket full of its own looped-back datagrams, B's heartbeats lost
     * among them) and free what B still lacked, which B then repairs by anti-entropy.
     */
    boolean incomplete() {
        return incomplete;
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
        if (!drain(base + count, 10_000)) {
            incomplete = true;
        }
        recording = false;
        long[] samples = Arrays.copyOf(lags, lagCount);
        return Percentiles.of(samples);
    }

    @Override
    public void close() {
        agents.close();
    }
}
