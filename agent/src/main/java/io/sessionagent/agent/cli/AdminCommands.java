package io.sessionagent.agent.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code replication on|off}, {@code drain}, {@code health} and {@code ready}: the operator endpoints
 * of a running agent, reached at {@code --admin HOST:PORT}, or else at metrics-address:metrics-port
 * of the agent's settings. {@code health} and {@code ready} exit 0 only on a 200, so they serve as
 * container health checks without curl in the image.
 */
final class AdminCommands {
    static final String FOOTER = "The agent's admin endpoints are found at --admin HOST:PORT, else at"
            + " metrics-address:metrics-port of its settings (flags such as --metrics-port N, SESSION_AGENT_*"
            + " variables, --config FILE); replication and drain send the token of its admin-token-file, if set.";

    private AdminCommands() {}

    /** The options of every command that talks to the admin port. */
    abstract static class AdminCommand extends ClientCommand {
        @Option(names = "--admin", paramLabel = "HOST:PORT",
                description = "The agent's admin endpoints. Default: metrics-address:metrics-port of its settings.")
        String admin;

        AdminCommand(Console console) {
            super(console);
        }

        @Override
        ClientOptions.Port port() {
            return ClientOptions.Port.ADMIN;
        }

        @Override
        String address() {
            return admin;
        }
    }

    @Command(name = "replication",
            header = "Switch replication of the local agent off or on (on resynchronises).",
            customSynopsis = "replication on|off [--admin HOST:PORT] [--timeout 10s]",
            description = "replication on resynchronises with the other members by anti-entropy.",
            footer = FOOTER)
    static final class Replication extends AdminCommand {
        @Parameters(paramLabel = "on|off", arity = "0..*", description = "on or off.")
        List<String> words = List.of();

        Replication(Console console) {
            super(console);
        }

        @Override
        int run(ClientOptions o) {
            if (words.size() != 1 || !words.get(0).matches("on|off")) {
                return usage("say on or off, e.g. replication off"
                        + (words.isEmpty() ? "" : " (got " + String.join(" ", words) + ")"));
            }
            return send(console, name(), o.target(), "/admin/replication?enabled=" + words.get(0).equals("on"),
                    o.timeout(), true, o.token());
        }
    }

    @Command(name = "drain",
            header = "Leave the cluster in order and refuse calls; the agent runs on until stopped.",
            customSynopsis = "drain [--admin HOST:PORT] [--timeout 10s]",
            description = "drain leaves the cluster but keeps the agent running until it is stopped"
                    + " (stop the app server first).",
            footer = FOOTER)
    static final class Drain extends AdminCommand {
        Drain(Console console) {
            super(console);
        }

        @Override
        int run(ClientOptions o) {
            // A drain waits up to 2 s for calls in flight before it leaves: the default leaves room for that.
            Duration timeout = o.timeout();
            return send(console, name(), o.target(), "/admin/drain", timeout, true, o.token());
        }
    }

    @Command(name = "health",
            header = "Exit 0 while the agent serves (for container health checks).",
            customSynopsis = "health [--admin HOST:PORT] [--timeout 10s]",
            description = "health exits 0 while the agent serves (GET /health answers 200).",
            footer = FOOTER)
    static final class Health extends AdminCommand {
        Health(Console console) {
            super(console);
        }

        @Override
        int run(ClientOptions o) {
            return send(console, name(), o.target(), "/health", o.timeout(), false, null);
        }
    }

    @Command(name = "ready",
            header = "Exit 0 once the agent holds the cluster's sessions.",
            customSynopsis = "ready [--admin HOST:PORT] [--timeout 10s]",
            description = "ready exits 0 once the agent holds the cluster's sessions (GET /ready answers 200).",
            footer = FOOTER)
    static final class Ready extends AdminCommand {
        Ready(Console console) {
            super(console);
        }

        @Override
        int run(ClientOptions o) {
            return send(console, name(), o.target(), "/ready", o.timeout(), false, null);
        }
    }

    static int send(Console console, String command, HostPort target, String path, Duration timeout, boolean post,
                    String adminToken) {
        URI uri = URI.create("http://" + target + path);
        HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build();
        HttpResponse<String> response;
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout);
            if (adminToken != null) {
                request.header("Authorization", "Bearer " + adminToken);
            }
            response = client.send((post ? request.POST(HttpRequest.BodyPublishers.noBody()) : request.GET()).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException | HttpConnectTimeoutException e) {
            console.err().println("session-agent " + command + ": cannot reach the agent's admin endpoint at " + target + ": "
                    + e);
            return Cli.UNREACHABLE;
        } catch (HttpTimeoutException e) {
            console.err().println("session-agent " + command + ": no answer from " + target + " within "
                    + timeout.toMillis() + " ms");
            return Cli.UNREACHABLE;
        } catch (IOException e) {
            console.err().println("session-agent " + command + ": cannot reach the agent's admin endpoint at " + target + ": "
                    + e);
            return Cli.UNREACHABLE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Cli.FAILED;
        }
        String body = response.body().strip();
        if (response.statusCode() / 100 == 2) {
            console.out().println(body);
            return Cli.OK;
        }
        console.err().println("session-agent " + command + ": the agent at " + target + " refused: " + response.statusCode()
                + " (" + body + ")");
        return Cli.FAILED;
    }
}
