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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * NGINX in front of sample nodes, each beside its own agent, as processes on free loopback ports:
 * agents from the agent jar, sample nodes from a launcher jar ({@link SampleServer}: embedded Tomcat
 * 11 serving the jakarta WAR unless told otherwise, or embedded Tomcat 9 serving the javax WAR),
 * NGINX from one of the repository's templates. {@link #oneCluster} is what demo/run.sh starts. Several
 * clusters share one multicast group and port and differ only in cluster-name. Options for the
 * launcher (e.g. {@code replication-mode}) go to every sample node alike. {@link #close()} kills
 * every process, whatever happened before.
 */
final class LocalCluster implements AutoCloseable {
    final Path dir;
    final int nginxPort;
    private final Map<String, AgentProcess> agents = new LinkedHashMap<>();
    /** Every agent started, restarted ones too: each holds a gRPC channel to close. */
    private final List<AgentProcess> allAgents = new ArrayList<>();
    private final Map<String, Map<String, String>> agentSettings = new HashMap<>();
    private final Map<String, Process> nodes = new LinkedHashMap<>();
    private final Map<String, Integer> ports = new HashMap<>();
    private final SampleServer server;
    private final Map<String, String> nodeOptions;
    private final List<Process> processes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private Process nginx;

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

    /** Two nodes of one cluster behind nginx/nginx.conf.template, as the local demo runs them. */
    static LocalCluster oneCluster(String name) throws Exception {
        return oneCluster(name, Map.of());
    }

    /**
     * The same with options for every sample node's launcher, by name without the dashes, e.g.
     * {@code Map.of("replication-mode", "async")} for {@code --replication-mode async}.
     */
    static LocalCluster oneCluster(String name, Map<String, String> nodeOptions) throws Exception {
        return oneCluster(name, SampleServer.TOMCAT11, nodeOptions);
    }

    /** The same with the sample nodes on the given server. */
    static LocalCluster oneCluster(String name, SampleServer server, Map<String, String> nodeOptions)
            throws Exception {
        return new LocalCluster(name, "nginx.conf.template", List.of(List.of("node1", "node2")), server,
                nodeOptions);
    }

    /**
     * @param template a file under nginx/ whose {{nodeN}} placeholders name the nodes
     * @param clusters the node names of each cluster
     */
    LocalCluster(String name, String template, List<List<String>> clusters) throws Exception {
        this(name, template, clusters, SampleServer.TOMCAT11, Map.of());
    }

    /**
     * @param server the launcher and WAR of every sample node
     * @param nodeOptions launcher options of every sample node, by name without the dashes; not
     *     those the cluster sets itself (port, route, agent, war)
     */
    LocalCluster(String name, String template, List<List<String>> clusters, SampleServer server,
                 Map<String, String> nodeOptions) throws Exception {
        for (String own : List.of("port", "route", "agent", "war")) {
            if (nodeOptions.containsKey(own)) {
                throw new IllegalArgumentException("--" + own + " is set by LocalCluster itself");
            }
        }
        this.server = server;
        this.nodeOptions = new LinkedHashMap<>(nodeOptions);
        String nginxBin = nginxBinary();
        dir = Files.createDirectories(Path.of("target", "e2e", name + "-" + System.currentTimeMillis()))
                .toAbsolutePath();
        try {
            Map<String, String> settings = Networks.loopbackCluster(name + "-" + System.nanoTime());
            for (int c = 0; c < clusters.size(); c++) {
                Map<String, String> cluster = new HashMap<>(settings);
                cluster.put("cluster-name", settings.get("cluster-name") + "-" + c);
                for (String node : clusters.get(c)) {
                    AgentProcess agent = AgentProcess.start(node, cluster, dir);
                    agents.put(node, agent);
                    allAgents.add(agent);
                    agentSettings.put(node, cluster);
                    processes.add(agent.process());
                }
            }
            for (String node : agents.keySet()) {
                ports.put(node, AgentProcess.freePort());
                startNode(node, ports.get(node), agents.get(node).grpcPort());
            }
            nginxPort = AgentProcess.freePort();
            startNginx(nginxBin, template);
            for (AgentProcess agent : agents.values()) {
                agent.awaitReady(Duration.ofSeconds(30));
            }
            for (String node : nodes.keySet()) {
                awaitOk(URI.create("http://127.0.0.1:" + ports.get(node) + "/counter/peek"), nodes.get(node),
                        node + ".log");
                awaitRunsOnServer(node);
            }
            awaitOk(nginx("/counter/peek"), nginx, "nginx/error.log");
        } catch (Throwable t) {
            close();
            throw t;
        }
    }

    private void startNode(String route, int port, int agentGrpcPort) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx256m", "-jar", server.launcherJar().toString(),
                "--port", Integer.toString(port), "--route", route, "--agent", "127.0.0.1:" + agentGrpcPort,
                "--war", server.war().toString()));
        nodeOptions.forEach((option, value) -> cmd.addAll(List.of("--" + option, value)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(route + ".log").toFile()).start();
        processes.add(p);
        nodes.put(route, p);
    }

    private void startNginx(String bin, String template) throws IOException {
        Path run = Files.createDirectories(dir.resolve("nginx"));
        String conf = Files.readString(repoRoot().resolve("nginx").resolve(template))
                .replace("{{run_dir}}", run.toString())
                .replace("{{listen_address}}", "127.0.0.1")
                .replace("{{listen_port}}", Integer.toString(nginxPort));
        for (String node : nodes.keySet()) {
            conf = conf.replace("{{" + node + "}}", "127.0.0.1:" + ports.get(node));
        }
        Files.writeString(run.resolve("nginx.conf"), conf);
        nginx = new ProcessBuilder(bin, "-p", run.toString(), "-c", "nginx.conf", "-e",
                run.resolve("error.log").toString(), "-g", "daemon off;").redirectErrorStream(true)
                .redirectOutput(run.resolve("stdout.log").toFile()).start();
        processes.add(nginx);
    }

    private void awaitOk(URI uri, Process p, String log) throws Exception {
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

    /**
     * Waits for the line the launcher prints once started and checks it names this cluster's
     * server: a test that asked for Tomcat 9 must not pass on Tomcat 11. The node answers HTTP a
     * little before it prints the line, hence the wait.
     */
    private void awaitRunsOnServer(String node) throws Exception {
        String started = "sample node " + node + " on ";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (String line : Files.readAllLines(dir.resolve(node + ".log"))) {
                if (line.startsWith(started)) {
                    if (!line.startsWith(started + server.serverInfoPrefix)) {
                        throw new AssertionError(node + " should run " + server.serverInfoPrefix + "x: " + line);
                    }
                    return;
                }
            }
            if (!nodes.get(node).isAlive()) {
                break;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(node + " never printed '" + started + "...'; " + tail(node + ".log"));
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

    /** A sample node's own address, past NGINX. */
    URI node(String node, String path) {
        return URI.create("http://127.0.0.1:" + ports.get(node) + path);
    }

    /** SIGKILL of a node's app server and of its agent at the same moment: no goodbye from either. */
    void kill(String node) throws InterruptedException {
        Process app = nodes.get(node);
        Process agent = agents.get(node).process();
        app.destroyForcibly();
        agent.destroyForcibly();
        app.waitFor(10, TimeUnit.SECONDS);
        agent.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGKILL of a node's app server alone: its agent goes on holding and replicating what it received. */
    void killServer(String node) throws InterruptedException {
        Process app = nodes.get(node);
        app.destroyForcibly();
        app.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGKILL of a node's agent alone: its app server goes on serving. */
    void killAgent(String node) throws InterruptedException {
        agents.get(node).kill9();
    }

    /** The /metrics of a node's agent (the one running now). */
    URI agentMetrics(String node) {
        return URI.create("http://127.0.0.1:" + agents.get(node).metricsPort() + "/metrics");
    }

    /**
     * Starts a node's agent again after {@link #killAgent}, with its cluster settings and on its
     * gRPC and metrics ports, where the node's filter looks for it; waits until it is ready (it
     * took the other agents' sessions by then).
     */
    void restartAgent(String node, Duration readyWithin) throws IOException {
        AgentProcess old = agents.get(node);
        if (old.process().isAlive()) {
            throw new IllegalStateException("the agent of " + node + " still runs");
        }
        AgentProcess agent = AgentProcess.start(node, agentSettings.get(node), dir, old.metricsPort(),
                old.grpcPort(), List.of("-Xmx256m"));
        processes.add(agent.process());
        agents.put(node, agent);
        allAgents.add(agent);
        agent.awaitReady(readyWithin);
    }

    /** Sends a signal (STOP, CONT) to a node's agent: a process that is alive but does nothing. */
    void signalAgent(String node, String signal) throws IOException, InterruptedException {
        long pid = agents.get(node).process().pid();
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -" + signal + " " + pid + " failed: "
                    + new String(kill.getInputStream().readAllBytes()));
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    @Override
    public void close() throws InterruptedException {
        // NGINX's workers outlive a SIGKILLed master: ask the master to stop them, then make sure.
        if (nginx != null && nginx.isAlive()) {
            nginx.destroy();
            nginx.waitFor(5, TimeUnit.SECONDS);
            nginx.descendants().forEach(ProcessHandle::destroyForcibly);
        }
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : processes) {
            p.waitFor(10, TimeUnit.SECONDS);
        }
        for (AgentProcess agent : allAgents) {
            agent.close();
        }
    }
}
