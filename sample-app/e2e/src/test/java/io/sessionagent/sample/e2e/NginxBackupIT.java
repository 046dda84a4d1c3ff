package io.sessionagent.sample.e2e;

import com.sun.net.httpserver.HttpServer;
import io.sessionagent.agent.testing.AgentProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The repository's NGINX config (nginx/nginx.conf.template) after a failover: node1 dies with
 * NGINX's keep-alive connections to it open, and node2, the backup of node1's users, answers their
 * first request 503 the way the filter does while the dead node's last writes are still arriving at
 * its agent ("retry shortly"). A failure on a cached connection does not use up one of
 * proxy_next_upstream_tries, so that 503 comes with a try left and NGINX counts it against node2.
 * It must not take node2 out of node1's upstream: if it did, every later request of node1's users
 * would be a 502 "no live upstreams" for fail_timeout (10 s), which is what a loaded failover showed
 * before the backup got max_fails=0. Both nodes here are plain HTTP servers: the test is about the
 * config alone.
 */
class NginxBackupIT {
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    @Test
    void aBackupThatAnswers503OnceStillServesTheDeadNodesUsers() throws Exception {
        DyingNode node1 = new DyingNode();
        closing.add(node1);
        AtomicInteger answered = new AtomicInteger();
        HttpServer node2 = HttpServer.create(new InetSocketAddress("127.0.0.1", AgentProcess.freePort()), 0);
        node2.createContext("/", exchange -> {
            boolean first = answered.getAndIncrement() == 0;
            byte[] body = (first ? "retry shortly" : "node2").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(first ? 503 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        node2.start();
        closing.add(() -> node2.stop(0));

        int nginxPort = AgentProcess.freePort();
        Path run = Files.createDirectories(Path.of("target", "e2e", "nginx-backup-" + System.nanoTime()))
                .toAbsolutePath();
        String conf = Files.readString(LocalCluster.repoRoot().resolve("nginx").resolve("nginx.conf.template"))
                .replace("{{run_dir}}", run.toString())
                .replace("{{listen_address}}", "127.0.0.1")
                .replace("{{listen_port}}", Integer.toString(nginxPort))
                .replace("{{node1}}", "127.0.0.1:" + node1.port())
                .replace("{{node2}}", "127.0.0.1:" + node2.getAddress().getPort());
        Files.writeString(run.resolve("nginx.conf"), conf);
        Process nginx = new ProcessBuilder(LocalCluster.nginxBinary(), "-p", run.toString(), "-c", "nginx.conf",
                "-e", run.resolve("error.log").toString(), "-g", "daemon off;").redirectErrorStream(true)
                .redirectOutput(run.resolve("stdout.log").toFile()).start();
        closing.add(() -> {
            nginx.destroy();
            nginx.waitFor(5, TimeUnit.SECONDS);
        });

        URI uri = URI.create("http://127.0.0.1:" + nginxPort + "/counter");
        HttpResponse<String> before = awaitAnswer(uri, nginx, run);
        assertThat(before.body()).as("node1 serves its user, over a connection NGINX keeps").isEqualTo("node1");
        node1.die();
        // Its answer is a 502 rather than node2's 503: node1's failure on the cached connection left
        // a try over, which NGINX cannot spend on node2 again within the same request.
        send(uri);
        assertThat(answered.get()).as("node2 was asked, and answered 503").isEqualTo(1);

        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = send(uri);
            assertThat(r.statusCode()).as("request %d of a node1 user after node2's 503; nginx error.log:%n%s", i + 1,
                    Files.readString(run.resolve("error.log"))).isEqualTo(200);
            assertThat(r.body()).isEqualTo("node2");
        }
    }

    /**
     * An app server that answers 200 "node1" on keep-alive connections until {@link #die()}, then
     * reads each request and closes the connection without an answer, as a process killed while
     * NGINX has connections to it open looks from NGINX's side (then refuses new ones once closed).
     */
    private static final class DyingNode implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(AgentProcess.freePort(), 50, InetAddress.getLoopbackAddress());
        private final Set<Socket> open = ConcurrentHashMap.newKeySet();
        private volatile boolean dead;

        DyingNode() throws IOException {
            Thread accept = new Thread(this::accept, "node1-accept");
            accept.setDaemon(true);
            accept.start();
        }

        int port() {
            return server.getLocalPort();
        }

        void die() {
            dead = true;
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    open.add(s);
                    Thread t = new Thread(() -> serve(s), "node1-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.ISO_8859_1));
                OutputStream out = s.getOutputStream();
                while (true) {
                    String line = in.readLine();
                    if (line == null) {
                        return;
                    }
                    while (!line.isEmpty()) {
                        line = in.readLine();
                        if (line == null) {
                            return;
                        }
                    }
                    if (dead) {
                        return;
                    }
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nnode1")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
            } catch (IOException e) {
                // the connection ends either way
            } finally {
                open.remove(s);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : open) {
                s.close();
            }
        }
    }

    /** The first answer through NGINX once it listens: NGINX starts in well under the 30 s allowed. */
    private HttpResponse<String> awaitAnswer(URI uri, Process nginx, Path run) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            assertThat(nginx.isAlive()).as("nginx running; %s", Files.readString(run.resolve("error.log"))).isTrue();
            try {
                return send(uri);
            } catch (IOException notListeningYet) {
                if (System.nanoTime() > deadline) {
                    throw notListeningYet;
                }
                Thread.sleep(50);
            }
        }
    }

    private HttpResponse<String> send(URI uri) throws IOException, InterruptedException {
        // A cookie routed to node1, as NGINX's map reads it: the user of the dead node.
        return http.send(HttpRequest.newBuilder(uri).header("Cookie", "SASESSIONID=abcdef.node1")
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
