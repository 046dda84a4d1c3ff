package io.sessionagent.agent.cli;

import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.config.ConfigException;
import io.sessionagent.agent.config.ConfigLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * {@code run}: starts the agent. Its options are generated from the settings catalogue
 * ({@link SettingOptions}); what picocli does not recognise is handed to {@link ConfigLoader}
 * too, so that an unknown flag, a stray argument and a bad value of the environment are reported
 * together, with the loader's hints (did you mean ...?).
 */
final class RunCommand implements Callable<Integer> {
    static final String HEADER = "Start the agent (the default when the first argument is a flag or absent).";
    static final String SYNOPSIS = "run [--config FILE] [--NAME=VALUE ...]";

    private final Console console;
    private final Cli.AgentStarter starter;
    private SettingOptions settings;
    private PositionalParamSpec unrecognised;

    private RunCommand(Console console, Cli.AgentStarter starter) {
        this.console = console;
        this.starter = starter;
    }

    static CommandSpec spec(Console console, Cli.AgentStarter starter) {
        RunCommand command = new RunCommand(console, starter);
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command).name(Cli.RUN);
        // In the order of the catalogue, which groups related settings.
        spec.usageMessage().header(HEADER).customSynopsis(SYNOPSIS).sortOptions(false);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help.").build());
        command.settings = SettingOptions.addTo(spec, false);
        command.unrecognised = PositionalParamSpec.builder()
                .arity("0..*")
                .type(List.class)
                .auxiliaryTypes(String.class)
                .hidden(true)
                .build();
        spec.addPositional(command.unrecognised);
        spec.parser().unmatchedOptionsArePositionalParams(true);
        return spec;
    }

    @Override
    public Integer call() {
        List<String> args = new ArrayList<>(settings.given());
        List<String> rest = unrecognised.getValue();
        if (rest != null) {
            args.addAll(rest);
        }
        AgentConfig config;
        try {
            ConfigLoader.Loaded loaded = ConfigLoader.load(args.toArray(String[]::new), console.env());
            List<String> extra = loaded.arguments();
            if (!extra.isEmpty()) {
                console.err().println("session-agent: unexpected argument " + extra.get(0)
                        + " (settings are given as --name=value; see --help)");
                return Cli.USAGE;
            }
            config = loaded.config();
        } catch (ConfigException e) {
            console.err().println("session-agent: " + e.getMessage());
            return Cli.USAGE;
        }
        return starter.start(config);
    }
}
