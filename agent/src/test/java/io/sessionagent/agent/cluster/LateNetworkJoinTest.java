package io.sessionagent.agent.cluster;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.agent.testing.SwitchableTransport;
import io.sessionagent.agent.testing.TestCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An agent whose datagrams do not flow yet when it starts (a starved JVM that has not handled a
 * datagram, an interface still coming up) must not take the silence for an empty cluster: it
 * would report ready with an empty table while the cluster holds sessions, and a failover to it
 * would find none. The join-wait counts only from the first of its own heartbeats heard back.
 */
class LateNetworkJoinTest {
    private static final int SESSIONS = 200;

    private final Map<String, SwitchableTransport> transports = new ConcurrentHashMap<>();
    private final TestCluster cluster = new TestCluster(Networks.loopbackCluster("late-" + System.nanoTime()), c -> {
        SwitchableTransport t = new SwitchableTransport(TestCluster.multicast(c));
        if (c.nodeName().equals("late")) {
            t.cut(); // from before its first datagram
        }
        transports.put(c.nodeName(), t);
        return t;
    });

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    @Test
    void anAgentThatHearsNothingAtFirstWaitsAndTakesTheTableOnceItHears() throws Exception {
        Agent first = cluster.start("first");
        first.replicator().ready().get(10, TimeUnit.SECONDS);
        for (int i = 0; i < SESSIONS; i++) {
            cluster.client(first).put(String.format("late%016d", i), 0, "k", new byte[] {(byte) i});
        }

        Agent late = cluster.start("late");
        // What the table holds at the very moment the agent turns ready, read on the thread that turns it.
        CompletableFuture<Long> heldAtReady = late.replicator().ready().thenApply(v -> late.table().liveCount());
        // Three join-waits (800 ms each) of silence: before, the agent would have started its own table.
        Thread.sleep(2_400);
        assertThat(heldAtReady).as("ready while it has heard nothing, not even itself").isNotDone();

        transports.get("late").heal();
        assertThat(heldAtReady.get(10, TimeUnit.SECONDS)).as("sessions held when ready").isEqualTo((long) SESSIONS);
        assertThat(late.counter(Counter.STATE_TRANSFERS)).isEqualTo(1);
        assertThat(late.counter(Counter.STATE_TRANSFER_TIMEOUTS)).isZero();
    }
}
