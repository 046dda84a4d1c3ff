package io.sessionagent.agent.testing;

import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.MemberState;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** An agent started from the packaged jar as its own JVM, as an operator would run it. */
public final class AgentProcess implements AutoCloseable {
    private final String nodeName;
    private final Process process;
    private final Path log;
    private final int grpcPort;
    private final int metricsPort;
    private SessionClient client;

    private AgentProcess(String nodeName, Process process, Path log, int grpcPort, int metricsPort) {
        this.nodeName = nodeName;
        this.process = process;
        this.log = log;
        this.grpcPort = grpcPort;
        this.metricsPort = metricsPort;
    }

    public static Path jar() {
        String jar = System.getProperty("sessionagent.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("system property sessionagent.jar must name the packaged agent, was "
                    + jar);
        }
        return Path.of(jar);
    }

    /** A port for a server started later; see {@link FreePorts}. */
    public static int freePort() throws IOException {
        return FreePorts.next();
    }

    /** Starts {@code java -jar session-agent.jar} with the cluster settings as flags. */
    public static AgentProcess start(String nodeName, Map<String, String> settings, Path logDir) throws IOException {
        return start(nodeName, settings, logDir, freePort());
    }

    /**
     * Starts it with a metrics port the caller chose, for a scraper configured before the agent
     * runs (see {@link #freePort}).
     */
    public static AgentProcess start(String nodeName, Map<String, String> settings, Path logDir, int metricsPort)
            throws IOException {
        return start(nodeName, settings, logDir, metricsPort, List.of("-Xmx256m"));
    }

    /** Starts it with the given JVM options (heap size, OOM handling) instead of {@code -Xmx256m}. */
    public static AgentProcess start(String nodeName, Map<String, String> settings, Path logDir, int metricsPort,
                                     List<String> jvmOptions) throws IOException {
        return start(nodeName, settings, logDir, metricsPort, freePort(), jvmOptions);
    }

    /**
     * Starts it on the gRPC port the caller chose: an agent restarted where its app server's
     * filter, configured with that port, finds it again, as a supervisor would restart it.
     */
    public static AgentProcess start(String nodeName, Map<String, String> settings, Path logDir, int metricsPort,
                                     int grpcPort, List<String> jvmOptions) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBin());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", jar().toString()));
        for (Map.Entry<String, String> e : settings.entrySet()) {
            if (!List.of("grpc-port", "metrics-port", "node-name").contains(e.getKey())) {
                cmd.add("--" + e.getKey() + "=" + e.getValue());
            }
        }
        cmd.add("--node-name=" + nodeName);
        cmd.add("--grpc-port=" + grpcPort);
        cmd.add("--metrics-port=" + metricsPort);
        Files.createDirectories(logDir);
        Path log = logDir.resolve(nodeName + "-" + System.nanoTime() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new AgentProcess(nodeName, p, log, grpcPort, metricsPort);
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public String nodeName() {
        return nodeName;
    }

    public int grpcPort() {
        return grpcPort;
    }

    /** Port of the agent's /metrics, /health, /ready and admin endpoints. */
    public int metricsPort() {
        return metricsPort;
    }

    /** Runs the agent's CLI from the same jar; returns its exit code, output and errors together. */
    public static CliResult cli(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("CLI " + cmd + " did not end");
        }
        return new CliResult(p.exitValue(), output);
    }

    /** What a CLI run printed and how it exited. */
    public record CliResult(int exitCode, String output) {
    }

    public Process process() {
        return process;
    }

    public synchronized SessionClient client() {
        if (client == null) {
            client = new SessionClient(grpcPort);
        }
        return client;
    }

    /** The view, or null while the agent does not answer yet. */
    public ClusterView viewOrNull() {
        try {
            return client().view();
        } catch (RuntimeException e) {
            return null;
        }
    }

    public void awaitReady(Duration timeout) {
        Eventually.await(timeout, () -> {
            if (!process.isAlive()) {
                throw new AssertionError(nodeName + " exited with " + process.exitValue() + ":\n" + logTail());
            }
            ClusterView v = viewOrNull();
            return v != null && v.getSelf().getState() == MemberState.MEMBER_STATE_READY;
        }, () -> nodeName + " ready; log:\n" + logTail());
    }

    /** SIGKILL: no leave, no flush, no shutdown hook. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** The whole log so far. */
    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (client != null) {
            client.close();
        }
        process.destroyForcibly().waitFor();
    }
}
