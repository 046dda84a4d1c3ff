package io.sessionagent.agent.docs;

import io.sessionagent.agent.config.Setting;
import io.sessionagent.agent.config.Settings;
import io.sessionagent.agent.metrics.Counter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's configuration and counter tables say what the code does. */
class ReadmeTest {
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z0-9._-]+)` \\| ([^|]*) \\|(?: `([^`]*)` \\|)?",
            Pattern.MULTILINE);
    private static String readme;

    @BeforeAll
    static void read() throws Exception {
        readme = Files.readString(Path.of("..", "README.md"));
    }

    private static Map<String, String[]> rows(String afterHeading) {
        String section = readme.substring(readme.indexOf(afterHeading) + afterHeading.length());
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
        Map<String, String[]> rows = rows("### Configuration reference");
        assertThat(rows.keySet()).containsExactlyElementsOf(Settings.names());
        for (Setting<?> s : Settings.all()) {
            assertThat(rows.get(s.name())[1]).as(s.name()).isEqualTo(s.defaultLabel());
        }
    }

    @Test
    void theCounterTableListsEveryCounter() {
        Map<String, String[]> rows = rows("### Counters");
        assertThat(rows.keySet()).containsExactlyInAnyOrder(java.util.Arrays.stream(Counter.values())
                .map(Counter::metricName).toArray(String[]::new));
    }
}
