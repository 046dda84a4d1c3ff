package io.sessionagent.agent.cli;

import io.sessionagent.agent.config.ConfigException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A command that talks to a running agent. Besides its own options it takes every setting of the
 * agent (hidden from its help; {@code run --help} describes them), because those settings are
 * how it finds the agent when no HOST:PORT is given.
 */
abstract class ClientCommand implements Callable<Integer> {

    final Console console;
    /** Set by {@link Cli} when it adds the settings to this command's spec. */
    SettingOptions settings;

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
    boolean help;

    @Option(names = "--timeout", paramLabel = "DURATION",
            description = "How long to wait for the agent's answer, e.g. 500ms or 5s. Default: 10s.")
    String timeout;

    ClientCommand(Console console) {
        this.console = console;
    }

    /** Which of the agent's ports this command talks to. */
    abstract ClientOptions.Port port();

    /** {@code --grpc} or {@code --admin} as given, or null. */
    abstract String address();

    /** Runs the command against the agent; options already resolved. */
    abstract int run(ClientOptions options);

    @Override
    public final Integer call() {
        ClientOptions options;
        try {
            options = ClientOptions.resolve(port(), address(), timeout, settings.given(), console.env());
        } catch (ConfigException e) {
            return usage(e.getMessage());
        }
        return run(options);
    }

    String name() {
        return spec.name();
    }

    int usage(String problem) {
        console.err().println("session-agent " + name() + ": " + problem);
        return Cli.USAGE;
    }
}
