package io.sessionagent.agent.cluster;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.OperatorClient;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The admin endpoints of real agents: replication off and on, drain, the view, bad requests. */
@Execution(ExecutionMode.CONCURRENT)
class AdminEndpointsTest {
    private final TestCluster cluster = new TestCluster("admin-" + System.nanoTime());

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private List<Agent> readyCluster(String... names) throws Exception {
        List<Agent> agents = new java.util.ArrayList<>();
        for (String n : names) {
            agents.add(cluster.start(n));
        }
        for (Agent a : agents) {
            a.replicator().ready().get(10, TimeUnit.SECONDS);
        }
        Eventually.await(Duration.ofSeconds(5), () -> agents.stream()
                .allMatch(a -> a.replicator().readyMembers().size() == agents.size() - 1), () -> "full view");
        return agents;
    }

    private static boolean holdsAll(Agent a, String prefix, int n) {
        for (int i = 0; i < n; i++) {
            if (a.table().get(String.format("%s%016d", prefix, i)).isEmpty()) {
                return false;
            }
        }
        return true;
    }

    @Test
    void writesMadeWhileReplicationWasOffReachEveryReplicaOnceItIsBackOn() throws Exception {
        List<Agent> agents = readyCluster("node-a", "node-b", "node-c");
        Agent a = agents.get(0);
        Agent b = agents.get(1);
        OperatorClient operator = new OperatorClient(a.metricsPort());

        HttpResponse<String> off = operator.post("/admin/replication?enabled=false");
        assertThat(off.statusCode()).isEqualTo(200);
        assertThat(off.body()).startsWith("replication off");
        assertThat(operator.scrape().value("session_agent_replication_enabled")).isZero();
        for (int i = 0; i < 30; i++) {
            cluster.client(a).put(String.format("offOnA%016d", i), 0, "k", new byte[] {(byte) i});
            cluster.client(b).put(String.format("offOnB%016d", i), 0, "k", new byte[] {(byte) i});
        }
        // The others go on replicating among themselves.
        Eventually.await(Duration.ofSeconds(5), () -> holdsAll(agents.get(2), "offOnB", 30), () -> "node-c has B's");
        assertThat(b.table().get(String.format("offOnA%016d", 0))).isEmpty();

        HttpResponse<String> on = operator.post("/admin/replication?enabled=true");
        assertThat(on.statusCode()).isEqualTo(200);
        assertThat(on.body()).startsWith("replication on");
        for (Agent x : agents) {
            Eventually.await(Duration.ofSeconds(10), () -> holdsAll(x, "offOnA", 30) && holdsAll(x, "offOnB", 30),
                    () -> "every write on every agent; " + x.counters().snapshotByName());
        }
        assertThat(operator.scrape().value("session_agent_replication_enabled")).isEqualTo(1);
    }

    @Test
    void aDrainedAgentLeavesAtOnceAndRefusesCallsButKeepsServingHttp() throws Exception {
        List<Agent> agents = readyCluster("node-a", "node-b", "node-c");
        Agent a = agents.get(0);
        OperatorClient operator = new OperatorClient(a.metricsPort());
        cluster.client(a).put("beforeDrain000000000000", 0, "k", new byte[] {1});

        HttpResponse<String> drain = operator.post("/admin/drain");
        assertThat(drain.statusCode()).isEqualTo(200);
        assertThat(drain.body()).startsWith("drained");
        // Well inside failure-timeout (3 s): the leave was announced, not detected.
        for (Agent other : agents.subList(1, 3)) {
            Eventually.await(Duration.ofMillis(2_500), () -> other.replicator().view().members().size() == 1,
                    () -> "the others drop node-a");
            assertThat(other.counter(Counter.MEMBERS_LEFT)).isEqualTo(1);
            assertThat(other.counter(Counter.MEMBERS_SUSPECTED)).isZero();
            assertThat(other.table().get("beforeDrain000000000000")).isPresent();
        }
        assertThatThrownBy(() -> cluster.client(a).get("beforeDrain000000000000"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).startsWith("draining");
                });
        assertThat(OperatorClient.health(cluster.client(a), SessionServiceGrpc.SERVICE_NAME))
                .isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(operator.get("/ready").statusCode()).isEqualTo(503);
        assertThat(operator.get("/ready").body()).isEqualTo("not ready: leaving\n");
        assertThat(operator.get("/health").statusCode()).isEqualTo(200);
        assertThat(operator.scrape().value("session_agent_state", "state", "leaving")).isEqualTo(1);
        assertThat(operator.scrape().value("grpc_server_processing_duration_seconds_count", "method", "GetSession",
                "statusCode", "UNAVAILABLE")).isEqualTo(1);
        assertThat(operator.get("/admin/view").body()).contains("\"state\": \"MEMBER_STATE_LEAVING\"");

        assertThat(operator.post("/admin/drain").body()).startsWith("already drained");
        HttpResponse<String> replication = operator.post("/admin/replication?enabled=false");
        assertThat(replication.statusCode()).isEqualTo(409);
        assertThat(replication.body()).contains("drained");
    }

    @Test
    void theViewIsTheJsonOfTheCli() throws Exception {
        Agent a = readyCluster("node-a", "node-b").get(0);
        HttpResponse<String> view = new OperatorClient(a.metricsPort()).get("/admin/view");
        assertThat(view.statusCode()).isEqualTo(200);
        assertThat(view.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(view.body()).contains("\"cluster_name\": \"" + cluster.settings().get("cluster-name") + "\"")
                .contains("\"node_name\": \"node-b\"").contains("\"replication_enabled\": true");
    }

    @Test
    void badRequestsGetAFourHundredWithAMessage() throws Exception {
        Agent a = readyCluster("node-a").get(0);
        OperatorClient operator = new OperatorClient(a.metricsPort());

        HttpResponse<String> noValue = operator.post("/admin/replication");
        assertThat(noValue.statusCode()).isEqualTo(400);
        assertThat(noValue.body()).contains("enabled must be true or false, was missing");
        assertThat(operator.post("/admin/replication?enabled=maybe").body())
                .contains("enabled must be true or false, was maybe");
        HttpResponse<String> typo = operator.post("/admin/replication?enable=false");
        assertThat(typo.statusCode()).isEqualTo(400);
        assertThat(typo.body()).contains("unknown parameter enable");

        HttpResponse<String> getDrain = operator.get("/admin/drain");
        assertThat(getDrain.statusCode()).isEqualTo(405);
        assertThat(getDrain.headers().firstValue("Allow")).hasValue("POST");
        assertThat(getDrain.body()).contains("/admin/drain answers POST, not GET");
        assertThat(operator.post("/metrics").statusCode()).isEqualTo(405);

        HttpResponse<String> unknown = operator.get("/admin/nothing");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("no endpoint /admin/nothing").contains("POST /admin/drain")
                .contains("GET /metrics");
        // Nothing of that changed the agent.
        assertThat(a.replicator().replicationEnabled()).isTrue();
        assertThat(a.drained()).isFalse();
    }
}
