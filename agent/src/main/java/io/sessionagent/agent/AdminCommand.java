package io.sessionagent.agent;

import io.sessionagent.agent.config.ConfigException;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * {@code replication on|off}, {@code drain}, {@code health} and {@code ready}: the operator endpoints
 * of a running agent, reached at {@code --admin HOST:PORT}, or else at metrics-address:metrics-port
 * of the agent's settings. {@code health} and {@code ready} exit 0 only on a 200, so they serve as
 * container health checks without curl in the image.
 */
final class AdminCommand {
    /** A drain waits up to 2 s for calls in flight before it leaves; the default leaves room for that. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(10);

    private final String command;
    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;

    AdminCommand(String command, PrintStream out, PrintStream err, Map<String, String> env) {
        this.command = command;
        this.out = out;
        this.err = err;
        this.env = env;
    }

    static String usage() {
        return """
                Usage: java -jar session-agent.jar replication on|off [--admin HOST:PORT] [--timeout 3s]
                       java -jar session-agent.jar drain [--admin HOST:PORT] [--timeout 10s]
                       java -jar session-agent.jar health|ready [--admin HOST:PORT] [--timeout 3s]
                The agent's admin endpoints are found at --admin HOST:PORT, else at metrics-address:metrics-port
                of its settings; replication and drain send the token of its admin-token-file, if set. replication on resynchronises with the other members; drain leaves the
                cluster but keeps the agent running until it is stopped (stop the app server first).
                health exits 0 while the agent serves; ready exits 0 once it holds the cluster's sessions.""";
    }

    int run(String[] args) {
        ClientOptions options;
        try {
            options = ClientOptions.parse(args, env, ClientOptions.Port.ADMIN);
        } catch (ConfigException e) {
            err.println("session-agent " + command + ": " + e.getMessage());
            return Main.USAGE;
        }
        if (options.help) {
            out.println(usage());
            return Main.OK;
        }
        String path;
        if (command.equals("health") || command.equals("ready")) {
            if (!options.positional.isEmpty()) {
                err.println("session-agent " + command + ": unexpected argument " + options.positional.get(0));
                return Main.USAGE;
            }
            return send(options.target, "/" + command, options.timeout, false, null);
        }
        if (command.equals("replication")) {
            if (options.positional.size() != 1 || !options.positional.get(0).matches("on|off")) {
                err.println("session-agent replication: say on or off, e.g. replication off"
                        + (options.positional.isEmpty() ? "" : " (got " + String.join(" ", options.positional) + ")"));
                return Main.USAGE;
            }
            path = "/admin/replication?enabled=" + options.positional.get(0).equals("on");
        } else {
            if (!options.positional.isEmpty()) {
                err.println("session-agent drain: unexpected argument " + options.positional.get(0));
                return Main.USAGE;
            }
            path = "/admin/drain";
        }
        Duration timeout = command.equals("drain") && !options.timeoutGiven ? DRAIN_TIMEOUT : options.timeout;
        return send(options.target, path, timeout, true, options.adminToken);
    }

    private int send(HostPort target, String path, Duration timeout, boolean post, String adminToken) {
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
            err.println("session-agent " + command + ": cannot reach the agent's admin endpoint at " + target + ": "
                    + e);
            return Main.UNREACHABLE;
        } catch (HttpTimeoutException e) {
            err.println("session-agent " + command + ": no answer from " + target + " within "
                    + timeout.toMillis() + " ms");
            return Main.UNREACHABLE;
        } catch (IOException e) {
            err.println("session-agent " + command + ": cannot reach the agent's admin endpoint at " + target + ": "
                    + e);
            return Main.UNREACHABLE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.FAILED;
        }
        String body = response.body().strip();
        if (response.statusCode() / 100 == 2) {
            out.println(body);
            return Main.OK;
        }
        err.println("session-agent " + command + ": the agent at " + target + " refused: " + response.statusCode()
                + " (" + body + ")");
        return Main.FAILED;
    }
}
