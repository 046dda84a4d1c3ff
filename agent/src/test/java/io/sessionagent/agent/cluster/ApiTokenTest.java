package io.sessionagent.agent.cluster;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.stub.MetadataUtils;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.api.ApiToken;
import io.sessionagent.agent.cli.Cli;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.agent.testing.OperatorClient;
import io.sessionagent.agent.testing.SessionClient;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A real agent with an API token: the SessionService refuses every call without it, answers with
 * it, and keeps the health service open; without a token it does not start on a non-loopback
 * address.
 */
class ApiTokenTest {
    private static final String TOKEN = "YXBpLXRva2VuLW9mLXRoZS1zZXNzaW9uLXNlcnZpY2UtMQ";

    @TempDir
    Path dir;
    private final TestCluster cluster = new TestCluster("api-token-" + System.nanoTime());
    private final Map<String, SessionClient> clients = new HashMap<>();

    @AfterEach
    void tearDown() {
        clients.values().forEach(SessionClient::close);
        cluster.close();
    }

    private static SessionServiceGrpc.SessionServiceBlockingStub withAuthorization(SessionClient c, String value) {
        Metadata headers = new Metadata();
        headers.put(ApiToken.AUTHORIZATION, value);
        return c.stub().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    @Test
    void callsWithoutTheTokenAreRefusedAndCallsWithItAnswered() throws Exception {
        Path token = dir.resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        Agent a = cluster.start("a", Map.of("api-token-file", token.toString()));
        a.replicator().ready().get(15, TimeUnit.SECONDS);
        SessionClient c = new SessionClient(a.grpcPort());
        clients.put("a", c);

        assertThatThrownBy(() -> c.put("s1", 0, "k", new byte[] {1})).isInstanceOfSatisfying(
                StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                    assertThat(e.getStatus().getDescription()).contains("api-token-file");
                });
        assertThatThrownBy(() -> withAuthorization(c, "Bearer " + TOKEN + "x")
                .getSession(GetSessionRequest.newBuilder().setId("s1").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        assertThat(a.table().get("s1")).isEmpty();
        assertThat(a.counters().get(Counter.GRPC_UNAUTHENTICATED)).isEqualTo(2);
        // Whether the agent serves is no secret.
        assertThat(OperatorClient.health(c, "")).isEqualTo(ServingStatus.SERVING);

        assertThat(withAuthorization(c, "Bearer " + TOKEN)
                .getSession(GetSessionRequest.newBuilder().setId("s1").build()).getFound()).isFalse();
        assertThat(new OperatorClient(a.metricsPort()).scrape().value("session_agent_grpc_unauthenticated_total"))
                .isEqualTo(2);
    }

    @Test
    void theCliSendsTheTokenOfItsSettings() throws Exception {
        Path token = dir.resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        Agent a = cluster.start("a", Map.of("api-token-file", token.toString()));
        a.replicator().ready().get(15, TimeUnit.SECONDS);
        String grpc = "127.0.0.1:" + a.grpcPort();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

        assertThat(Cli.run(new String[] {"put", "cli-s", "a=b", "--grpc", grpc}, out, errStream, Map.of(),
                config -> Cli.FAILED)).isEqualTo(Cli.FAILED);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("UNAUTHENTICATED");
        assertThat(a.table().get("cli-s")).isEmpty();

        assertThat(Cli.run(new String[] {"put", "cli-s", "a=b", "--grpc", grpc}, out, errStream,
                Map.of("SESSION_AGENT_API_TOKEN_FILE", token.toString()), config -> Cli.FAILED)).isEqualTo(Cli.OK);
        assertThat(a.table().get("cli-s")).isPresent();
    }

    @Test
    void withoutATokenTheAgentDoesNotStartOnANonLoopbackAddress() {
        Map<String, String> m = new HashMap<>(Networks.loopbackCluster("api-token-" + System.nanoTime()));
        m.put("node-name", "a");
        // Refused before binding; 192.0.2.1 is reserved for documentation.
        m.put("grpc-address", "192.0.2.1");
        Agent a = new Agent(AgentConfig.fromMap(m));
        try {
            assertThatThrownBy(a::start).hasMessageContaining("grpc-address 192.0.2.1 is not a loopback address")
                    .hasMessageContaining("api-token-file");
        } finally {
            a.close();
        }
    }
}
