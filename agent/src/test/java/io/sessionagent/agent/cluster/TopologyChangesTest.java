package io.sessionagent.agent.cluster;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.OperatorClient;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.proto.v1.SessionRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The topology sequence of docs/operations.md's "Changing the topology", on real agents: start two, add
 * a third, drain the first, switch replication off and on on the second while writes go on,
 * stop the second in order, add a fourth. Every write an agent acknowledged must end up on every
 * agent still running; the operator steps go through the admin HTTP endpoints the CLI calls.
 */
class TopologyChangesTest {
    private static final int BATCH = 100;

    private final TestCluster cluster = new TestCluster("topology-" + System.nanoTime());
    /** Every acknowledged write: session id to the version the agent answered. */
    private final Map<String, Long> acknowledged = new LinkedHashMap<>();

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private void write(Agent agent, String prefix) {
        for (int i = 0; i < BATCH; i++) {
            String id = String.format("%s%016d", prefix, i);
            long v = cluster.client(agent).put(id, 0, "k", new byte[] {(byte) i});
            acknowledged.put(id, v);
        }
    }

    /** Ids acknowledged but absent at this agent, or present at an older version. */
    private List<String> missing(Agent agent) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Long> e : acknowledged.entrySet()) {
            long held = agent.table().get(e.getKey()).map(SessionRecord::getVersion).orElse(0L);
            if (held < e.getValue()) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    private void awaitEverythingOn(Agent... agents) {
        for (Agent a : agents) {
            Eventually.await(Duration.ofSeconds(15), () -> missing(a).isEmpty(),
                    () -> missing(a).size() + " acknowledged sessions missing on " + a.memberId());
        }
    }

    private static void awaitView(int others, Agent... agents) {
        Eventually.await(Duration.ofSeconds(5), () -> List.of(agents).stream()
                .allMatch(a -> a.replicator().readyMembers().size() == others), () -> others + " ready peers each");
    }

    private Agent join(String name) throws Exception {
        Agent a = cluster.start(name);
        a.replicator().ready().get(30, TimeUnit.SECONDS);
        // Ready means the state transfer is done: the table is complete now, not eventually.
        assertThat(missing(a)).as("sessions missing at %s when it reported ready", name).isEmpty();
        assertThat(new OperatorClient(a.metricsPort()).get("/ready").statusCode()).isEqualTo(200);
        return a;
    }

    @Test
    void noAcknowledgedSessionIsLostThroughJoinDrainReplicationOffAndOnLeaveAndJoin() throws Exception {
        // 1. node1 and node2 with sessions written on both.
        Agent node1 = cluster.start("node1");
        Agent node2 = cluster.start("node2");
        node1.replicator().ready().get(15, TimeUnit.SECONDS);
        node2.replicator().ready().get(15, TimeUnit.SECONDS);
        awaitView(1, node1, node2);
        write(node1, "start1");
        write(node2, "start2");
        awaitEverythingOn(node1, node2);

        // 2. node3 joins: it holds every session before it reports ready.
        Agent node3 = join("node3");
        awaitView(2, node1, node2, node3);
        write(node1, "joined");
        awaitEverythingOn(node1, node2, node3);

        // 3. Drain node1 (POST /admin/drain, what `session-agent drain` sends): it leaves at once.
        HttpResponse<String> drain = new OperatorClient(node1.metricsPort()).post("/admin/drain");
        assertThat(drain.statusCode()).isEqualTo(200);
        assertThat(drain.body()).startsWith("drained");
        awaitView(1, node2, node3);
        assertThat(node2.counter(Counter.MEMBERS_SUSPECTED)).isZero();
        cluster.stop(node1);

        // 4. Replication off on node2, writes on node2 and node3, replication back on.
        OperatorClient operator2 = new OperatorClient(node2.metricsPort());
        assertThat(operator2.post("/admin/replication?enabled=false").body()).startsWith("replication off");
        write(node2, "offAt2");
        write(node3, "offAt3");
        // Off really means off: neither side has the other's writes yet.
        assertThat(node3.table().get(String.format("offAt2%016d", 0))).isEmpty();
        assertThat(node2.table().get(String.format("offAt3%016d", 0))).isEmpty();
        assertThat(operator2.post("/admin/replication?enabled=true").body()).startsWith("replication on");
        awaitEverythingOn(node2, node3);

        // 5. node2 stops in order: its leave is announced, nothing is left only on it.
        cluster.stop(node2);
        Eventually.await(Duration.ofSeconds(3), () -> node3.replicator().view().members().isEmpty(),
                () -> "node3 alone");
        assertThat(node3.counter(Counter.MEMBERS_SUSPECTED)).isZero();

        // 6. node4 joins the one agent left, and gets everything before it is ready.
        Agent node4 = join("node4");
        awaitView(1, node3, node4);
        write(node4, "atEnd4");
        awaitEverythingOn(node3, node4);
        assertThat(acknowledged).hasSize(6 * BATCH);
        assertThat(node3.table().liveCount()).isEqualTo(6 * BATCH);
        assertThat(node4.table().liveCount()).isEqualTo(6 * BATCH);
    }
}
