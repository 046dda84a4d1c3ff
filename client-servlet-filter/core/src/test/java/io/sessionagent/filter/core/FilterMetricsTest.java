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
        FilterMetrics old = FilterMetrics.start(oldCounters, () -> 0, "/app", "f", getClass().getClassLoader(),
                registry, "r");
        FilterMetrics current = FilterMetrics.start(newCounters, () -> 3, "/app", "f", getClass().getClassLoader(),
                registry, "r");
        ObjectName name = FilterMetrics.objectName("/app", "f");
        assertThat(current.objectName()).isEqualTo(name);
        assertThat(current.micrometerBound()).isTrue();
        assertThat(mbeans.getAttribute(name, "DeltasSent")).isEqualTo(7L);
        assertThat(mbeans.getAttribute(name, "LocalSessions")).isEqualTo(3);
        assertThat(registry.get("session_filter.deltas.sent").functionCounter().count()).isEqualTo(7);

        old.close();
        assertThat(mbeans.getAttribute(name, "DeltasSent")).isEqualTo(7L);
        assertThat(registry.get("session_filter.deltas.sent").functionCounter().count()).isEqualTo(7);
        assertThat(registry.get("session_filter.sessions.local").gauge().value()).isEqualTo(3);

        current.close();
        assertThat(mbeans.isRegistered(name)).isFalse();
        assertThat(registry.getMeters()).isEmpty();
    }
}
