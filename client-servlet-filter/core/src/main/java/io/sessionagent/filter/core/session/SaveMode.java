package io.sessionagent.filter.core.session;

import java.util.Locale;

/** Which attributes a request's delta carries besides those set or removed. */
public enum SaveMode {
    /** Attributes read during the request whose serialized form changed (objects mutated in place). */
    ON_READ_CHANGE("on-read-change"),
    /** Only attributes passed to setAttribute or removeAttribute. */
    SET("set"),
    /** Every attribute read during the request, changed or not. */
    ALWAYS("always");

    private final String paramValue;

    SaveMode(String paramValue) {
        this.paramValue = paramValue;
    }

    public String paramValue() {
        return paramValue;
    }

    public static SaveMode parse(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        for (SaveMode m : values()) {
            if (m.paramValue.equals(v)) {
                return m;
            }
        }
        throw new IllegalArgumentException("save-mode '" + s + "': expected on-read-change, set or always");
    }
}
