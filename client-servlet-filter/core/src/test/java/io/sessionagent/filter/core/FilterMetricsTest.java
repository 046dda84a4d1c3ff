package io.sessionagent.filter.core;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import static org.assertj.core.api.Assertions.assertThat;

class FilterMetricsTest {
    private final MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();

    @Test
    void theRootContextIsNamedRootAndOddNamesAreQuoted() throws Exception {
        assertThat(FilterMetrics.objectName("", "f")).isEqualTo(
                new ObjectName("io.sessionagent.filter:type=SessionReplicationFilter,context=ROOT,name=f"));
        assertThat(FilterMetrics.objectName("/shop", "a,b=c").getKeyProperty("name"))
                .isEqualTo(ObjectName.quote("a,b=c"));
    }

    /** A redeploy whose old filter was never destroyed: the new instance wins, and the old one's close leaves it. */
    @Test
    void aSecondInstanceUnderTheSameNameReplacesTheFirst() throws Exception {
        FilterCounters oldCounters = new FilterCounters();
        FilterCounters newCounters = new FilterCounters();
        newCounters.deltasSent.add(7);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        FilterMetrics old = FilterMetrics.start(oldCounters, new State(0, false), "/app", "f",
                getClass().getClassLoader(), registry, "r");
        FilterMetrics current = FilterMetrics.start(newCounters, new State(3, true), "/app", "f",
                getClass().getClassLoader(), registry, "r");
        ObjectName name = FilterMetrics.objectName("/app", "f");
        assertThat(current.objectName()).isEqualTo(name);
        assertThat(current.micrometerBound()).isTrue();
        assertThat(mbeans.getAttribute(name, "DeltasSent")).isEqualTo(7L);
        assertThat(mbeans.getAttribute(name, "LocalSessions")).isEqualTo(3);
        assertThat(mbeans.getAttribute(name, "AgentDown")).isEqualTo(1);
        assertThat(registry.get("session_filter.deltas.sent").functionCounter().count()).isEqualTo(7);
        assertThat(registry.get("session_filter.agent.down").gauge().value()).isEqualTo(1);

        old.close();
        assertThat(mbeans.getAttribute(name, "DeltasSent")).isEqualTo(7L);
        assertThat(registry.get("session_filter.deltas.sent").functionCounter().count()).isEqualTo(7);
        assertThat(registry.get("session_filter.sessions.local").gauge().value()).isEqualTo(3);

        current.close();
        assertThat(mbeans.isRegistered(name)).isFalse();
        assertThat(registry.getMeters()).isEmpty();
    }

    /** Fixed readings. */
    private static final class State implements FilterState {
        private final int local;
        private final boolean down;

        State(int local, boolean down) {
            this.local = local;
            this.down = down;
        }

        @Override
        public int localSessionCount() {
            return local;
        }

        @Override
        public boolean agentDown() {
            return down;
        }

        @Override
        public int pendingWrites() {
            return 0;
        }

        @Override
        public long replicationLagMs() {
            return 0;
        }
    }
}
