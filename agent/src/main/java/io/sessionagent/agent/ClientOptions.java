package io.sessionagent.agent;

import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.config.ConfigException;
import io.sessionagent.agent.config.ConfigLoader;
import io.sessionagent.agent.config.Durations;
import io.sessionagent.agent.config.TokenFile;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The options shared by the commands that talk to a running agent ({@code view}, {@code get},
 * {@code put}, {@code list} over gRPC; {@code replication}, {@code drain} over the admin HTTP
 * port): where the agent is, JSON or text, the timeout. Everything else is handed to the config
 * loader, so that the agent's own settings locate it.
 */
final class ClientOptions {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);

    /** Which of the agent's ports a command talks to, and the flag and settings that locate it. */
    enum Port {
        GRPC("--grpc", "grpc-port"),
        ADMIN("--admin", "metrics-port");

        final String flag;
        final String portSetting;

        Port(String flag, String portSetting) {
            this.flag = flag;
            this.portSetting = portSetting;
        }
    }

    HostPort target;
    List<String> positional = new ArrayList<>();
    boolean json;
    boolean help;
    Duration timeout = DEFAULT_TIMEOUT;
    boolean timeoutGiven;
    /** The agent's admin token (admin-token-file of its settings), or null when none is set. */
    String adminToken;

    static ClientOptions parse(String[] args, Map<String, String> env) {
        return parse(args, env, Port.GRPC);
    }

    static ClientOptions parse(String[] args, Map<String, String> env, Port port) {
        ClientOptions o = new ClientOptions();
        List<String> problems = new ArrayList<>();
        List<String> settings = new ArrayList<>();
        String grpc = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            boolean takesValue = name.equals(port.flag) || name.equals("--timeout");
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
                case "--timeout" -> {
                    o.timeout = timeout(value, problems);
                    o.timeoutGiven = true;
                }
                default -> {
                    if (name.equals(port.flag)) {
                        grpc = value;
                    } else {
                        settings.add(arg);
                    }
                }
            }
        }
        if (o.help) {
            return o;
        }
        AgentConfig config = null;
        try {
            ConfigLoader.Loaded loaded = ConfigLoader.load(settings.toArray(String[]::new), env);
            o.positional.addAll(loaded.arguments());
            config = loaded.config();
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }
        if (port == Port.ADMIN && config != null && config.adminTokenFile().isPresent()) {
            try {
                o.adminToken = TokenFile.read(config.adminTokenFile().get(), "admin-token-file");
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        }
        if (grpc != null) {
            try {
                o.target = HostPort.parse(grpc);
            } catch (IllegalArgumentException e) {
                problems.add(port.flag + ": " + grpc + " " + e.getMessage());
            }
        } else if (config != null) {
            int p = port == Port.GRPC ? config.grpcPort() : config.metricsPort();
            String address = port == Port.GRPC ? config.grpcAddress() : config.metricsAddress();
            if (p == 0) {
                problems.add(port.portSetting + " is 0 (any free port), so the agent's port is not known:"
                        + " pass " + port.flag + " HOST:PORT with the port the agent logged");
            } else {
                o.target = new HostPort(connectable(address), p);
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
