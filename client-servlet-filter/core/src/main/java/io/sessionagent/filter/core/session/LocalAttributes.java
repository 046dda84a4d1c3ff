package io.sessionagent.filter.core.session;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which session attributes stay on this node: those whose name matches one of the
 * {@code local-attributes} patterns, and those whose value implements {@link NodeLocal}.
 * Such attributes are never serialized, so they are neither replicated nor counted as skipped.
 */
public final class LocalAttributes {
    public static final LocalAttributes NONE = new LocalAttributes(Collections.<String>emptyList());

    private final List<String> patterns;
    /** Null when no pattern was given: the name check is then skipped entirely. */
    private final Pattern names;

    private LocalAttributes(List<String> patterns) {
        this.patterns = Collections.unmodifiableList(new ArrayList<>(patterns));
        if (patterns.isEmpty()) {
            this.names = null;
        } else {
            StringBuilder re = new StringBuilder();
            for (String p : patterns) {
                if (re.length() > 0) {
                    re.append('|');
                }
                re.append(toRegex(p));
            }
            this.names = Pattern.compile(re.toString());
        }
    }

    /**
     * @param spec comma-separated name patterns in which {@code *} matches any run of characters
     *             (none included) and every other character stands for itself; null or blank for none
     */
    public static LocalAttributes parse(String spec) {
        if (spec == null) {
            return NONE;
        }
        List<String> list = new ArrayList<>();
        for (String p : spec.split(",")) {
            String t = p.trim();
            if (!t.isEmpty()) {
                list.add(t);
            }
        }
        return list.isEmpty() ? NONE : new LocalAttributes(list);
    }

    private static String toRegex(String pattern) {
        StringBuilder re = new StringBuilder();
        int start = 0;
        for (int i = 0; i <= pattern.length(); i++) {
            if (i == pattern.length() || pattern.charAt(i) == '*') {
                if (i > start) {
                    // Quoted, so that dots and other regex characters in attribute names are literal.
                    re.append(Pattern.quote(pattern.substring(start, i)));
                }
                if (i < pattern.length()) {
                    re.append(".*");
                }
                start = i + 1;
            }
        }
        return "(?:" + re + ")";
    }

    /** True when the name matches one of the patterns. */
    public boolean matchesName(String name) {
        return names != null && names.matcher(name).matches();
    }

    /** True when this attribute must not leave the node. */
    public boolean isLocal(String name, Object value) {
        return value instanceof NodeLocal || matchesName(name);
    }

    public List<String> patterns() {
        return patterns;
    }

    @Override
    public String toString() {
        return String.join(",", patterns);
    }
}
