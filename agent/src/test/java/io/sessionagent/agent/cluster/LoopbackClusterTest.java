package io.sessionagent.agent.cluster;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.SessionClient;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.WriteOutcome;
import io.sessionagent.proto.v1.WriteResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three agents in this JVM on a loopback multicast group, talking real gRPC and real UDP. How fast
 * members are dropped is timed in {@link MemberDepartureTest}, alone.
 */
@Execution(ExecutionMode.CONCURRENT)
class LoopbackClusterTest {
    private final TestCluster cluster = new TestCluster("loopback-" + System.nanoTime());

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private List<Agent> startThree() throws Exception {
        return cluster.startReady("node-a", "node-b", "node-c");
    }

    @Test
    void aWriteOnOneAgentIsOnAll() throws Exception {
        List<Agent> agents = startThree();
        SessionClient client = cluster.client(agents.get(0));
        byte[] value = "cart:3 items".getBytes(StandardCharsets.UTF_8);
        long v1 = client.put("sessionAAAAAAAAAAAAAAAAAAAA", 0, "cart", value);
        long v2 = client.put("sessionAAAAAAAAAAAAAAAAAAAA", v1, "user", "alice".getBytes(StandardCharsets.UTF_8));

        for (Agent replica : agents.subList(1, 3)) {
            Eventually.await(Duration.ofSeconds(5), () -> replica.table().get("sessionAAAAAAAAAAAAAAAAAAAA")
                    .map(SessionRecord::getVersion).orElse(0L) == v2, () -> "version " + v2 + " on a replica");
            SessionRecord r = cluster.client(replica).get("sessionAAAAAAAAAAAAAAAAAAAA").getSession();
            assertThat(r.getAttributesList()).hasSize(2);
            assertThat(r.getAttributesList().stream().filter(x -> x.getName().equals("cart")).findFirst()
                    .orElseThrow().getValue().toByteArray()).isEqualTo(value);
            assertThat(r.getWriter()).isEqualTo(agents.get(0).memberId());
        }
    }

    @Test
    void syncWriteIsAcknowledgedByEveryReplica() throws Exception {
        List<Agent> agents = startThree();
        WriteResponse r = cluster.client(agents.get(1)).write("syncSession0000000000000000", 0, "k",
                new byte[100], Durability.DURABILITY_SYNC_ALL);
        assertThat(r.getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_REPLICATED);
        assertThat(r.getAcks()).isEqualTo(2);
        // Acknowledged means applied: no waiting needed on the replicas.
        for (Agent x : agents) {
            assertThat(x.table().get("syncSession0000000000000000")).isPresent();
        }
    }

    @Test
    void aLateJoinerGetsTenThousandSessionsThenLiveWrites() throws Exception {
        Agent a = cluster.start("node-a");
        Agent b = cluster.start("node-b");
        a.replicator().ready().get(10, TimeUnit.SECONDS);
        b.replicator().ready().get(10, TimeUnit.SECONDS);
        SessionClient client = cluster.client(a);
        client.createAll(10_000, i -> String.format("late%024d", i), "payload", i -> {
            byte[] kb = new byte[1024];
            Arrays.fill(kb, (byte) i);
            return kb;
        });
        Eventually.await(Duration.ofSeconds(20), () -> b.table().liveCount() == 10_000, () -> "10,000 on node-b");

        Agent c = cluster.start("node-c");
        c.replicator().ready().get(30, TimeUnit.SECONDS);
        assertThat(c.counter(Counter.STATE_TRANSFERS)).isEqualTo(1);
        assertThat(c.table().liveCount()).isEqualTo(10_000);
        assertThat(c.table().tableHash()).isEqualTo(a.table().tableHash());

        long v = client.put("afterJoin0000000000000000", 0, "k", new byte[] {42});
        Eventually.await(Duration.ofSeconds(5), () -> c.table().get("afterJoin0000000000000000")
                .map(SessionRecord::getVersion).orElse(0L) == v, () -> "a live write reaches the joiner");
        Optional<SessionRecord> sample = c.table().get(String.format("late%024d", 1234));
        assertThat(sample).isPresent();
        assertThat(sample.get().getAttributes(0).getValue().byteAt(0)).isEqualTo((byte) 1234);
    }

    @Test
    void aJoinerHearsTheReadyMembersAtOnceNotAtTheirNextHeartbeat() throws Exception {
        // Heartbeats far apart: a joiner that waited for the next one would pass join-wait alone
        // and start an empty table beside the cluster's.
        Map<String, String> slow = Map.of("heartbeat-interval", "10s", "failure-timeout", "30s");
        Agent a = cluster.start("node-a", slow);
        a.replicator().ready().get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 50; i++) {
            cluster.client(a).put(String.format("early%023d", i), 0, "k", new byte[] {(byte) i});
        }
        Agent b = cluster.start("node-b", slow);
        b.replicator().ready().get(10, TimeUnit.SECONDS);
        assertThat(b.counter(Counter.STATE_TRANSFERS)).isEqualTo(1);
        assertThat(b.table().liveCount()).isEqualTo(50);
        assertThat(b.replicator().view().members()).extracting(m -> m.nodeName()).containsExactly("node-a");
    }

    @Test
    void twoProcessesWithOneNodeNameAreReportedAndKeptApart() throws Exception {
        Agent first = cluster.start("same-name");
        Agent second = cluster.start("same-name");
        first.replicator().ready().get(10, TimeUnit.SECONDS);
        second.replicator().ready().get(10, TimeUnit.SECONDS);
        Eventually.await(Duration.ofSeconds(5), () -> first.counter(Counter.FRAMES_DROPPED_DUPLICATE_MEMBER) > 0
                && second.counter(Counter.FRAMES_DROPPED_DUPLICATE_MEMBER) > 0, () -> "both notice the clash");
        // Neither takes the other for a member: a clash must not look like a healthy cluster.
        assertThat(first.replicator().view().members()).isEmpty();
        assertThat(second.replicator().view().members()).isEmpty();
    }

    @Test
    void twoAgentsStartedAtTheSameMomentBothComeUp() throws Exception {
        Agent[] started = new Agent[2];
        Thread t = new Thread(() -> {
            try {
                started[1] = cluster.start("twin-b");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        started[0] = cluster.start("twin-a");
        t.join();
        started[0].replicator().ready().get(5, TimeUnit.SECONDS);
        started[1].replicator().ready().get(5, TimeUnit.SECONDS);
        long v = cluster.client(started[0]).put("twinSession00000000000000", 0, "k", new byte[] {1});
        Eventually.await(Duration.ofSeconds(5), () -> started[1].table().get("twinSession00000000000000")
                .map(SessionRecord::getVersion).orElse(0L) == v, () -> "replicated between twins");
    }
}
