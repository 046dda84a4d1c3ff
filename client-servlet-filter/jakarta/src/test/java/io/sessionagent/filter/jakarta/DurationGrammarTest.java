package io.sessionagent.filter.jakarta;

import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.config.Settings;
import io.sessionagent.filter.core.FilterSettings;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Collections;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An operator writes the same duration in the agent's configuration and in the filter's
 * init-params: each text reads the same on both sides, or is refused by both.
 */
class DurationGrammarTest {

    @ParameterizedTest
    @ValueSource(strings = {"500", "500ms", "500 ms", "500MS", "3s", "2S", "10m", "1h", "1H", " 2s ", "0", "0ms",
        "10M", "1.5s", "-3s", "5x", "ms", "1d", "3 m s", "1000000h", "1000001h", "99999999999999999999"})
    void theAgentAndTheFilterReadADurationAlike(String text) {
        assertThat(filterMillis(text)).as("'%s' in the filter and in the agent", text).isEqualTo(agentMillis(text));
    }

    /** agent-timeout in ms, or null when the filter refuses the text. */
    private static Long filterMillis(String text) {
        Map<String, String> params = Collections.singletonMap(FilterSettings.AGENT_TIMEOUT, text);
        try {
            return FilterSettings.parse(params::get, "").agentTimeoutMs();
        } catch (IllegalArgumentException e) {
            assertThat(e).hasMessageContaining(FilterSettings.AGENT_TIMEOUT);
            return null;
        }
    }

    /** sync-timeout in ms, or null when the agent refuses the text. */
    private static Long agentMillis(String text) {
        try {
            return AgentConfig.fromMap(Map.of(Settings.SYNC_TIMEOUT.name(), text)).get(Settings.SYNC_TIMEOUT).toMillis();
        } catch (RuntimeException e) {
            assertThat(e).hasMessageContaining(Settings.SYNC_TIMEOUT.name());
            return null;
        }
    }
}
