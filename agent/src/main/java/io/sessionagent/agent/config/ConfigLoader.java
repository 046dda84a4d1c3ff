package io.sessionagent.agent.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Builds the {@link AgentConfig} from its layers, later winning: the catalogue's defaults, the
 * YAML file, {@code SESSION_AGENT_*} environment variables, then command-line flags.
 *
 * <p>The file is named by {@code --config FILE} or, failing that, by {@code SESSION_AGENT_CONFIG}.
 * Flags are {@code --name=value} or {@code --name value}; a boolean flag given alone means true.
 * Arguments that are not flags, and everything after {@code --}, are returned as positional.
 */
public final class ConfigLoader {

    /** Prefix of the environment variables that set settings. */
    public static final String ENV_PREFIX = "SESSION_AGENT_";
    /** Environment variable naming the YAML file. */
    public static final String CONFIG_ENV = "SESSION_AGENT_CONFIG";
    /** Flag naming the YAML file. */
    public static final String CONFIG_FLAG = "--config";

    /**
     * The outcome of {@link #load}.
     *
     * @param config the validated configuration
     * @param arguments the positional arguments, in order
     * @param configFile the YAML file read, if any
     */
    public record Loaded(AgentConfig config, List<String> arguments, Optional<Path> configFile) {
        public Loaded {
            arguments = List.copyOf(arguments);
        }
    }

    private ConfigLoader() {}

    /**
     * Loads the configuration.
     *
     * @param args command-line arguments (flags and positional arguments)
     * @param env the environment; {@code System.getenv()} in production
     * @throws ConfigException listing every problem found in any layer
     */
    public static Loaded load(String[] args, Map<String, String> env) {
        List<String> problems = new ArrayList<>();
        Flags flags = Flags.parse(args, problems);

        Optional<Path> file = flags.configFile
                .or(() -> Optional.ofNullable(env.get(CONFIG_ENV)).filter(s -> !s.isBlank()))
                .map(Path::of);

        Map<String, RawValue> explicit = new LinkedHashMap<>();
        file.ifPresent(path -> readFile(path, explicit, problems));
        readEnv(env, explicit, problems);
        explicit.putAll(flags.values);

        AgentConfig config = AgentConfig.resolve(explicit, problems, LocalHost::name);
        return new Loaded(config, flags.positional, file);
    }

    private static void readFile(Path path, Map<String, RawValue> explicit, List<String> problems) {
        Source source = Source.file(path.toString());
        YamlFile.read(path, problems).forEach((key, value) -> {
            if (Settings.find(key).isPresent()) {
                explicit.put(key, new RawValue(value, source));
            } else {
                problems.add("config file " + path + ": unknown setting " + key
                        + Names.hint(key, Settings.names(), "", false));
            }
        });
    }

    private static void readEnv(Map<String, String> env, Map<String, RawValue> explicit, List<String> problems) {
        // Sorted so that problems come out in the same order on every run.
        new TreeMap<>(env).forEach((variable, value) -> {
            if (!variable.startsWith(ENV_PREFIX) || variable.equals(CONFIG_ENV)) {
                return;
            }
            String name = Names.normalise(variable.substring(ENV_PREFIX.length()));
            if (Settings.find(name).isPresent() && Setting.envVariableFor(name).equals(variable)) {
                explicit.put(name, new RawValue(value, Source.env(variable)));
            } else {
                problems.add("unknown environment variable " + variable
                        + Names.hint(variable, Settings.names(), "", true));
            }
        });
    }

    /** The command line split into setting values, the config file and positional arguments. */
    private static final class Flags {
        final Map<String, RawValue> values = new LinkedHashMap<>();
        final List<String> positional = new ArrayList<>();
        Optional<String> configFile = Optional.empty();

        static Flags parse(String[] args, List<String> problems) {
            Flags flags = new Flags();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (arg.equals("--")) {
                    flags.positional.addAll(List.of(args).subList(i + 1, args.length));
                    break;
                }
                if (!arg.startsWith("-") || arg.equals("-")) {
                    flags.positional.add(arg);
                    continue;
                }
                if (!arg.startsWith("--")) {
                    problems.add("unknown option " + arg + Names.hint(arg, Settings.names(), "--", false));
                    continue;
                }
                int eq = arg.indexOf('=');
                String flag = eq < 0 ? arg : arg.substring(0, eq);
                String name = flag.substring(2);
                String inline = eq < 0 ? null : arg.substring(eq + 1);
                boolean nextIsValue = i + 1 < args.length && !args[i + 1].startsWith("--");

                if (flag.equals(CONFIG_FLAG)) {
                    if (inline != null) {
                        flags.configFile = Optional.of(inline);
                    } else if (nextIsValue) {
                        flags.configFile = Optional.of(args[++i]);
                    } else {
                        problems.add(missingValue(flag));
                    }
                    continue;
                }
                Optional<Setting<?>> setting = Settings.find(name);
                if (setting.isEmpty()) {
                    problems.add("unknown flag " + flag + Names.hint(name, Settings.names(), "--", false));
                    // Most likely "--name value": skip the value too, not to report it as well.
                    if (inline == null && nextIsValue) {
                        i++;
                    }
                    continue;
                }
                String value;
                if (inline != null) {
                    value = inline;
                } else if (setting.get().type().equals("boolean")) {
                    boolean explicitBoolean = nextIsValue
                            && (args[i + 1].equalsIgnoreCase("true") || args[i + 1].equalsIgnoreCase("false"));
                    value = explicitBoolean ? args[++i] : "true";
                } else if (nextIsValue) {
                    value = args[++i];
                } else {
                    problems.add(missingValue(flag));
                    continue;
                }
                flags.values.put(name, new RawValue(value, Source.flag(flag)));
            }
            return flags;
        }

        private static String missingValue(String flag) {
            return flag + ": missing value (use " + flag + "=VALUE or " + flag + " VALUE)";
        }
    }
}
