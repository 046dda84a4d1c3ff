package io.sessionagent.agent;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.OperatorClient;
import io.sessionagent.agent.testing.TestCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A real agent with an admin token: every change without it is refused with 401 and changes
 * nothing, the read-only endpoints stay open, the CLI sends the token of its settings, and a
 * request body beyond the limit is refused unread.
 */
@Execution(ExecutionMode.CONCURRENT)
class AdminTokenTest {
    private static final String TOKEN = "dG9rZW4tb2YtdGhlLWFkbWluLWVuZHBvaW50cy0xMjM0";

    @TempDir
    Path dir;
    private final TestCluster cluster = new TestCluster("admin-token-" + System.nanoTime());
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private Path tokenFile(String token) throws Exception {
        Path f = dir.resolve("admin.token");
        Files.writeString(f, token + "\n");
        return f;
    }

    private HttpResponse<String> post(Agent a, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.metricsPort() + path))
                .timeout(Duration.ofSeconds(15)).POST(HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void changesWithoutTheTokenAreRefusedAndChangeNothing() throws Exception {
        Agent a = cluster.start("a", Map.of("admin-token-file", tokenFile(TOKEN).toString()));
        a.replicator().ready().get(15, TimeUnit.SECONDS);

        HttpResponse<String> none = post(a, "/admin/drain", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("Bearer"));
        assertThat(none.body()).contains("Authorization: Bearer");
        HttpResponse<String> wrong = post(a, "/admin/replication?enabled=false", "Bearer " + TOKEN + "x");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).contains("wrong admin token");
        assertThat(post(a, "/admin/drain", "Basic " + TOKEN).statusCode()).isEqualTo(401);
        assertThat(a.drained()).isFalse();
        assertThat(a.replicator().replicationEnabled()).isTrue();
        assertThat(a.counters().get(Counter.ADMIN_REFUSED)).isEqualTo(3);

        // What only reads stays open.
        OperatorClient operator = new OperatorClient(a.metricsPort());
        assertThat(operator.get("/admin/view").statusCode()).isEqualTo(200);
        assertThat(operator.get("/health").statusCode()).isEqualTo(200);
        assertThat(operator.scrape().value("session_agent_admin_refused_total")).isEqualTo(3);

        HttpResponse<String> right = post(a, "/admin/replication?enabled=false", "Bearer " + TOKEN);
        assertThat(right.statusCode()).isEqualTo(200);
        assertThat(a.replicator().replicationEnabled()).isFalse();
    }

    @Test
    void theCliSendsTheTokenOfItsSettings() throws Exception {
        Path token = tokenFile(TOKEN);
        Agent a = cluster.start("a", Map.of("admin-token-file", token.toString()));
        a.replicator().ready().get(15, TimeUnit.SECONDS);
        String admin = "127.0.0.1:" + a.metricsPort();

        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertThat(Main.run(new String[] {"replication", "off", "--admin", admin}, out, errStream, Map.of()))
                .isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("refused: 401");
        assertThat(a.replicator().replicationEnabled()).isTrue();

        assertThat(Main.run(new String[] {"replication", "off", "--admin", admin}, out, errStream,
                Map.of("SESSION_AGENT_ADMIN_TOKEN_FILE", token.toString()))).isZero();
        assertThat(a.replicator().replicationEnabled()).isFalse();
    }

    @Test
    void aTokenFileThatCannotBeUsedStopsTheStart() throws Exception {
        assertThatThrownBy(() -> cluster.start("a", Map.of("admin-token-file", tokenFile("short").toString())))
                .hasMessageContaining("admin-token-file").hasMessageContaining("at least 32 characters");
        assertThatThrownBy(() -> cluster.start("b", Map.of("admin-token-file", dir.resolve("missing").toString())))
                .hasMessageContaining("cannot be read");
    }

    @Test
    void aRequestBodyBeyondTheLimitIsRefused() throws Exception {
        Agent a = cluster.start("a");
        a.replicator().ready().get(15, TimeUnit.SECONDS);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.metricsPort()
                        + "/admin/drain")).timeout(Duration.ofSeconds(15))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[64 * 1024])).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(a.drained()).isFalse();
    }
}
