package io.sessionagent.filter.core.metrics;

import org.junit.jupiter.api.Test;

import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The filter metrics table in {@code docs/filter.md} names what the {@link FilterCounter}
 * catalogue and the gauges of {@link FilterMetrics} publish, and the registered MBean has exactly
 * those attributes: a counter documented without existing, or published without a word in the
 * documentation, fails here.
 */
class FilterMetricsReadmeTest {
    private static final String TABLE_HEADER = "| meter | JMX attribute | type | unit | meaning |";

    /** Meter cell to the row's other cells (JMX attribute, type, unit), as written in docs/filter.md. */
    private static Map<String, List<String>> documentedRows() throws Exception {
        String page = Files.readString(Path.of("..", "..", "docs", "filter.md"));
        int start = page.indexOf(TABLE_HEADER, page.indexOf("**Filter metrics.**"));
        assertThat(start).as("the filter metrics table in docs/filter.md").isPositive();
        String table = page.substring(start, page.indexOf("\n\n", start));
        Map<String, List<String>> rows = new LinkedHashMap<>();
        for (String line : table.lines().filter(l -> l.startsWith("| `")).toList()) {
            List<String> cells = Arrays.stream(line.substring(1, line.length() - 1).split(" \\| "))
                    .map(String::trim).toList();
            rows.put(cells.get(0), cells.subList(1, 4));
        }
        return rows;
    }

    private static Map<String, List<String>> expectedRows() {
        Map<String, List<String>> expected = new LinkedHashMap<>();
        expected.put("`" + FilterMetrics.SERIALIZE_METER + "`", List.of("`" + FilterCounter.SERIALIZE_NANOS.attribute()
                + "`, `" + FilterCounter.SERIALIZATIONS.attribute() + "`", "function timer", "seconds (JMX: ns; count)"));
        for (FilterCounter c : FilterCounter.values()) {
            if (c.ownMeter()) {
                expected.put("`" + c.meter() + "`", List.of("`" + c.attribute() + "`", "function counter", c.baseUnit()));
            }
        }
        for (FilterMetrics.ByClass b : FilterMetrics.BY_CLASS) {
            expected.put("`" + b.meter + "` (tag `class`)", List.of("`" + b.attribute + "` (class name → count)",
                    "function counter per class", b.baseUnit));
        }
        for (FilterMetrics.Reading r : FilterMetrics.READINGS) {
            expected.put("`" + r.meter + "`", List.of("`" + r.attribute + "`", "gauge", r.baseUnit));
        }
        return expected;
    }

    @Test
    void theReadmeTableListsEveryMeterWithItsJmxAttributeTypeAndUnit() throws Exception {
        Map<String, List<String>> rows = documentedRows();
        Map<String, List<String>> expected = expectedRows();
        assertThat(rows.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((meter, cells) -> assertThat(rows.get(meter)).as(meter).isEqualTo(cells));
    }

    @Test
    void theRegisteredMBeanHasAnAttributeForEveryRowAndNoOther() throws Exception {
        Set<String> documented = new TreeSet<>();
        for (List<String> cells : documentedRows().values()) {
            for (String part : cells.get(0).split(",")) {
                String a = part.trim();
                documented.add(a.substring(1, a.indexOf('`', 1)));
            }
        }
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try (FilterMetrics metrics = FilterMetrics.start(new FilterCounters(), new Idle(), "/readme", "readme",
                getClass().getClassLoader(), null, null)) {
            Set<String> attributes = new TreeSet<>();
            for (MBeanAttributeInfo a : server.getMBeanInfo(metrics.objectName()).getAttributes()) {
                attributes.add(a.getName());
                assertThat(server.getAttribute(metrics.objectName(), a.getName())).as(a.getName()).isNotNull();
            }
            assertThat(attributes).isEqualTo(documented);
        }
    }

    /** Each counter has names of its own, and the snapshot holds it under its key. */
    @Test
    void everyCounterHasItsOwnNamesAndIsInTheSnapshot() {
        Set<String> keys = new HashSet<>();
        Set<String> attributes = new HashSet<>();
        Map<String, Long> snapshot = new FilterCounters().snapshot();
        for (FilterCounter c : FilterCounter.values()) {
            assertThat(keys.add(c.key())).as("key %s used once", c.key()).isTrue();
            assertThat(attributes.add(c.attribute())).as("attribute %s used once", c.attribute()).isTrue();
            assertThat(c.description()).as(c.name()).isNotBlank();
            assertThat(snapshot).as("snapshot key of %s", c).containsKey(c.key());
        }
    }

    private static final class Idle implements FilterState {
        @Override
        public int localSessionCount() {
            return 0;
        }

        @Override
        public boolean agentDown() {
            return false;
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
