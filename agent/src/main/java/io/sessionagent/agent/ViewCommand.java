package io.sessionagent.agent;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.config.ConfigException;
import io.sessionagent.agent.config.ConfigLoader;
import io.sessionagent.agent.config.Durations;
import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.ClusterViewRequest;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code view}: asks the local agent for its cluster view and prints it. The agent's address
 * comes from {@code --grpc HOST:PORT}, or else from the same settings the agent reads
 * (grpc-address and grpc-port, by file, environment or flag), so that a plain {@code view} next
 * to a configured agent finds it.
 */
final class ViewCommand {

    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;

    ViewCommand(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    int run(String[] args) {
        Options options;
        try {
            options = Options.parse(args, env);
        } catch (ConfigException e) {
            err.println("session-agent view: " + e.getMessage());
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
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
                err.println("session-agent view: cannot reach the agent at " + options.target + ": " + describe(e));
                return Main.UNREACHABLE;
            }
            err.println("session-agent view: the agent at " + options.target + " failed: " + describe(e));
            return Main.FAILED;
        }
        out.print(options.json ? ViewJson.format(view) : ViewPrinter.format(view));
        out.flush();
        return Main.OK;
    }

    private static ClusterView fetch(HostPort target, Duration timeout) {
        ManagedChannel channel = NettyChannelBuilder.forTarget("dns:///" + target).usePlaintext().build();
        try {
            return SessionServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .getClusterView(ClusterViewRequest.getDefaultInstance());
        } finally {
            channel.shutdownNow();
            try {
                channel.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String describe(StatusRuntimeException e) {
        Status s = e.getStatus();
        return s.getDescription() == null ? s.getCode().toString() : s.getCode() + " (" + s.getDescription() + ")";
    }

    /** The options of {@code view}; everything it does not know is handed to the config loader. */
    private static final class Options {
        HostPort target;
        boolean json;
        boolean help;
        Duration timeout = DEFAULT_TIMEOUT;

        static Options parse(String[] args, Map<String, String> env) {
            Options o = new Options();
            List<String> problems = new ArrayList<>();
            List<String> settings = new ArrayList<>();
            String grpc = null;
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
                boolean takesValue = name.equals("--grpc") || name.equals("--timeout");
                String value = null;
                if (takesValue) {
                    if (!name.equals(arg)) {
                        value = arg.substring(name.length() + 1);
                    } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                        value = args[++i];
                    } else {
                        problems.add(name + ": missing value (use " + name + "=VALUE or " + name + " VALUE)");
                        continue;
                    }
                }
                switch (name) {
                    case "-h", "--help" -> o.help = true;
                    case "--json" -> o.json = true;
                    case "--grpc" -> grpc = value;
                    case "--timeout" -> o.timeout = timeout(value, problems);
                    default -> settings.add(arg);
                }
            }
            if (o.help) {
                return o;
            }
            AgentConfig config = null;
            try {
                ConfigLoader.Loaded loaded = ConfigLoader.load(settings.toArray(String[]::new), env);
                loaded.arguments().forEach(a -> problems.add("unexpected argument " + a));
                config = loaded.config();
            } catch (ConfigException e) {
                problems.addAll(e.problems());
            }
            if (grpc != null) {
                try {
                    o.target = HostPort.parse(grpc);
                } catch (IllegalArgumentException e) {
                    problems.add("--grpc: " + grpc + " " + e.getMessage());
                }
            } else if (config != null) {
                if (config.grpcPort() == 0) {
                    problems.add("grpc-port is 0 (any free port), so the agent's port is not known:"
                            + " pass --grpc HOST:PORT with the port the agent logged");
                } else {
                    o.target = new HostPort(connectable(config.grpcAddress()), config.grpcPort());
                }
            }
            if (!problems.isEmpty()) {
                throw new ConfigException(problems);
            }
            return o;
        }

        private static Duration timeout(String text, List<String> problems) {
            try {
                Duration d = Durations.parse(text);
                if (!d.isZero()) {
                    return d;
                }
            } catch (IllegalArgumentException e) {
                problems.add("--timeout: " + text + " " + e.getMessage());
                return DEFAULT_TIMEOUT;
            }
            problems.add("--timeout: " + text + " must be greater than 0");
            return DEFAULT_TIMEOUT;
        }

        /** An agent bound to the wildcard address is reached on loopback. */
        private static String connectable(String address) {
            return switch (address) {
                case "0.0.0.0" -> "127.0.0.1";
                case "::", "0:0:0:0:0:0:0:0" -> "::1";
                default -> address;
            };
        }
    }
}
