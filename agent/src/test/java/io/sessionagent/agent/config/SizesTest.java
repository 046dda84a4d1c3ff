package io.sessionagent.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {

    @ParameterizedTest
    @CsvSource({
        "1400, 1400",
        "64KiB, 65536",
        "1MiB, 1048576",
        "4MiB, 4194304",
        "1GiB, 1073741824",
        "0, 0",
    })
    void parsesBytesAndBinaryUnits(String text, long bytes) {
        assertThat(Sizes.parse(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"64KB", "1MB", "1GB", "1kib", "10 B"})
    void rejectsOtherUnitsNamingThem(String text) {
        assertThatThrownBy(() -> Sizes.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(Sizes.SYNTAX)
                .hasMessageContaining("is not supported, use KiB, MiB or GiB");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "1.5MiB", "MiB", "lots"})
    void rejectsOtherSyntax(String text) {
        assertThatThrownBy(() -> Sizes.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(Sizes.SYNTAX);
    }

    @ParameterizedTest
    @ValueSource(strings = {"9999999999GiB", "99999999999999999999"})
    void rejectsOverflow(String text) {
        assertThatThrownBy(() -> Sizes.parse(text)).hasMessageStartingWith("must be a size of at most");
    }

    @ParameterizedTest
    @CsvSource({"1400, 1400", "65536, 64KiB", "1048576, 1MiB", "1073741824, 1GiB", "1536, 1536"})
    void formatsInTheLargestExactUnit(long bytes, String text) {
        assertThat(Sizes.format(bytes)).isEqualTo(text);
    }
}
