package io.sessionagent.filter.core;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.agent.AgentClientTest;
import io.sessionagent.filter.core.session.SessionData;
import io.sessionagent.filter.core.session.SessionIds;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A cookie naming a session this node does not hold, looked up at a scripted agent over real
 * gRPC: only the agent's answer that it holds none makes the session unknown; an agent that does
 * not answer, or is gone, makes the request unavailable, never a new session.
 */
class FailoverLookupTest {
    private final AtomicLong clock = new AtomicLong(1_000_000);

    private SessionManager manager(int port, String route) {
        FilterSettings settings = FilterSettings.parse(name -> {
            switch (name) {
                case FilterSettings.AGENT_ADDRESS:
                    return "127.0.0.1:" + port;
                case FilterSettings.ROUTE:
                    return route;
                case FilterSettings.AGENT_TIMEOUT:
                    return "200ms";
                default:
                    return null;
            }
        }, "/shop");
        return new SessionManager(settings, getClass().getClassLoader(), new AgentClientTest.NoEvents(), clock::get);
    }

    /** A session node 2 wrote to the agent; node 1 has never seen it. */
    private static String sessionOfNode2(SessionManager node2) {
        SessionData s = node2.create();
        s.setAttribute("cart", "three books");
        node2.commit(s);
        return SessionIds.cookieValue(s.id(), "node2");
    }

    @Test
    void anAgentThatAnswersNotFoundMakesTheIdUnknown() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager node1 = manager(agent.port(), "node1")) {
            String cookie = SessionIds.cookieValue("AAAAAAAAAAAAAAAAAAAAAA", "node2");
            assertThat(node1.needsAgentLookup(cookie)).isTrue();
            assertThat(node1.find(cookie)).isNull();
            assertThat(node1.counters().get(FilterCounter.FAILOVER_MISSES)).isEqualTo(1);
            assertThat(node1.counters().get(FilterCounter.FAILOVER_UNAVAILABLE)).isZero();
        }
    }

    @Test
    void anAgentThatDoesNotAnswerIsTriedAgainThenTheRequestIsUnavailableAndLaterFindsTheSession()
            throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager node1 = manager(agent.port(), "node1");
             SessionManager node2 = manager(agent.port(), "node2")) {
            String cookie = sessionOfNode2(node2);
            String id = SessionIds.parse(cookie).id();
            agent.stallLookups();
            int before = agent.lookups(id);

            assertThatThrownBy(() -> node1.find(cookie)).isInstanceOf(SessionUnavailableException.class)
                    .hasMessageContaining("did not answer");
            assertThat(agent.lookups(id) - before).isEqualTo(SessionManager.LOOKUP_TRIES);
            assertThat(node1.counters().get(FilterCounter.FAILOVER_UNAVAILABLE)).isEqualTo(1);
            assertThat(node1.counters().get(FilterCounter.FAILOVER_MISSES)).isZero();
            // Slow is not gone: the next request asks again.
            assertThat(node1.agentDown()).isFalse();

            agent.answerLookups();
            SessionManager.Found found = node1.find(cookie);
            assertThat(found).isNotNull();
            assertThat(found.session().getAttribute("cart")).isEqualTo("three books");
            assertThat(found.reissueCookie()).isTrue();
            assertThat(node1.needsAgentLookup(cookie)).isFalse();
            assertThat(node1.counters().get(FilterCounter.FAILOVER_RESTORES)).isEqualTo(1);
        }
    }

    @Test
    void anAgentThatIsGoneMakesTheRequestUnavailableAtOnce() throws Exception {
        String cookie;
        int port;
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager node2 = manager(agent.port(), "node2")) {
            cookie = sessionOfNode2(node2);
            port = agent.port();
        }
        try (SessionManager node1 = manager(port, "node1")) {
            assertThatThrownBy(() -> node1.find(cookie)).isInstanceOf(SessionUnavailableException.class);
            assertThat(node1.agentDown()).isTrue();
            assertThat(node1.counters().get(FilterCounter.FAILOVER_UNAVAILABLE)).isEqualTo(1);
            // Known to be down: the next request is unavailable too, and counted.
            assertThatThrownBy(() -> node1.find(cookie)).isInstanceOf(SessionUnavailableException.class);
            assertThat(node1.counters().get(FilterCounter.FAILOVER_UNAVAILABLE)).isEqualTo(2);
            assertThat(node1.counters().get(FilterCounter.FAILOVER_MISSES)).isZero();
        }
    }
}
