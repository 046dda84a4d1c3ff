package io.sessionagent.agent;

import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.config.ConfigException;
import io.sessionagent.agent.config.ConfigLoader;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The command line of {@code java -jar session-agent.jar}: {@code run} (the default), {@code view}, {@code get}, {@code list}, {@code put},
 * {@code replication}, {@code drain}, {@code health}, {@code ready}, {@code --help} and {@code --version}.
 *
 * <p>Exit codes: 0 success, 1 the agent failed or refused, 2 usage or configuration error, 3 the
 * agent could not be reached, 4 no such session ({@code get}).
 */
public final class Main {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int UNREACHABLE = 3;
    static final int NOT_FOUND = 4;

    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.getenv()));
    }

    /**
     * Runs one command and returns its exit code; never exits the JVM, so that tests can call it.
     *
     * @param env the environment, {@code System.getenv()} in production
     */
    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        if (args.length == 0 || args[0].startsWith("-") && !isHelp(args[0]) && !args[0].equals("--version")) {
            return runAgent(args, out, err, env);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "-h", "--help", "help":
                Usage.print(out);
                return OK;
            case "--version":
                out.println("session-agent " + version());
                return OK;
            case "run":
                return runAgent(rest, out, err, env);
            case "view":
                return new ViewCommand(out, err, env).run(rest);
            case "get", "put", "list":
                return new SessionCommand(args[0], out, err, env).run(rest);
            case "replication", "drain", "health", "ready":
                return new AdminCommand(args[0], out, err, env).run(rest);
            case "keygen":
                return new KeygenCommand(out, err).run(rest);
            default:
                err.println("session-agent: unknown command " + args[0]
                        + " (commands: run, view, get, list, put, replication, drain, health, ready, keygen;"
                        + " see --help)");
                return USAGE;
        }
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null || v.isBlank() ? "dev" : v;
    }

    static boolean isHelp(String arg) {
        return arg.equals("-h") || arg.equals("--help");
    }

    private static int runAgent(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        if (Arrays.stream(args).anyMatch(Main::isHelp)) {
            Usage.print(out);
            return OK;
        }
        AgentConfig config;
        try {
            ConfigLoader.Loaded loaded = ConfigLoader.load(args, env);
            List<String> extra = loaded.arguments();
            if (!extra.isEmpty()) {
                err.println("session-agent: unexpected argument " + extra.get(0)
                        + " (settings are given as --name=value; see --help)");
                return USAGE;
            }
            config = loaded.config();
        } catch (ConfigException e) {
            err.println("session-agent: " + e.getMessage());
            return USAGE;
        }
        logConfig(config);

        Agent agent = new Agent(config);
        // close() is the orderly leave: the hook makes SIGTERM announce it to the group.
        Thread hook = new Thread(agent::close, "session-agent-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            agent.start();
            agent.awaitTermination();
            return OK;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return FAILED;
        } catch (Exception e) {
            log.error("session-agent failed to start", e);
            agent.close();
            return FAILED;
        } finally {
            removeHook(hook);
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // The hook is running or has run; nothing left to undo.
        }
    }

    private static void logConfig(AgentConfig config) {
        StringBuilder sb = new StringBuilder("session-agent ").append(version()).append(", effective configuration:");
        config.asMap().forEach((name, value) ->
                sb.append("\n  ").append(name).append(" = ").append(value)
                        .append(" (").append(config.sourceOf(name)).append(')'));
        log.info(sb.toString());
    }
}
