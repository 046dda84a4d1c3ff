package io.sessionagent.agent.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The operator's HTTP port: metrics, health and admin endpoints, each an exact path and one
 * method. Anything else is answered 404 or 405 with a message that lists what exists, so that a
 * typo is found from the answer alone. Two threads: a scrape never waits behind a drain.
 */
public final class OperatorHttpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OperatorHttpServer.class);

    /** Bytes of a request body read at most: no endpoint takes a body, so anything longer is refused unread. */
    static final int MAX_BODY_BYTES = 16 * 1024;

    /**
     * One request: method, path, the decoded query parameters and the Authorization header (empty
     * when absent).
     */
    public record Request(String method, String path, Map<String, String> query, String authorization) {
    }

    /** One answer; the body is text (UTF-8). */
    public record Response(int status, String contentType, String body) {
        public static Response text(int status, String body) {
            return new Response(status, "text/plain; charset=utf-8", body.endsWith("\n") ? body : body + "\n");
        }
    }

    /** Answers the requests of one path. */
    @FunctionalInterface
    public interface Handler {
        Response handle(Request request);
    }

    private record Route(String method, Handler handler) {
    }

    private final Map<String, Route> routes = new TreeMap<>();
    private HttpServer server;
    private ExecutorService executor;

    /** Adds an endpoint; call before {@link #start}. */
    public OperatorHttpServer route(String method, String path, Handler handler) {
        if (routes.put(path, new Route(method, handler)) != null) {
            throw new IllegalArgumentException("two handlers for " + path);
        }
        return this;
    }

    public OperatorHttpServer start(String address, int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress(address, port), 16);
        executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "sa-operator-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::serve);
        server.start();
        return this;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void serve(HttpExchange exchange) throws IOException {
        Response response;
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            Route route = routes.get(path);
            String method = exchange.getRequestMethod();
            if (exchange.getRequestBody().readNBytes(MAX_BODY_BYTES + 1).length > MAX_BODY_BYTES) {
                // Closing the exchange drops the connection with what is left unread.
                response = Response.text(413, "request body larger than " + MAX_BODY_BYTES
                        + " bytes; no endpoint takes a body");
            } else if (route == null) {
                response = Response.text(404, "no endpoint " + path + "; endpoints: " + describeRoutes());
            } else if (!route.method().equals(method)) {
                exchange.getResponseHeaders().set("Allow", route.method());
                response = Response.text(405, path + " answers " + route.method() + ", not " + method);
            } else {
                String authorization = exchange.getRequestHeaders().getFirst("Authorization");
                response = handle(route, new Request(method, path, query(exchange.getRequestURI().getRawQuery()),
                        authorization == null ? "" : authorization));
                if (response.status() == 401) {
                    exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"session-agent admin\"");
                }
            }
            byte[] body = response.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", response.contentType());
            exchange.sendResponseHeaders(response.status(), body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    private static Response handle(Route route, Request request) {
        try {
            return route.handler().handle(request);
        } catch (RuntimeException e) {
            log.warn("{} {} failed", request.method(), request.path(), e);
            return Response.text(500, request.path() + " failed: " + e);
        }
    }

    private String describeRoutes() {
        StringBuilder sb = new StringBuilder();
        routes.forEach((path, r) -> sb.append(sb.length() == 0 ? "" : ", ").append(r.method()).append(' ').append(path));
        return sb.toString();
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            out.put(URLDecoder.decode(key, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
        return out;
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
