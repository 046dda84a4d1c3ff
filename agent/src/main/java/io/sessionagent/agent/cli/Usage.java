package io.sessionagent.agent.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The text of {@code --help}: every command with its synopsis, then the options of {@code run},
 * which picocli renders from the options generated from the settings catalogue.
 */
final class Usage {

    private Usage() {}

    static void print(PrintStream out, CommandLine top) {
        StringBuilder sb = new StringBuilder();
        sb.append("""
                Usage: java -jar session-agent.jar [COMMAND] [OPTIONS]

                Commands:
                """);
        List<String[]> rows = new ArrayList<>();
        for (CommandLine sub : top.getSubcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            rows.add(new String[] {spec.name(), spec.usageMessage().header()[0]});
            rows.add(new String[] {"", spec.usageMessage().customSynopsis()[0]});
        }
        sb.append(TextTable.format("  ", rows));
        sb.append("""

                view, get, list and put find the agent at grpc-address:grpc-port of its settings;
                replication, drain, health and ready at metrics-address:metrics-port, which also
                serves /metrics, /health and /ready. `COMMAND --help` shows a command's own options.

                Options:
                  -h, --help       Show this help.
                  --version        Print the version.
                  --config FILE    Read settings from a YAML file (or set SESSION_AGENT_CONFIG=FILE).
                  --NAME=VALUE     Set a setting (also --NAME VALUE); a boolean flag alone means true.

                Settings are taken from, later winning: the defaults below, the YAML file (a flat map,
                one "NAME: VALUE" per line), environment variables SESSION_AGENT_<NAME> (upper case,
                "-" as "_", e.g. SESSION_AGENT_GRPC_PORT=7500), then flags --NAME=VALUE.
                Durations: 500ms, 3s, 10m, 1h, or a bare number of milliseconds.
                Sizes: 1400, 64KiB, 1MiB, 1GiB, or a bare number of bytes.

                Settings (the options of run):
                """);
        CommandSpec run = top.getSubcommands().get(Cli.RUN).getCommandSpec();
        sb.append(new CommandLine.Help(run, CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF))
                .optionList());
        sb.append("""

                Exit codes: 0 success, 1 the agent failed or refused, 2 usage or configuration error,
                3 the agent could not be reached, 4 no such session (get).
                """);
        out.print(sb);
        out.flush();
    }
}
