package io.sessionagent.agent.cluster;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.metrics.JvmMeters;
import io.sessionagent.agent.metrics.MeterCatalogue;
import io.sessionagent.agent.metrics.MeterSpec;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.OperatorClient;
import io.sessionagent.agent.testing.Scrape;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.MemberState;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.micrometer.core.instrument.Meter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** /metrics, /health, /ready and the gRPC health service of real agents, scraped over HTTP. */
@Execution(ExecutionMode.CONCURRENT)
class MetricsScrapeTest {
    private static final String SESSION_SERVICE = SessionServiceGrpc.SERVICE_NAME;
    private final TestCluster cluster = new TestCluster("metrics-" + System.nanoTime());

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private Agent ready(Agent a) throws Exception {
        a.replicator().ready().get(10, TimeUnit.SECONDS);
        return a;
    }

    @Test
    void aScrapeShowsWhatTheAgentsDid() throws Exception {
        Agent a = ready(cluster.start("node-a"));
        Agent b = ready(cluster.start("node-b"));
        Eventually.await(Duration.ofSeconds(5), () -> a.replicator().readyMembers().size() == 1,
                () -> "node-a sees node-b ready");
        for (int i = 0; i < 20; i++) {
            cluster.client(a).put(String.format("metrics%016d", i), 0, "k", new byte[100]);
        }
        cluster.client(a).write("metricsSync000000000000", 0, "k", new byte[] {1}, Durability.DURABILITY_SYNC_ONE);
        Eventually.await(Duration.ofSeconds(10), () -> b.table().liveCount() == 21, () -> "21 sessions on node-b");

        Scrape onA = new OperatorClient(a.metricsPort()).scrape();
        Scrape onB = new OperatorClient(b.metricsPort()).scrape();
        assertThat(onA.value("session_agent_deltas_sent_total")).isEqualTo(21);
        assertThat(onB.value("session_agent_deltas_applied_total")).isEqualTo(21);
        assertThat(onB.value("session_agent_replication_lag_seconds_count")).isEqualTo(21);
        assertThat(onB.value("session_agent_replication_lag_seconds_bucket", "le", "+Inf")).isEqualTo(21);
        assertThat(onA.value("session_agent_sync_ack_latency_seconds_count", "outcome", "replicated")).isEqualTo(1);
        assertThat(onA.value("grpc_server_processing_duration_seconds_count", "service", SESSION_SERVICE,
                "method", "WriteDelta", "statusCode", "OK")).isEqualTo(21);

        assertThat(onA.value("session_agent_sessions_held", "origin", "self")).isEqualTo(21);
        assertThat(onB.value("session_agent_sessions_held", "origin", "node-a")).isEqualTo(21);
        assertThat(onB.value("session_agent_sessions_bytes", "origin", "node-a"))
                .isEqualTo((double) b.table().liveBytes());
        assertThat(onA.value("session_agent_members", "state", "ready")).isEqualTo(1);
        assertThat(onA.value("session_agent_members", "state", "joining")).isZero();
        assertThat(onA.value("session_agent_state", "state", "ready")).isEqualTo(1);
        assertThat(onA.value("session_agent_state", "state", "joining")).isZero();
        assertThat(onA.value("session_agent_view_id")).isPositive();
        assertThat(onA.value("session_agent_replication_enabled")).isEqualTo(1);
        assertThat(onA.value("session_agent_retransmit_buffer_frames")).isGreaterThanOrEqualTo(0);

        // Every meter of the catalogue is in the scrape, with its help text.
        for (MeterSpec spec : MeterCatalogue.all()) {
            String series = spec.type() == Meter.Type.TIMER ? spec.prometheusName() + "_count" : spec.prometheusName();
            assertThat(onA.has(series)).as(series).isTrue();
            assertThat(onA.help(spec.prometheusName())).as("help of " + spec.prometheusName()).isNotBlank();
        }
        // The JVM's meters the dashboard reads, under Prometheus' own names, with the labels it uses.
        for (Map.Entry<String, Set<String>> e : JvmMeters.DASHBOARD_SERIES.entrySet()) {
            List<Scrape.Sample> samples = onA.samples(e.getKey());
            assertThat(samples).as(e.getKey()).isNotEmpty();
            assertThat(samples.get(0).labels().keySet()).as("labels of " + e.getKey()).containsAll(e.getValue());
        }
        assertThat(onA.value("jvm_threads_live_threads")).isPositive();
        assertThat(onA.value("jvm_memory_used_bytes", "area", "heap")).isPositive();
    }

    @Test
    void droppedDatagramsAreCountedByReason() throws Exception {
        Agent a = ready(cluster.start("node-a"));
        OperatorClient operator = new OperatorClient(a.metricsPort());
        double before = operator.scrape().value("session_agent_frames_dropped_total", "reason", "malformed");
        AgentConfig c = AgentConfig.fromMap(cluster.settings());
        try (MulticastSocket s = new MulticastSocket()) {
            s.setNetworkInterface(NetworkInterface.getByName("lo"));
            s.setTimeToLive(0);
            byte[] garbage = "not a frame at all, just text".getBytes();
            s.send(new DatagramPacket(garbage, garbage.length,
                    new InetSocketAddress(c.multicastGroup(), c.multicastPort())));
        }
        Eventually.await(Duration.ofSeconds(5), () -> operator.scrape().value("session_agent_frames_dropped_total",
                "reason", "malformed") > before, () -> "malformed drop counted");
        assertThat(operator.scrape().value("session_agent_frames_dropped_total", "reason", "foreign_cluster"))
                .isZero();
    }

    @Test
    void aJoinerIsNotReadyUntilItHasTheTableThenItIs() throws Exception {
        // No ready member exists and join-wait is long: the joiner stays JOINING until one appears.
        Agent joiner = cluster.start("joiner", Map.of("join-wait", "60s", "state-transfer-timeout", "120s"));
        OperatorClient operator = new OperatorClient(joiner.metricsPort());
        assertThat(operator.get("/health").statusCode()).isEqualTo(200);
        assertThat(operator.get("/health").body()).isEqualTo("ok\n");
        assertThat(operator.get("/ready").statusCode()).isEqualTo(503);
        assertThat(operator.get("/ready").body()).isEqualTo("not ready: joining\n");
        assertThat(OperatorClient.health(cluster.client(joiner), SESSION_SERVICE)).isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(OperatorClient.health(cluster.client(joiner), "")).isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(operator.scrape().value("session_agent_state", "state", "joining")).isEqualTo(1);
        assertThat(joiner.replicator().state()).isEqualTo(MemberState.MEMBER_STATE_JOINING);

        // The second agent sees no ready member either, starts the table after its join-wait, and
        // the joiner then takes the table from it.
        ready(cluster.start("starter"));
        joiner.replicator().ready().get(10, TimeUnit.SECONDS);
        assertThat(operator.get("/ready").statusCode()).isEqualTo(200);
        assertThat(operator.get("/ready").body()).isEqualTo("ready\n");
        Eventually.await(Duration.ofSeconds(5), () -> OperatorClient.health(cluster.client(joiner), SESSION_SERVICE)
                == ServingStatus.SERVING, () -> "gRPC health SERVING");
        Scrape scrape = operator.scrape();
        assertThat(scrape.value("session_agent_state_transfer_duration_seconds_count")).isEqualTo(1);
        assertThat(scrape.value("session_agent_state_transfer_completed_total")).isEqualTo(1);
        assertThat(scrape.value("session_agent_state", "state", "ready")).isEqualTo(1);
    }
}
