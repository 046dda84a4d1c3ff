package io.sessionagent.agent.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The size syntax of the configuration: a bare number of bytes or a whole number of
 * {@code KiB}, {@code MiB} or {@code GiB} (powers of 1024). Decimal units (KB, MB, GB) are
 * refused rather than guessed, since both readings are common and differ by 7% at GB.
 */
public final class Sizes {

    /** Completes "VALUE ..." in an error message. */
    public static final String SYNTAX =
            "must be a size such as 1400, 64KiB, 1MiB or 1GiB (a bare number means bytes)";

    private static final long KIB = 1024;
    private static final long MIB = KIB * 1024;
    private static final long GIB = MIB * 1024;

    private static final Pattern FORMAT = Pattern.compile("(\\d+)(KiB|MiB|GiB)?");
    private static final Pattern OTHER_UNIT = Pattern.compile("\\d+\\s*([A-Za-z]+)");

    private Sizes() {}

    /**
     * Parses a size in bytes.
     *
     * @throws IllegalArgumentException with a message starting "must be" when the text is not a
     *     size or overflows a long
     */
    public static long parse(String text) {
        String t = text.trim();
        Matcher m = FORMAT.matcher(t);
        if (!m.matches()) {
            Matcher other = OTHER_UNIT.matcher(t);
            if (other.matches()) {
                throw new IllegalArgumentException(SYNTAX + "; unit " + other.group(1)
                        + " is not supported, use KiB, MiB or GiB");
            }
            throw new IllegalArgumentException(SYNTAX);
        }
        try {
            long amount = Long.parseLong(m.group(1));
            long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
                case "KiB" -> KIB;
                case "MiB" -> MIB;
                case "GiB" -> GIB;
                default -> throw new IllegalStateException(m.group(2));
            };
            return Math.multiplyExact(amount, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("must be a size of at most 8589934591GiB");
        }
    }

    /** Formats in the largest binary unit that represents the size exactly: 1400, 64KiB, 1GiB. */
    public static String format(long bytes) {
        if (bytes != 0 && bytes % GIB == 0) {
            return bytes / GIB + "GiB";
        }
        if (bytes != 0 && bytes % MIB == 0) {
            return bytes / MIB + "MiB";
        }
        if (bytes != 0 && bytes % KIB == 0) {
            return bytes / KIB + "KiB";
        }
        return Long.toString(bytes);
    }
}
