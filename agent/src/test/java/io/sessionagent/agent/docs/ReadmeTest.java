package io.sessionagent.agent.docs;

import io.sessionagent.agent.config.Setting;
import io.sessionagent.agent.config.Settings;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.MeterCatalogue;
import io.sessionagent.agent.metrics.MeterSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The documentation's tables say what the code does: the configuration reference in
 * {@code docs/configuration.md}, the metric and counter tables in {@code docs/monitoring.md}.
 */
class ReadmeTest {
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z0-9._-]+)` \\| ([^|]*) \\|(?: `([^`]*)` \\|)?",
            Pattern.MULTILINE);
    private static String configuration;
    private static String monitoring;

    @BeforeAll
    static void read() throws Exception {
        configuration = Files.readString(Path.of("..", "docs", "configuration.md"));
        monitoring = Files.readString(Path.of("..", "docs", "monitoring.md"));
    }

    private static Map<String, String[]> rows(String page, String afterHeading) {
        int at = page.indexOf(afterHeading);
        assertThat(at).as(afterHeading).isNotNegative();
        String section = page.substring(at + afterHeading.length());
        int next = section.indexOf("\n#");
        section = next > 0 ? section.substring(0, next) : section;
        Map<String, String[]> rows = new LinkedHashMap<>();
        Matcher m = ROW.matcher(section);
        while (m.find()) {
            rows.put(m.group(1), new String[] {m.group(2).trim(), m.group(3)});
        }
        return rows;
    }

    @Test
    void theConfigurationTableListsEverySettingWithItsDefault() {
        Map<String, String[]> rows = rows(configuration, "## Configuration reference\n");
        assertThat(rows.keySet()).containsExactlyElementsOf(Settings.names());
        for (Setting<?> s : Settings.all()) {
            assertThat(rows.get(s.name())[1]).as(s.name()).isEqualTo(s.defaultLabel());
        }
    }

    @Test
    void theMetricTableListsEveryMeterWithItsPrometheusNameTypeUnitAndTags() {
        String heading = "## Metrics\n";
        assertThat(monitoring.indexOf(heading)).as(heading).isNotNegative();
        String section = monitoring.substring(monitoring.indexOf(heading) + heading.length());
        section = section.substring(0, section.indexOf("\n\n", section.indexOf("| ---")));
        Map<String, List<String>> rows = new LinkedHashMap<>();
        for (String line : section.lines().filter(l -> l.startsWith("| `")).toList()) {
            List<String> cells = Arrays.stream(line.substring(1, line.length() - 1).split(" \\| "))
                    .map(String::trim).toList();
            rows.put(cells.get(0), cells);
        }
        Map<String, List<String>> expected = new LinkedHashMap<>();
        for (MeterSpec m : MeterCatalogue.all()) {
            String type = switch (m.type()) {
                case COUNTER -> "counter";
                case GAUGE -> "gauge";
                default -> "histogram";
            };
            String tags = String.join(", ", m.tagKeys().stream().map(t -> "`" + t + "`").toList());
            expected.put("`" + m.name() + "`", List.of("`" + m.name() + "`", "`" + m.prometheusName() + "`", type,
                    m.baseUnit(), tags));
        }
        assertThat(rows.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((name, cells) -> assertThat(rows.get(name).subList(0, 5)).as(name).isEqualTo(cells));
    }

    @Test
    void theCounterTableListsEveryCounter() {
        Map<String, String[]> rows = rows(monitoring, "## Counters\n");
        assertThat(rows.keySet()).containsExactlyInAnyOrder(java.util.Arrays.stream(Counter.values())
                .map(Counter::metricName).toArray(String[]::new));
    }
}
