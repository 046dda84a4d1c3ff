package io.sessionagent.agent.cli;

import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.config.ConfigException;
import io.sessionagent.agent.config.ConfigLoader;
import io.sessionagent.grammar.Durations;
import io.sessionagent.agent.config.TokenFile;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a client command finds the agent and how long it waits: {@code --grpc} or {@code --admin}
 * HOST:PORT if given, else the address and port of the agent's own settings (flags, environment,
 * {@code --config}), read by the same loader the agent uses so that a plain {@code view} next to a
 * configured agent finds it, and the token that port asks for.
 *
 * @param target the agent's address
 * @param timeout the deadline of each call
 * @param token the token of the port's token file in the agent's settings (api-token-file for the
 *              SessionService, admin-token-file for the admin endpoints), or null when none is set
 */
record ClientOptions(HostPort target, Duration timeout, String token) {
    /**
     * A command is a fresh JVM: its first call also loads gRPC and connects, which on a loaded
     * host takes seconds of the deadline.
     */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

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

    /**
     * Resolves the options as given.
     *
     * @param address {@code HOST:PORT} of {@code --grpc}/{@code --admin}, or null
     * @param timeoutText {@code --timeout}, or null
     * @param settings the agent's settings given on the command line
     * @throws ConfigException listing every problem found
     */
    static ClientOptions resolve(Port port, String address, String timeoutText, List<String> settings,
                                 Map<String, String> env) {
        List<String> problems = new ArrayList<>();
        Duration timeout = timeoutText == null ? DEFAULT_TIMEOUT : timeout(timeoutText, problems);
        AgentConfig config = null;
        try {
            config = ConfigLoader.load(settings.toArray(String[]::new), env).config();
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }
        String token = null;
        if (config != null) {
            Optional<Path> file = port == Port.GRPC ? config.apiTokenFile() : config.adminTokenFile();
            try {
                token = file.isPresent() ? TokenFile.read(file.get(),
                        port == Port.GRPC ? "api-token-file" : "admin-token-file") : null;
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        }
        HostPort target = null;
        if (address != null) {
            try {
                target = HostPort.parse(address);
            } catch (IllegalArgumentException e) {
                problems.add(port.flag + ": " + address + " " + e.getMessage());
            }
        } else if (config != null) {
            int p = port == Port.GRPC ? config.grpcPort() : config.metricsPort();
            String host = port == Port.GRPC ? config.grpcAddress() : config.metricsAddress();
            if (p == 0) {
                problems.add(port.portSetting + " is 0 (any free port), so the agent's port is not known:"
                        + " pass " + port.flag + " HOST:PORT with the port the agent logged");
            } else {
                target = new HostPort(connectable(host), p);
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new ClientOptions(target, timeout, token);
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
