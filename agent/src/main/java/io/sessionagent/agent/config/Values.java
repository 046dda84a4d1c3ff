package io.sessionagent.agent.config;

import io.sessionagent.grammar.Durations;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** Parsers for the value types of the catalogue. None of them touches DNS or the network. */
final class Values {

    private static final Pattern IPV4 =
            Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    // Only characters an IPv6 literal can hold, and a leading hex digit or colon: for any other
    // text InetAddress.getByName would fall back to a name lookup.
    private static final Pattern IPV6 =
            Pattern.compile("[0-9A-Fa-f:][0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?");

    private Values() {}

    static Setting.Parser<String> matching(String regex, String allowed) {
        Pattern pattern = Pattern.compile(regex);
        return text -> {
            if (!pattern.matcher(text).matches()) {
                throw new InvalidValueException("must be " + allowed);
            }
            return text;
        };
    }

    static Setting.Parser<Integer> intBetween(int min, int max) {
        return text -> {
            long value;
            try {
                value = Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                throw new InvalidValueException("must be a whole number between " + min + " and " + max);
            }
            if (value < min || value > max) {
                throw new InvalidValueException("must be between " + min + " and " + max);
            }
            return (int) value;
        };
    }

    static Setting.Parser<Duration> duration(boolean zeroAllowed) {
        return text -> {
            Duration d;
            try {
                d = Durations.parse(text);
            } catch (IllegalArgumentException e) {
                throw new InvalidValueException(e.getMessage());
            }
            if (d.isZero() && !zeroAllowed) {
                throw new InvalidValueException("must be greater than 0");
            }
            return d;
        };
    }

    static Setting.Parser<Long> size() {
        return text -> {
            long bytes;
            try {
                bytes = Sizes.parse(text);
            } catch (IllegalArgumentException e) {
                throw new InvalidValueException(e.getMessage());
            }
            if (bytes <= 0) {
                throw new InvalidValueException("must be greater than 0");
            }
            return bytes;
        };
    }

    static Setting.Parser<Boolean> bool() {
        return text -> switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidValueException("must be true or false");
        };
    }

    static Setting.Parser<InetAddress> ipv4Multicast() {
        String allowed = "must be an IPv4 multicast address (224.0.0.0 to 239.255.255.255)";
        return text -> {
            byte[] bytes = ipv4(text.trim());
            if (bytes == null) {
                throw new InvalidValueException(allowed);
            }
            if ((bytes[0] & 0xF0) != 0xE0) {
                throw new InvalidValueException(allowed);
            }
            try {
                return InetAddress.getByAddress(bytes);
            } catch (UnknownHostException e) {
                throw new InvalidValueException(allowed);
            }
        };
    }

    static Setting.Parser<String> ipLiteral() {
        return text -> {
            String t = text.trim();
            if (!isIpLiteral(t)) {
                throw new InvalidValueException(
                        "must be an IP address literal such as 127.0.0.1 or ::1 (host names are not resolved)");
            }
            return t;
        };
    }

    /** An IP literal, or empty for "not set". */
    static Setting.Parser<Optional<Integer>> optionalIntBetween(int min, int max) {
        Setting.Parser<Integer> number = intBetween(min, max);
        return text -> text.isBlank() ? Optional.empty() : Optional.of(number.parse(text));
    }

    static Setting.Parser<Optional<String>> optionalIpLiteral() {
        Setting.Parser<String> literal = ipLiteral();
        return text -> text.isBlank() ? Optional.empty() : Optional.of(literal.parse(text));
    }

    /** A file path; blank means not set. Whether the file exists is checked where it is read. */
    static Setting.Parser<Optional<Path>> optionalPath() {
        return text -> {
            if (text.isBlank()) {
                return Optional.empty();
            }
            try {
                return Optional.of(Path.of(text.strip()));
            } catch (InvalidPathException e) {
                throw new InvalidValueException("not a file path: " + e.getReason());
            }
        };
    }

    static boolean isIpLiteral(String text) {
        if (ipv4(text) != null) {
            return true;
        }
        if (!text.contains(":") || !IPV6.matcher(text).matches()) {
            return false;
        }
        try {
            return InetAddress.getByName(text) != null;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The four bytes of a dotted-quad IPv4 literal, or null. */
    static byte[] ipv4(String text) {
        var m = IPV4.matcher(text);
        if (!m.matches()) {
            return null;
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            int octet = Integer.parseInt(m.group(i + 1));
            if (octet > 255) {
                return null;
            }
            bytes[i] = (byte) octet;
        }
        return bytes;
    }
}
