package io.sessionagent.sample.e2e;

import io.sessionagent.agent.testing.AgentProcess;
import io.sessionagent.agent.testing.Networks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What demo/run.sh starts, as processes on free loopback ports: two agents (from the agent jar),
 * two sample nodes (from the launcher jar, serving the jakarta WAR) and NGINX from the repository's
 * template. {@link #close()} kills every process, whatever happened before.
 */
final class LocalCluster implements AutoCloseable {
    final Path dir;
    final AgentProcess agent1;
    final AgentProcess agent2;
    final Process node1;
    final Process node2;
    final Process nginx;
    final int node1Port;
    final int node2Port;
    final int nginxPort;
    private final List<Process> processes = new ArrayList<>();

    /** The nginx binary, or a skipped test (a failed one under CI: there it must be installed). */
    static String nginxBinary() {
        for (String dir : List.of("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin",
                "/usr/local/nginx/sbin")) {
            if (Files.isExecutable(Path.of(dir, "nginx"))) {
                return Path.of(dir, "nginx").toString();
            }
        }
        if (System.getenv("CI") != null) {
            throw new AssertionError("nginx is not installed (apt-get install -y nginx); .ci/run installs it");
        }
        assumeTrue(false, "nginx is not installed: end-to-end test skipped (apt-get install -y nginx)");
        return null;
    }

    static Path repoRoot() {
        return Path.of(System.getProperty("repo.root", "../..")).toAbsolutePath().normalize();
    }

    static Path file(String property) {
        Path p = Path.of(System.getProperty(property, "")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("system property " + property + " must name a built file, was " + p);
        }
        return p;
    }

    LocalCluster(String name) throws Exception {
        String nginxBin = nginxBinary();
        dir = Files.createDirectories(Path.of("target", "e2e", name + "-" + System.currentTimeMillis()))
                .toAbsolutePath();
        try {
            Map<String, String> settings = Networks.loopbackCluster(name + "-" + System.nanoTime());
            agent1 = AgentProcess.start("node1", settings, dir);
            agent2 = AgentProcess.start("node2", settings, dir);
            processes.add(agent1.process());
            processes.add(agent2.process());
            node1Port = AgentProcess.freePort();
            node2Port = AgentProcess.freePort();
            nginxPort = AgentProcess.freePort();
            node1 = startNode("node1", node1Port, agent1.grpcPort());
            node2 = startNode("node2", node2Port, agent2.grpcPort());
            nginx = startNginx(nginxBin);
            agent1.awaitReady(Duration.ofSeconds(30));
            agent2.awaitReady(Duration.ofSeconds(30));
            awaitOk(URI.create("http://127.0.0.1:" + node1Port + "/counter/peek"), node1, "node1.log");
            awaitOk(URI.create("http://127.0.0.1:" + node2Port + "/counter/peek"), node2, "node2.log");
            awaitOk(URI.create("http://127.0.0.1:" + nginxPort + "/counter/peek"), nginx, "nginx/error.log");
        } catch (Throwable t) {
            close();
            throw t;
        }
    }

    private Process startNode(String route, int port, int agentGrpcPort) throws IOException {
        List<String> cmd = List.of(java(), "-Xmx256m", "-jar", file("sample.node.jar").toString(),
                "--port", Integer.toString(port), "--route", route, "--agent", "127.0.0.1:" + agentGrpcPort,
                "--war", file("sample.war").toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(route + ".log").toFile()).start();
        processes.add(p);
        return p;
    }

    private Process startNginx(String bin) throws IOException {
        Path run = Files.createDirectories(dir.resolve("nginx"));
        String conf = Files.readString(repoRoot().resolve("nginx").resolve("nginx.conf.template"))
                .replace("{{run_dir}}", run.toString())
                .replace("{{listen_address}}", "127.0.0.1")
                .replace("{{listen_port}}", Integer.toString(nginxPort))
                .replace("{{node1}}", "127.0.0.1:" + node1Port)
                .replace("{{node2}}", "127.0.0.1:" + node2Port);
        Files.writeString(run.resolve("nginx.conf"), conf);
        Process p = new ProcessBuilder(bin, "-p", run.toString(), "-c", "nginx.conf", "-e",
                run.resolve("error.log").toString(), "-g", "daemon off;").redirectErrorStream(true)
                .redirectOutput(run.resolve("stdout.log").toFile()).start();
        processes.add(p);
        return p;
    }

    private void awaitOk(URI uri, Process p, String log) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError(uri + ": process exited with " + p.exitValue() + "; " + tail(log));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError(uri + " did not answer 200 within 60 s; " + tail(log));
    }

    String tail(String log) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve(log));
            return log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no " + log + ")";
        }
    }

    URI nginx(String path) {
        return URI.create("http://127.0.0.1:" + nginxPort + path);
    }

    /** SIGKILL of node1's app server and of its agent: no goodbye from either. */
    void killNode1() throws InterruptedException {
        node1.destroyForcibly();
        agent1.process().destroyForcibly();
        node1.waitFor(10, TimeUnit.SECONDS);
        agent1.process().waitFor(10, TimeUnit.SECONDS);
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    @Override
    public void close() throws InterruptedException {
        // NGINX's workers outlive a SIGKILLed master: ask the master to stop them, then make sure.
        for (Process p : processes) {
            if (p.isAlive() && p == nginx) {
                p.destroy();
                p.waitFor(5, TimeUnit.SECONDS);
                p.descendants().forEach(ProcessHandle::destroyForcibly);
            }
        }
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : processes) {
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
