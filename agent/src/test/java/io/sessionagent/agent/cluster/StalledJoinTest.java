package io.sessionagent.agent.cluster;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.agent.transport.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A joining agent whose JVM stalls right after start (starved of CPU after a restart on a loaded
 * machine) finds, when it runs again, that join-wait has passed on the clock although it has
 * handled nothing: the overdue protocol tick runs before the heartbeats queued behind it. It must
 * not take that for an empty cluster, report ready with an empty table while the cluster holds
 * sessions, and have a failover to it find none. The stall is played by the agent's clock, which
 * jumps 5 s ahead the moment the join starts.
 */
class StalledJoinTest {
    private static final int SESSIONS = 200;
    private static final long STALL_MS = 5_000;

    private final TestCluster cluster = new TestCluster("stalled-" + System.nanoTime());
    private Agent late;

    @AfterEach
    void tearDown() {
        if (late != null) {
            late.close();
        }
        cluster.close();
    }

    @Test
    void aJoinerWhoseClockRanAheadWhileItHandledNothingStillTakesTheTable() throws Exception {
        Agent first = cluster.start("first");
        first.replicator().ready().get(10, TimeUnit.SECONDS);
        for (int i = 0; i < SESSIONS; i++) {
            cluster.client(first).put(String.format("stall%016d", i), 0, "k", new byte[] {(byte) i});
        }

        Map<String, String> settings = new HashMap<>(cluster.settings());
        settings.put("node-name", "late");
        AtomicLong stall = new AtomicLong();
        // The join start is recorded just before the first heartbeat goes out: the jump comes after it.
        late = new Agent(AgentConfig.fromMap(settings), () -> System.currentTimeMillis() + stall.get(),
                c -> new JumpOnFirstSend(TestCluster.multicast(c), () -> stall.set(STALL_MS)));
        late.start();
        // Read on the thread that turns the agent ready, at that moment (the join takes far longer
        // than registering this; were it already ready, the count would be read now, still before
        // this agent could have heard of the other and pulled anything by anti-entropy).
        CompletableFuture<Long> heldAtReady = late.replicator().ready().thenApply(v -> late.table().liveCount());

        assertThat(heldAtReady.get(10, TimeUnit.SECONDS)).as("sessions held the moment it was ready")
                .isEqualTo((long) SESSIONS);
        assertThat(late.counter(Counter.STATE_TRANSFERS)).isEqualTo(1);
    }

    /** Runs an action just before the first datagram is sent, then passes everything through. */
    private static final class JumpOnFirstSend implements Transport {
        private final Transport delegate;
        private Runnable onFirstSend;

        JumpOnFirstSend(Transport delegate, Runnable onFirstSend) {
            this.delegate = delegate;
            this.onFirstSend = onFirstSend;
        }

        @Override
        public void start(Receiver receiver) throws Exception {
            delegate.start(receiver);
        }

        @Override
        public java.util.Optional<java.util.concurrent.ScheduledExecutorService> ioLoop() {
            return delegate.ioLoop();
        }

        @Override
        public synchronized void send(byte[] datagram) {
            if (onFirstSend != null) {
                onFirstSend.run();
                onFirstSend = null;
            }
            delegate.send(datagram);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
