package io.sessionagent.agent;

import io.grpc.StatusRuntimeException;
import io.sessionagent.agent.config.ConfigException;
import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.ClusterViewRequest;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;

/**
 * {@code view}: asks the local agent for its cluster view and prints it. The agent's address
 * comes from {@code --grpc HOST:PORT}, or else from the same settings the agent reads
 * (grpc-address and grpc-port, by file, environment or flag), so that a plain {@code view} next
 * to a configured agent finds it.
 */
final class ViewCommand {

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;

    ViewCommand(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    int run(String[] args) {
        ClientOptions options;
        try {
            options = ClientOptions.parse(args, env);
        } catch (ConfigException e) {
            err.println("session-agent view: " + e.getMessage());
            return Main.USAGE;
        }
        if (!options.help && !options.positional.isEmpty()) {
            err.println("session-agent view: unexpected argument " + options.positional.get(0));
            return Main.USAGE;
        }
        if (options.help) {
            out.println("Usage: java -jar session-agent.jar view [--grpc HOST:PORT] [--grpc-port N] [--json] [--timeout 3s]");
            out.println("Shows the cluster as the agent at HOST:PORT (default: grpc-address:grpc-port) sees it.");
            return Main.OK;
        }
        ClusterView view;
        try {
            view = fetch(options.target, options.timeout);
        } catch (StatusRuntimeException e) {
            return AgentCall.report("view", options.target, e, err);
        }
        out.print(options.json ? ViewJson.format(view) : ViewPrinter.format(view));
        out.flush();
        return Main.OK;
    }

    private static ClusterView fetch(HostPort target, Duration timeout) {
        return AgentCall.call(target, timeout, stub -> stub.getClusterView(ClusterViewRequest.getDefaultInstance()));
    }
}
