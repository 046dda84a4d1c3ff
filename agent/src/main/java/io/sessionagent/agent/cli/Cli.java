package io.sessionagent.agent.cli;

import io.sessionagent.agent.config.AgentConfig;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The command line of {@code java -jar session-agent.jar}: {@code run} (the default), {@code view},
 * {@code get}, {@code list}, {@code put}, {@code replication}, {@code drain}, {@code health},
 * {@code ready}, {@code keygen}, {@code --help} and {@code --version}, parsed by picocli.
 *
 * <p>Starting the agent is left to the caller ({@link AgentStarter}): the daemon's wiring depends on
 * this package for its admin view, so this package must not depend on the wiring.
 */
public final class Cli {
    /** Exit code: success. */
    public static final int OK = 0;
    /** Exit code: the agent failed or refused. */
    public static final int FAILED = 1;
    /** Exit code: usage or configuration error. */
    public static final int USAGE = 2;
    /** Exit code: the agent could not be reached. */
    public static final int UNREACHABLE = 3;
    /** Exit code: no such session ({@code get}). */
    public static final int NOT_FOUND = 4;

    static final String RUN = "run";

    /** Starts the agent with a validated configuration and returns the exit code once it stops. */
    @FunctionalInterface
    public interface AgentStarter {
        int start(AgentConfig config);
    }

    private Cli() {}

    /**
     * Runs one command and returns its exit code; never exits the JVM, so that tests can call it.
     *
     * @param env the environment, {@code System.getenv()} in production
     */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env,
                          AgentStarter starter) {
        Console console = new Console(out, err, env);
        CommandLine top = commandLine(console, starter);
        String[] argv = args;
        // Settings alone start the agent: the container image and scripts run the jar that way.
        if (args.length == 0 || args[0].startsWith("-") && !isHelp(args[0]) && !args[0].equals("--version")) {
            argv = new String[args.length + 1];
            argv[0] = RUN;
            System.arraycopy(args, 0, argv, 1, args.length);
        }
        if (argv[0].equals("help")) {
            Usage.print(out, top);
            return OK;
        }
        ParseResult parsed;
        try {
            parsed = top.parseArgs(argv);
        } catch (ParameterException e) {
            err.println(message(e, top));
            return USAGE;
        }
        if (parsed.isVersionHelpRequested()) {
            out.println("session-agent " + version());
            return OK;
        }
        ParseResult sub = parsed.subcommand();
        if (parsed.isUsageHelpRequested() || sub == null
                || sub.isUsageHelpRequested() && sub.commandSpec().name().equals(RUN)) {
            Usage.print(out, top);
            return OK;
        }
        if (sub.isUsageHelpRequested()) {
            sub.commandSpec().commandLine().usage(out, Ansi.OFF);
            return OK;
        }
        @SuppressWarnings("unchecked")
        Callable<Integer> command = (Callable<Integer>) sub.commandSpec().userObject();
        try {
            return command.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The version from the jar's manifest, {@code dev} outside a jar. */
    public static String version() {
        String v = Cli.class.getPackage().getImplementationVersion();
        return v == null || v.isBlank() ? "dev" : v;
    }

    static boolean isHelp(String arg) {
        return arg.equals("-h") || arg.equals("--help");
    }

    /** The whole command line: every command, each with its own options, for one run. */
    static CommandLine commandLine(Console console, AgentStarter starter) {
        CommandSpec spec = CommandSpec.create().name("session-agent");
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help.").build());
        spec.addOption(OptionSpec.builder("--version").versionHelp(true).description("Print the version.").build());
        CommandLine top = new CommandLine(spec);
        top.addSubcommand(RUN, new CommandLine(RunCommand.spec(console, starter)));
        List<CommandLine> sessions = List.of(
                client(new ViewCommand(console)),
                client(new SessionCommands.Get(console)),
                client(new SessionCommands.ListSessions(console)),
                client(new SessionCommands.Put(console)));
        List<CommandLine> admin = List.of(
                client(new AdminCommands.Replication(console)),
                client(new AdminCommands.Drain(console)),
                client(new AdminCommands.Health(console)),
                client(new AdminCommands.Ready(console)));
        sessions.forEach(top::addSubcommand);
        admin.forEach(top::addSubcommand);
        top.addSubcommand(new CommandLine(new KeygenCommand(console)));
        top.getSubcommands().values().forEach(Cli::headings);
        related(sessions.subList(1, sessions.size()));
        related(admin);
        // A setting given twice takes the last value, as the config loader has always done.
        top.setOverwrittenOptionsAllowed(true);
        // Arguments are taken as written: an @ at the start is part of a session id or value, not a
        // file to expand, and a ${...} in a catalogue text is not a variable.
        top.setExpandAtFiles(false);
        top.setInterpolateVariables(false);
        top.setUsageHelpWidth(100);
        return top;
    }

    private static void headings(CommandLine line) {
        line.getCommandSpec().usageMessage()
                .synopsisHeading("Usage: java -jar session-agent.jar ")
                .descriptionHeading("%n")
                .parameterListHeading("%nArguments:%n")
                .optionListHeading("%nOptions:%n")
                .footerHeading("%n");
    }

    private static CommandLine client(ClientCommand command) {
        CommandLine line = new CommandLine(command);
        command.settings = SettingOptions.addTo(line.getCommandSpec(), true);
        return line;
    }

    /** Lists the synopses of a group of commands under each of them, as one help covered them all. */
    private static void related(List<CommandLine> group) {
        for (CommandLine line : group) {
            List<String> footer = new ArrayList<>(List.of(line.getCommandSpec().usageMessage().footer()));
            footer.add("%nRelated commands:");
            for (CommandLine other : group) {
                if (other != line) {
                    footer.add("  " + other.getCommandSpec().usageMessage().customSynopsis()[0]);
                }
            }
            line.getCommandSpec().usageMessage().footer(footer.toArray(String[]::new));
        }
    }

    /** One line naming what is wrong, in the words the commands have always used. */
    static String message(ParameterException e, CommandLine top) {
        CommandLine line = e.getCommandLine();
        boolean general = line == top || line.getCommandName().equals(RUN);
        String prefix = general ? "session-agent: " : "session-agent " + line.getCommandName() + ": ";
        if (e instanceof MissingParameterException missing && !missing.getMissing().isEmpty()
                && missing.getMissing().get(0) instanceof OptionSpec option) {
            String flag = option.longestName();
            return prefix + flag + ": missing value (use " + flag + "=VALUE or " + flag + " VALUE)";
        }
        if (e instanceof UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()) {
            String arg = unmatched.getUnmatched().get(0);
            if (line == top) {
                return prefix + "unknown command " + arg + " (commands: "
                        + String.join(", ", top.getSubcommands().keySet()) + "; see --help)";
            }
            if (arg.startsWith("-")) {
                String flag = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
                List<String> suggestions = unmatched.getSuggestions();
                return prefix + "unknown flag " + flag
                        + (suggestions.isEmpty() ? "" : " (did you mean " + suggestions.get(0) + "?)")
                        + "; see " + line.getCommandName() + " --help";
            }
            return prefix + "unexpected argument " + arg;
        }
        return prefix + e.getMessage();
    }
}
