package io.sessionagent.grammar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The grammar both the agent and the filter read durations with. */
class DurationsTest {

    @ParameterizedTest
    @CsvSource({
        "500ms, 500",
        "3s, 3000",
        "10m, 600000",
        "1h, 3600000",
        "250, 250",
        "0, 0",
        "' 2s ', 2000",
        "3 s, 3000",
        "500MS, 500",
        "500Ms, 500",
        "2S, 2000",
        "1H, 3600000",
        "1000000h, 3600000000000",
    })
    void parsesEveryUnit(String text, long millis) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "5x", "1.5s", "-3s", "+3s", "10M", "1d", "ms", "s 3", "3\ts", "3 m s"})
    void rejectsOtherSyntax(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(Durations.SYNTAX);
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999999999999", "9999999999999999h", "1000001h", "60000001m"})
    void rejectsOverflow(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("must be a duration of at most");
    }

    @ParameterizedTest
    @CsvSource({"1500, 1500ms", "3000, 3s", "600000, 10m", "7200000, 2h", "0, 0ms", "61000, 61s"})
    void formatsInTheLargestExactUnit(long millis, String text) {
        assertThat(Durations.format(Duration.ofMillis(millis))).isEqualTo(text);
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }
}
