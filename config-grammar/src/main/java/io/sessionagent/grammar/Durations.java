package io.sessionagent.grammar;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a duration is written, in the agent's settings and the filter's init-params alike: a whole
 * number, optionally followed (with or without a space) by {@code ms}, {@code s}, {@code m} or
 * {@code h}; a bare number means milliseconds. The unit's case does not matter, except that
 * minutes are a lower-case {@code m} only: {@code 10M} would read as months or megabytes.
 */
public final class Durations {

    /** Completes "VALUE ..." in an error message. */
    public static final String SYNTAX =
            "must be a duration such as 500ms, 3s, 10m or 1h (a bare number means milliseconds)";

    private static final Pattern FORMAT = Pattern.compile("(\\d+) *((?i:ms|s|h)|m)?");

    private static final long MAX_HOURS = 1_000_000;

    private Durations() {
    }

    /**
     * Parses a duration.
     *
     * @throws IllegalArgumentException with a message starting "must be" when the text is not a
     *     duration or is longer than a million hours
     */
    public static Duration parse(String text) {
        Matcher m = FORMAT.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(SYNTAX);
        }
        Duration d;
        try {
            long amount = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "ms" : m.group(2).toLowerCase(java.util.Locale.ROOT);
            if (unit.equals("ms")) {
                d = Duration.ofMillis(amount);
            } else if (unit.equals("s")) {
                d = Duration.ofSeconds(amount);
            } else if (unit.equals("m")) {
                d = Duration.ofMinutes(amount);
            } else {
                d = Duration.ofHours(amount);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            d = null;
        }
        if (d == null || d.compareTo(Duration.ofHours(MAX_HOURS)) > 0) {
            throw new IllegalArgumentException("must be a duration of at most " + MAX_HOURS + "h");
        }
        return d;
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
