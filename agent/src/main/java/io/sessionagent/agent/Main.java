package io.sessionagent.agent;

import io.sessionagent.agent.cli.Cli;
import io.sessionagent.agent.config.AgentConfig;
import java.io.PrintStream;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point of {@code java -jar session-agent.jar}. The command line is parsed in
 * {@link Cli}; this class only starts and stops the {@link Agent} for {@code run}, which the
 * {@code cli} package cannot do without depending on the wiring that depends on it.
 *
 * <p>Exit codes: 0 success, 1 the agent failed or refused, 2 usage or configuration error, 3 the
 * agent could not be reached, 4 no such session ({@code get}).
 */
public final class Main {

    static final int OK = Cli.OK;
    static final int FAILED = Cli.FAILED;
    static final int USAGE = Cli.USAGE;
    static final int UNREACHABLE = Cli.UNREACHABLE;
    static final int NOT_FOUND = Cli.NOT_FOUND;

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
        return Cli.run(args, out, err, env, Main::runAgent);
    }

    private static int runAgent(AgentConfig config) {
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
        StringBuilder sb = new StringBuilder("session-agent ").append(Cli.version()).append(", effective configuration:");
        config.asMap().forEach((name, value) ->
                sb.append("\n  ").append(name).append(" = ").append(value)
                        .append(" (").append(config.sourceOf(name)).append(')'));
        log.info(sb.toString());
    }
}
