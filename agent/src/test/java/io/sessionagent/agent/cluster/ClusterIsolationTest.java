package io.sessionagent.agent.cluster;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.WriteOutcome;
import io.sessionagent.proto.v1.WriteResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two clusters that differ only in {@code cluster-name} share one multicast group and port: each
 * hears every datagram of the other and must drop it, so that neither sessions nor members cross.
 */
@Execution(ExecutionMode.CONCURRENT)
class ClusterIsolationTest {
    private static final int SESSIONS = 200;

    private final Map<String, String> settingsA = Networks.loopbackCluster("shop-a-" + System.nanoTime());
    private final Map<String, String> settingsB = withName(settingsA, "shop-b-" + System.nanoTime());
    private final TestCluster clusterA = new TestCluster(settingsA);
    private final TestCluster clusterB = new TestCluster(settingsB);

    private static Map<String, String> withName(Map<String, String> settings, String clusterName) {
        Map<String, String> m = new HashMap<>(settings);
        m.put("cluster-name", clusterName);
        return m;
    }

    @AfterEach
    void tearDown() {
        clusterA.close();
        clusterB.close();
    }

    private static Set<Long> memberIds(Agent agent) {
        return agent.replicator().view().members().stream().map(m -> m.id()).collect(Collectors.toSet());
    }

    private static String id(String prefix, int i) {
        return String.format("%s%024d", prefix, i);
    }

    @Test
    void twoClustersOnOneGroupAndPortNeverSeeEachOthersSessionsOrMembers() throws Exception {
        assertThat(settingsB.get("multicast-group")).isEqualTo(settingsA.get("multicast-group"));
        assertThat(settingsB.get("multicast-port")).isEqualTo(settingsA.get("multicast-port"));

        Agent a1 = clusterA.start("a1");
        Agent a2 = clusterA.start("a2");
        Agent b1 = clusterB.start("b1");
        Agent b2 = clusterB.start("b2");
        List<Agent> all = List.of(a1, a2, b1, b2);
        for (Agent x : all) {
            x.replicator().ready().get(15, TimeUnit.SECONDS);
        }
        Eventually.await(Duration.ofSeconds(5), () -> memberIds(a1).equals(Set.of(a2.memberId()))
                && memberIds(a2).equals(Set.of(a1.memberId())) && memberIds(b1).equals(Set.of(b2.memberId()))
                && memberIds(b2).equals(Set.of(b1.memberId())), () -> "each agent sees its partner only");

        // Writes on both sides at once, each through one agent of its cluster.
        byte[] value = "cart".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < SESSIONS; i++) {
            clusterA.client(a1).put(id("ssA", i), 0, "cart", value);
            clusterB.client(b2).put(id("ssB", i), 0, "cart", value);
        }
        // Synchronous writes wait for every replica: one each, never an agent of the other cluster.
        WriteResponse syncA = clusterA.client(a2).write(id("syA", 0), 0, "k", value, Durability.DURABILITY_SYNC_ALL);
        WriteResponse syncB = clusterB.client(b1).write(id("syB", 0), 0, "k", value, Durability.DURABILITY_SYNC_ALL);
        assertThat(syncA.getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_REPLICATED);
        assertThat(syncA.getAcks()).isEqualTo(1);
        assertThat(syncB.getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_REPLICATED);
        assertThat(syncB.getAcks()).isEqualTo(1);

        Eventually.await(Duration.ofSeconds(10), () -> all.stream().allMatch(x -> x.table().liveCount() == SESSIONS + 1),
                () -> "each agent holds its own cluster's " + (SESSIONS + 1) + " sessions");
        // A late joiner of cluster B is sent cluster B's table by state transfer, nothing else.
        Agent b3 = clusterB.start("b3");
        b3.replicator().ready().get(15, TimeUnit.SECONDS);
        Eventually.await(Duration.ofSeconds(5), () -> b3.table().liveCount() == SESSIONS + 1
                && memberIds(b1).equals(Set.of(b2.memberId(), b3.memberId())), () -> "b3 joined cluster B");
        long foreignBefore = a1.counter(Counter.FRAMES_DROPPED_FOREIGN_CLUSTER);
        // Time for heartbeats, anti-entropy rounds and retransmissions of both clusters to cross.
        Thread.sleep(2_000);

        for (Agent x : List.of(a1, a2)) {
            assertThat(x.table().liveCount()).as("sessions at %s", x.memberId()).isEqualTo(SESSIONS + 1);
            assertThat(x.table().get(id("syB", 0))).isEmpty();
            for (int i = 0; i < SESSIONS; i++) {
                assertThat(x.table().get(id("ssA", i))).isPresent();
                assertThat(x.table().get(id("ssB", i))).isEmpty();
            }
        }
        for (Agent x : List.of(b1, b2, b3)) {
            assertThat(x.table().liveCount()).as("sessions at %s", x.memberId()).isEqualTo(SESSIONS + 1);
            assertThat(x.table().get(id("syA", 0))).isEmpty();
            for (int i = 0; i < SESSIONS; i++) {
                assertThat(x.table().get(id("ssB", i))).isPresent();
                assertThat(x.table().get(id("ssA", i))).isEmpty();
            }
        }
        assertThat(memberIds(a1)).containsExactly(a2.memberId());
        assertThat(memberIds(a2)).containsExactly(a1.memberId());
        assertThat(memberIds(b1)).containsExactlyInAnyOrder(b2.memberId(), b3.memberId());
        assertThat(memberIds(b2)).containsExactlyInAnyOrder(b1.memberId(), b3.memberId());
        assertThat(memberIds(b3)).containsExactlyInAnyOrder(b1.memberId(), b2.memberId());
        // Each agent hears the other cluster's datagrams on the shared group and drops them as
        // foreign; the count goes on growing with the other cluster's heartbeats.
        for (Agent x : List.of(a1, a2, b1, b2, b3)) {
            assertThat(x.counter(Counter.FRAMES_DROPPED_FOREIGN_CLUSTER)).as("foreign drops at %s", x.memberId())
                    .isPositive();
        }
        assertThat(a1.counter(Counter.FRAMES_DROPPED_FOREIGN_CLUSTER)).isGreaterThan(foreignBefore);
        // Nothing was mistaken for malformed or from another protocol version.
        for (Agent x : List.of(a1, a2, b1, b2, b3)) {
            assertThat(x.counter(Counter.FRAMES_DROPPED_MALFORMED)).isZero();
        }
    }

    @Test
    void theSameNodeNamesInTwoClustersAreNotMistakenForDuplicates() throws Exception {
        // Two environments deployed from one template name their nodes alike.
        Agent a1 = clusterA.start("app1");
        Agent a2 = clusterA.start("app2");
        Agent b1 = clusterB.start("app1");
        Agent b2 = clusterB.start("app2");
        List<Agent> all = List.of(a1, a2, b1, b2);
        for (Agent x : all) {
            x.replicator().ready().get(15, TimeUnit.SECONDS);
        }
        Eventually.await(Duration.ofSeconds(5), () -> all.stream().allMatch(x -> memberIds(x).size() == 1),
                () -> "each agent sees one partner");
        byte[] value = "v".getBytes(StandardCharsets.UTF_8);
        clusterA.client(a1).write(id("onA", 0), 0, "k", value, Durability.DURABILITY_SYNC_ALL);
        clusterB.client(b1).write(id("onB", 0), 0, "k", value, Durability.DURABILITY_SYNC_ALL);
        Thread.sleep(1_000);
        assertThat(a2.table().get(id("onA", 0))).isPresent();
        assertThat(b2.table().get(id("onB", 0))).isPresent();
        for (Agent x : List.of(a1, a2)) {
            assertThat(x.table().get(id("onB", 0))).isEmpty();
        }
        for (Agent x : List.of(b1, b2)) {
            assertThat(x.table().get(id("onA", 0))).isEmpty();
        }
        for (Agent x : all) {
            assertThat(x.counter(Counter.FRAMES_DROPPED_DUPLICATE_MEMBER)).isZero();
            assertThat(x.counter(Counter.FRAMES_DROPPED_FOREIGN_CLUSTER)).isPositive();
            assertThat(memberIds(x)).hasSize(1);
        }
    }
}
