package io.sessionagent.filter.core;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.agent.AgentClientTest;
import io.sessionagent.filter.core.session.SessionData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The filter sends the agent's API token from {@code agent-token-file} with every call, over real
 * gRPC to an agent that refuses calls without it; a filter without the token gets nothing through.
 */
class AgentTokenTest {
    private static final String TOKEN = "c2Vzc2lvbi1hZ2VudC1hcGktdG9rZW4tZm9yLXRlc3Rz";

    @TempDir
    Path dir;
    private final AtomicLong clock = new AtomicLong(1_000_000);

    private SessionManager manager(int port, String tokenFile) {
        FilterSettings settings = FilterSettings.parse(name -> {
            switch (name) {
                case FilterSettings.AGENT_ADDRESS:
                    return "127.0.0.1:" + port;
                case FilterSettings.AGENT_TOKEN_FILE:
                    return tokenFile;
                case FilterSettings.REPLICATION_MODE:
                    return "sync";
                default:
                    return null;
            }
        }, "/shop");
        return new SessionManager(settings, getClass().getClassLoader(), new AgentClientTest.NoEvents(), clock::get);
    }

    private String tokenFile(String token) throws Exception {
        Path f = dir.resolve("api.token");
        Files.write(f, (token + "\n").getBytes(StandardCharsets.UTF_8));
        return f.toString();
    }

    @Test
    void writesAndLookupsCarryTheToken() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0, TOKEN);
             SessionManager node = manager(agent.port(), tokenFile(TOKEN))) {
            SessionData s = node.create();
            s.setAttribute("cart", "three books");
            node.commit(s);
            assertThat(agent.live(s.id())).isNotNull();
            assertThat(node.counters().get(FilterCounter.AGENT_ERRORS)).isZero();
            assertThat(node.counters().get(FilterCounter.WRITES_NOT_REPLICATED)).isZero();
        }
    }

    @Test
    void withoutTheTokenNothingGetsThroughAndEveryWriteIsCounted() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0, TOKEN); SessionManager node = manager(agent.port(), null)) {
            SessionData s = node.create();
            s.setAttribute("cart", "three books");
            node.commit(s);
            assertThat(agent.live(s.id())).isNull();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (node.counters().get(FilterCounter.AGENT_ERRORS) + node.counters().get(FilterCounter.WRITES_NOT_REPLICATED) == 0
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(node.counters().get(FilterCounter.AGENT_ERRORS) + node.counters().get(FilterCounter.WRITES_NOT_REPLICATED)).isPositive();
        }
    }

    @Test
    void aTokenFileThatCannotBeUsedFailsTheFiltersStart() throws Exception {
        String shortToken = tokenFile("short");
        assertThatThrownBy(() -> manager(1, shortToken)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("agent-token-file").hasMessageContaining("at least 32 characters");
        assertThatThrownBy(() -> manager(1, dir.resolve("missing").toString()))
                .hasMessageContaining("agent-token-file").hasMessageContaining("cannot be read");
    }
}
