package io.sessionagent.agent.cli;

import io.sessionagent.agent.config.ConfigLoader;
import io.sessionagent.agent.config.Setting;
import io.sessionagent.agent.config.Settings;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;

/**
 * One option per setting of the catalogue ({@link Settings#all()}), plus {@code --config FILE},
 * generated so that the help and the parser cannot disagree with the catalogue.
 *
 * <p>The options only collect what was given, as {@code --name=value} in the order given; the
 * values are checked by {@link ConfigLoader}, which also merges them with the YAML file, the
 * environment and the defaults. That keeps one precedence and one set of error messages for
 * every way a setting can be given. For the same reason no option carries a picocli default:
 * picocli would apply it as if it had been given, and it would then win over the file and the
 * environment.
 */
final class SettingOptions {

    /** Shown after each setting's description; a test reads it back to find the default. */
    static final String DEFAULT_PREFIX = "Default: ";

    private final List<String> given = new ArrayList<>();

    private SettingOptions() {}

    /**
     * Adds {@code --config} and every setting to {@code spec}.
     *
     * @param hidden whether they stay out of the command's help (the client commands accept them
     *     to locate the agent, but {@code run} is where they are described)
     */
    static SettingOptions addTo(CommandSpec spec, boolean hidden) {
        SettingOptions options = new SettingOptions();
        spec.addOption(OptionSpec.builder(ConfigLoader.CONFIG_FLAG)
                .paramLabel("FILE")
                .type(String.class)
                .hidden(hidden)
                .hasInitialValue(false)
                .description("Read settings from a YAML file (or set " + ConfigLoader.CONFIG_ENV + "=FILE).")
                .setter(options.recorder(ConfigLoader.CONFIG_FLAG))
                .build());
        for (Setting<?> s : Settings.all()) {
            boolean bool = s.type().equals("boolean");
            OptionSpec.Builder option = OptionSpec.builder(s.flag())
                    .paramLabel(bool ? "true|false" : "<" + s.type() + ">")
                    .type(String.class)
                    .hidden(hidden)
                    .hasInitialValue(false)
                    .description(literal(s.description()), DEFAULT_PREFIX + literal(s.defaultLabel()))
                    .setter(options.recorder(s.flag()));
            if (bool) {
                // A boolean flag given alone means true, as ConfigLoader reads it.
                option.arity("0..1").fallbackValue("true");
            }
            spec.addOption(option.build());
        }
        return options;
    }

    /** The settings given, as {@code --name=value} arguments for {@link ConfigLoader#load}. */
    List<String> given() {
        return List.copyOf(given);
    }

    /** Picocli runs descriptions through String.format; a catalogue text is shown as written. */
    static String literal(String text) {
        return text.replace("%", "%%");
    }

    private ISetter recorder(String flag) {
        return new ISetter() {
            @Override
            public <T> T set(T value) {
                if (value != null) {
                    given.add(flag + "=" + value);
                }
                return null;
            }
        };
    }
}
