package io.sessionagent.filter.core.agent;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.FilterSettings;
import io.sessionagent.filter.core.SessionManager;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.core.session.SessionData;
import io.sessionagent.filter.core.session.SessionEvents;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

public class AgentClientTest {
    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void absentAgentFailsFastIsCountedAndBacksOffExponentially() throws Exception {
        FilterCounters counters = new FilterCounters();
        AtomicLong clock = new AtomicLong(1_000_000);
        AgentHealth health = new AgentHealth("test", counters, clock::get);
        try (AgentClient client = new AgentClient("127.0.0.1", closedPort(), null, 500, counters, health)) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> client.get("abc")).isInstanceOf(AgentClient.AgentException.class);
            // The deadline is 500 ms; the bound only proves that nothing waits for an agent that is not
            // there (a call without a deadline would), so a loaded machine cannot fail it.
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(10_000);
            assertThat(counters.get(FilterCounter.AGENT_ERRORS)).isEqualTo(1);
            assertThat(health.isDown()).isTrue();
            assertThat(health.backoffMs()).isEqualTo(AgentHealth.INITIAL_BACKOFF_MS);

            // Within the backoff period no call is attempted at all.
            assertThatThrownBy(() -> client.get("abc")).isInstanceOf(AgentClient.AgentException.class);
            assertThat(counters.get(FilterCounter.AGENT_CALLS_SKIPPED)).isEqualTo(1);
            assertThat(counters.get(FilterCounter.AGENT_ERRORS)).isEqualTo(1);

            // After it, one probe; it fails too and the period doubles.
            clock.addAndGet(AgentHealth.INITIAL_BACKOFF_MS);
            assertThatThrownBy(() -> client.touch(java.util.Collections.singletonMap("abc", 1L)))
                    .isInstanceOf(AgentClient.AgentException.class);
            assertThat(counters.get(FilterCounter.AGENT_ERRORS)).isEqualTo(2);
            assertThat(health.backoffMs()).isEqualTo(2 * AgentHealth.INITIAL_BACKOFF_MS);

            for (int i = 0; i < 20; i++) {
                clock.addAndGet(health.backoffMs());
                assertThatThrownBy(() -> client.touch(java.util.Map.of("abc", 1L)))
                        .isInstanceOf(AgentClient.AgentException.class);
            }
            assertThat(health.backoffMs()).isEqualTo(AgentHealth.MAX_BACKOFF_MS);
        }
    }

    @Test
    void sessionsKeepWorkingLocallyWithoutAnAgentAndEveryWriteNotReplicatedIsCounted() throws Exception {
        FilterSettings settings = FilterSettings.parse(name -> switch (name) {
            case FilterSettings.AGENT_ADDRESS -> "127.0.0.1:" + closedPortUnchecked();
            case FilterSettings.ROUTE -> "node1";
            default -> null;
        }, "/shop");
        try (SessionManager m = new SessionManager(settings, getClass().getClassLoader(), new NoEvents(),
                System::currentTimeMillis)) {
            SessionData s = m.create();
            s.setAttribute("counter", 1);
            long start = System.nanoTime();
            m.commit(s);
            // The bound only proves that nothing waits for an agent that is not there.
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(10_000);
            while (!m.agentDown()) {
                Thread.sleep(5);
            }
            assertThat(m.counters().get(FilterCounter.WRITES_NOT_REPLICATED)).isEqualTo(1);
            assertThat(m.counters().get(FilterCounter.STREAM_FAILURES)).isPositive();

            SessionManager.Found f = m.find(s.id() + ".node1");
            assertThat(f.session()).isSameAs(s);
            assertThat(f.session().getAttribute("counter")).isEqualTo(1);
            s.setAttribute("counter", 2);
            m.commit(s);
            assertThat(m.counters().get(FilterCounter.WRITES_NOT_REPLICATED)).isEqualTo(2);
            assertThat(s.needsFullSync()).as("goes whole to the agent once it is back").isTrue();
        }
    }

    private static int closedPortUnchecked() {
        try {
            return closedPort();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static final class NoEvents implements SessionEvents {
        @Override
        public void created(SessionData session) {
        }

        @Override
        public void destroyed(SessionData session) {
        }

        @Override
        public void activated(SessionData session) {
        }
    }
}
