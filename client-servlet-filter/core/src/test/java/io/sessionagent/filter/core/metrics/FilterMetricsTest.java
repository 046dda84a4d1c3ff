package io.sessionagent.filter.core.metrics;

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
        newCounters.add(FilterCounter.DELTAS_SENT, 7);
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

    /** Per-class counts: a meter per class (tag class) as classes appear, and a map in one JMX attribute. */
    @Test
    void failuresAndRefusalsAreCountedPerClassOverJmxAndMicrometer() throws Exception {
        FilterCounters counters = new FilterCounters();
        counters.increment(FilterCounter.DESERIALIZE_FAILURES);
        counters.deserializeFailuresByClass.increment("shop.Cart");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        FilterMetrics metrics = FilterMetrics.start(counters, new State(0, false), "/byclass", "f",
                getClass().getClassLoader(), registry, "r");
        try {
            ObjectName name = FilterMetrics.objectName("/byclass", "f");
            assertThat(registry.get("session_filter.attributes.deserialize_failures.by_class").tag("class", "shop.Cart")
                    .functionCounter().count()).as("counted before the meters were bound").isEqualTo(1);
            assertThat(registry.find("session_filter.attributes.refused.by_class").meters()).isEmpty();

            // Counted later, as a request or a restore would.
            counters.add(FilterCounter.REFUSED_ATTRIBUTES, 3);
            counters.refusedByClass.increment("gadget.Boom");
            counters.refusedByClass.increment("gadget.Boom");
            counters.refusedByClass.increment("java.net.URL");
            counters.increment(FilterCounter.DESERIALIZE_FAILURES);
            counters.deserializeFailuresByClass.increment("shop.Cart");
            assertThat(registry.get("session_filter.attributes.refused.by_class").tags("class", "gadget.Boom",
                    "context", "/byclass", "filter", "f").functionCounter().count()).isEqualTo(2);
            assertThat(registry.get("session_filter.attributes.refused.by_class").tag("class", "java.net.URL")
                    .functionCounter().count()).isEqualTo(1);
            assertThat(registry.get("session_filter.attributes.refused").functionCounter().count()).isEqualTo(3);
            assertThat(registry.get("session_filter.attributes.deserialize_failures.by_class")
                    .tag("class", "shop.Cart").functionCounter().count()).isEqualTo(2);
            assertThat(mbeans.getAttribute(name, "RefusedAttributes")).isEqualTo(3L);
            assertThat(mbeans.getAttribute(name, "RefusedAttributesByClass"))
                    .isEqualTo(java.util.Map.of("gadget.Boom", 2L, "java.net.URL", 1L));
            assertThat(mbeans.getAttribute(name, "DeserializeFailuresByClass")).isEqualTo(java.util.Map.of("shop.Cart", 2L));
        } finally {
            metrics.close();
        }
        assertThat(registry.getMeters()).isEmpty();
        // Detached: a class counted after close registers nothing.
        counters.refusedByClass.increment("late.Class");
        assertThat(registry.getMeters()).isEmpty();
    }

    @Test
    void perClassCountsStopTakingNewNamesAtTheirLimit() {
        ClassCounts counts = new ClassCounts();
        for (int i = 0; i < ClassCounts.MAX_NAMES + 50; i++) {
            counts.increment("c" + i);
        }
        assertThat(counts.snapshot()).hasSize(ClassCounts.MAX_NAMES + 1);
        assertThat(counts.count(ClassCounts.OTHER)).isEqualTo(50);
        counts.increment("c0");
        assertThat(counts.count("c0")).isEqualTo(2);
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
