package io.sessionagent.agent.config;

import java.util.Objects;

/**
 * Where a setting's value came from. Carried with every value so that an error can point the
 * operator at the exact file, variable or flag to fix.
 *
 * @param kind the layer
 * @param where the file path, environment variable name or flag; empty for {@link Kind#DEFAULT}
 *     and {@link Kind#GIVEN}
 */
public record Source(Kind kind, String where) {

    /** The configuration layers, lowest precedence first. */
    public enum Kind {
        /** The catalogue's default. */
        DEFAULT,
        /** The YAML file. */
        FILE,
        /** A {@code SESSION_AGENT_*} environment variable. */
        ENV,
        /** A command-line flag. */
        FLAG,
        /** Set in code, through {@link AgentConfig#fromMap} or {@link AgentConfig#with}. */
        GIVEN
    }

    public Source {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(where, "where");
    }

    public static Source defaultValue() {
        return new Source(Kind.DEFAULT, "");
    }

    public static Source file(String path) {
        return new Source(Kind.FILE, path);
    }

    public static Source env(String variable) {
        return new Source(Kind.ENV, variable);
    }

    public static Source flag(String flag) {
        return new Source(Kind.FLAG, flag);
    }

    public static Source given() {
        return new Source(Kind.GIVEN, "");
    }

    /** The phrase used in messages, e.g. {@code from flag --multicast-port}. */
    @Override
    public String toString() {
        return switch (kind) {
            case DEFAULT -> "default";
            case FILE -> "from file " + where;
            case ENV -> "from env " + where;
            case FLAG -> "from flag " + where;
            case GIVEN -> "given in code";
        };
    }
}
