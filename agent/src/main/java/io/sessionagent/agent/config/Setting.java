package io.sessionagent.agent.config;

import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * One entry of the {@link Settings} catalogue: its name, the type shown to operators, its
 * default, a one-line description, and how a textual value is parsed and checked.
 *
 * @param <T> the Java type of the parsed value
 */
public final class Setting<T> {

    /** Parses and range-checks one textual value. */
    @FunctionalInterface
    interface Parser<T> {
        T parse(String text) throws InvalidValueException;
    }

    private final String name;
    private final String type;
    private final String defaultValue;
    private final String defaultLabel;
    private final String description;
    private final Parser<T> parser;
    private final Function<T, String> formatter;

    Setting(String name, String type, String defaultValue, String defaultLabel, String description,
            Parser<T> parser, Function<T, String> formatter) {
        this.name = Objects.requireNonNull(name);
        this.type = Objects.requireNonNull(type);
        this.defaultValue = Objects.requireNonNull(defaultValue);
        this.defaultLabel = Objects.requireNonNull(defaultLabel);
        this.description = Objects.requireNonNull(description);
        this.parser = Objects.requireNonNull(parser);
        this.formatter = Objects.requireNonNull(formatter);
    }

    /** Kebab-case name, as used in the YAML file and as a flag without the leading dashes. */
    public String name() {
        return name;
    }

    /** Type and allowed values for operators, e.g. {@code int 1..65535} or {@code duration}. */
    public String type() {
        return type;
    }

    /** The default as text in the setting's own syntax; empty when computed or unset. */
    public String defaultValue() {
        return defaultValue;
    }

    /** The default as shown in the help, which may describe a computed value. */
    public String defaultLabel() {
        return defaultLabel;
    }

    /** One-line description. */
    public String description() {
        return description;
    }

    /** The environment variable that sets it, e.g. {@code SESSION_AGENT_GRPC_PORT}. */
    public String envVariable() {
        return envVariableFor(name);
    }

    /** The command-line flag that sets it, e.g. {@code --grpc-port}. */
    public String flag() {
        return "--" + name;
    }

    T parse(String text) throws InvalidValueException {
        return parser.parse(text);
    }

    @SuppressWarnings("unchecked")
    String format(Object value) {
        return formatter.apply((T) value);
    }

    static String envVariableFor(String kebabName) {
        return ConfigLoader.ENV_PREFIX + kebabName.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    @Override
    public String toString() {
        return name;
    }
}
