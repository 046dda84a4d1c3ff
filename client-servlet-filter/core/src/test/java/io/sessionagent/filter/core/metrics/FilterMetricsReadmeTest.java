package io.sessionagent.filter.core.metrics;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The filter metrics table in {@code docs/filter.md}, the MBean interface, the meters of
 * {@link FilterMetrics} and the counters of {@link FilterCounters} name the same things: a counter
 * added on one side only would be invisible to operators, or documented without existing.
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
        expected.put("`" + FilterMetrics.SERIALIZE_METER + "`", List.of("`SerializeTimeNanos`, `Serializations`",
                "function timer", "seconds (JMX: ns; count)"));
        for (FilterMetrics.Count c : FilterMetrics.COUNTS) {
            expected.put("`" + c.meter + "`", List.of("`" + c.attribute + "`", "function counter", c.baseUnit));
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
    void theMBeanHasAnAttributeForEveryRowAndNoOther() throws Exception {
        Set<String> documented = new TreeSet<>();
        for (List<String> cells : documentedRows().values()) {
            for (String part : cells.get(0).split(",")) {
                String a = part.trim();
                documented.add(a.substring(1, a.indexOf('`', 1)));
            }
        }
        Set<String> getters = new TreeSet<>();
        for (Method m : FilterMetricsMBean.class.getMethods()) {
            assertThat(m.getName()).as("an MBean attribute getter").startsWith("get");
            getters.add(m.getName().substring(3));
        }
        assertThat(getters).isEqualTo(documented);
    }

    /** Each public count of FilterCounters is published: its name, capitalized, is an MBean attribute. */
    @Test
    void everyCounterIsPublished() throws Exception {
        List<String> unpublished = new ArrayList<>();
        Set<String> getters = new TreeSet<>();
        for (Method m : FilterMetricsMBean.class.getMethods()) {
            getters.add(m.getName().substring(3));
        }
        for (Method m : FilterCounters.class.getDeclaredMethods()) {
            if (!Modifier.isPublic(m.getModifiers()) || m.getParameterCount() != 0
                    || m.getName().equals("snapshot") || m.getName().equals("toString")) {
                continue;
            }
            String attribute = m.getName().equals("serializeNanos") ? "SerializeTimeNanos"
                    : Character.toUpperCase(m.getName().charAt(0)) + m.getName().substring(1);
            if (!getters.contains(attribute)) {
                unpublished.add(m.getName());
            }
        }
        assertThat(unpublished).as("FilterCounters methods without an MBean attribute").isEmpty();
        for (FilterMetrics.Count c : FilterMetrics.COUNTS) {
            String key = c.meter.substring("session_filter.".length());
            assertThat(new FilterCounters().snapshot()).as("snapshot key of %s", c.meter).containsKey(key);
        }
    }
}
