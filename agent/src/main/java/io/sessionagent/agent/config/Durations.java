package io.sessionagent.agent.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The duration syntax of the configuration: {@code 500ms}, {@code 3s}, {@code 10m}, {@code 1h},
 * or a bare whole number of milliseconds. Units are lower case only, so that {@code 10M} cannot
 * be mistaken for months or megabytes.
 */
public final class Durations {

    /** Completes "VALUE ..." in an error message. */
    public static final String SYNTAX =
            "must be a duration such as 500ms, 3s, 10m or 1h (a bare number means milliseconds)";

    private static final Pattern FORMAT = Pattern.compile("(\\d+)(ms|s|m|h)?");

    private Durations() {}

    /**
     * Parses a duration.
     *
     * @throws IllegalArgumentException with a message starting "must be" when the text is not a
     *     duration or is too large
     */
    public static Duration parse(String text) {
        Matcher m = FORMAT.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(SYNTAX);
        }
        try {
            long amount = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "ms" : m.group(2);
            return switch (unit) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                default -> throw new IllegalStateException(unit);
            };
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("must be a duration of at most 1000000h");
        }
    }

    /** Formats in the largest unit that represents the duration exactly: 1500ms, 3s, 10m, 1h. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms != 0 && ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms != 0 && ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms != 0 && ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
