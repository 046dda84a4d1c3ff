package io.sessionagent.agent.netns;

import io.sessionagent.agent.auth.Keys;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Agent processes of one cluster on a {@link Netns} segment, one per node namespace, each with a
 * {@link NetnsClient} process beside it. Agents can be killed and started again under the same
 * name with the same settings; the clients live for the whole test.
 */
final class NetnsCluster implements AutoCloseable {
    static final int GRPC_PORT = 7400;
    static final int PEER_PORT = 7401;
    static final int METRICS_PORT = 7402;

    private final Path jar;
    private final Path logDir;
    private final int nodes;
    private final Netns net;
    private final int multicastPort = ThreadLocalRandom.current().nextInt(20_000, 40_000);
    private final String multicastGroup = "239.255." + ThreadLocalRandom.current().nextInt(1, 255) + "."
            + ThreadLocalRandom.current().nextInt(1, 255);
    private final List<String> settings = new ArrayList<>();
    private final Process[] agents;
    private final int[] runs;
    private final List<NodeClient> clients = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();

    /** Builds the segment only; loss rules may be added before {@link #start}. */
    NetnsCluster(Path jar, int nodes) {
        this.jar = jar;
        this.logDir = jar.getParent().resolve("netns-logs");
        this.nodes = nodes;
        this.net = Netns.create(nodes);
        this.agents = new Process[nodes + 1];
        this.runs = new int[nodes + 1];
    }

    /**
     * The agent jar when this machine can run namespace tests; otherwise the test is skipped, or
     * fails when the environment variable CI is set.
     */
    static Path requireNamespaces() {
        String property = System.getProperty("sessionagent.jar");
        String reason = property == null ? "system property sessionagent.jar is not set (run through failsafe)"
                : !Files.isRegularFile(Path.of(property)) ? "agent jar " + property + " does not exist"
                : Netns.unavailableReason();
        if (reason != null) {
            String ci = System.getenv("CI");
            if (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) {
                fail("network namespace tests cannot run, and CI is set: " + reason);
            }
            assumeTrue(false, "network namespace tests skipped: " + reason);
        }
        return Path.of(property).toAbsolutePath();
    }

    Netns net() {
        return net;
    }

    int multicastPort() {
        return multicastPort;
    }

    int size() {
        return nodes;
    }

    List<Path> logs() {
        return logs;
    }

    /** Starts an agent and a client in every node namespace and waits for the full view. */
    void start(String... extraSettings) {
        settings.addAll(List.of(extraSettings));
        if (settings.stream().noneMatch(s -> s.startsWith("--cluster-key-file="))) {
            // The namespaces' interfaces are not loopback: an agent on them requires a key.
            settings.add("--cluster-key-file=" + keyFile());
        }
        for (int i = 1; i <= nodes; i++) {
            startAgent(i);
        }
        for (int i = 1; i <= nodes; i++) {
            clients.add(new NodeClient(i, net.startInteractive(i, List.of(java(), "-Xmx128m", "-cp",
                    clientClassPath(), NetnsClient.class.getName(), "127.0.0.1:" + GRPC_PORT), log("client" + i))));
        }
        awaitFullView(Duration.ofSeconds(30));
    }

    private static Path keyFile() {
        try {
            Path keys = Files.createTempFile("netns-", ".keys");
            Files.writeString(keys, Keys.fileText(Keys.key(1, System.nanoTime())));
            keys.toFile().deleteOnExit();
            return keys;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts node {@code i}'s agent (again) with the cluster's settings; each run logs to its own file. */
    void startAgent(int i) {
        String cluster = "netns-" + net.suffix();
        List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx256m",
                // Timestamps let a log be read against the test's own record of kills and cuts.
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                "-jar", jar.toString(),
                "--node-name=node" + i,
                "--cluster-name=" + cluster,
                "--multicast-interface=" + net.nodeInterface(i),
                "--multicast-ttl=1",
                "--multicast-group=" + multicastGroup,
                "--multicast-port=" + multicastPort,
                "--grpc-port=" + GRPC_PORT,
                "--peer-address=" + net.address(i),
                "--peer-port=" + PEER_PORT,
                "--metrics-port=" + METRICS_PORT));
        cmd.addAll(settings);
        runs[i]++;
        agents[i] = net.start(i, cmd, log("node" + i + (runs[i] == 1 ? "" : "-run" + runs[i])));
    }

    /** {@code kill -9} of node {@code i}'s agent; returns once it is gone. */
    void kill(int i) {
        net.kill9(agents[i]);
    }

    NodeClient client(int node) {
        return clients.get(node - 1);
    }

    List<NodeClient> clients() {
        return clients;
    }

    List<Map<String, String>> views() {
        List<Map<String, String>> views = new ArrayList<>();
        for (NodeClient c : clients) {
            views.add(c.view());
        }
        return views;
    }

    /** Every agent READY and seeing all the others. */
    void awaitFullView(Duration timeout) {
        awaitAll(c -> {
            try {
                Map<String, String> v = c.view();
                return v.get("state").equals("MEMBER_STATE_READY") && v.get("members").split(",").length == nodes - 1;
            } catch (AssertionError notUpYet) {
                // An agent JVM may take longer to listen than one probe waits.
                return false;
            }
        }, timeout, "every agent ready with " + (nodes - 1) + " members");
    }

    /** Epoch ms at which every agent first held {@code count} sessions (any count if negative) with one table hash. */
    long awaitConvergence(long count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Map<String, String>> last = List.of();
        while (System.nanoTime() < deadline) {
            last = views();
            String firstCount = last.get(0).get("count");
            if (last.stream().allMatch(v -> v.get("count").equals(count < 0 ? firstCount : Long.toString(count)))
                    && last.stream().map(v -> v.get("hash")).distinct().count() == 1) {
                return System.currentTimeMillis();
            }
            sleep(20);
        }
        StringBuilder sb = new StringBuilder();
        for (Map<String, String> v : last) {
            sb.append("\n  ").append(v.get("node")).append(": count=").append(v.get("count"))
                    .append(" hash=").append(v.get("hash")).append(" members=").append(v.get("members"))
                    .append(" naks.sent=").append(v.get("c.naks.sent"))
                    .append(" gaps.unrecoverable=").append(v.get("c.gaps.unrecoverable"));
        }
        throw new AssertionError("agents did not converge to " + (count < 0 ? "one count" : count + " sessions")
                + " with one hash within " + timeout.toSeconds() + " s:" + sb);
    }

    void awaitAll(Predicate<NodeClient> condition, Duration timeout, String what) {
        await(() -> clients.stream().allMatch(condition), timeout, what);
    }

    static void await(BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what);
            }
            sleep(50);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    void printLogTails() {
        logs.forEach(NetnsCluster::printTail);
    }

    @Override
    public void close() {
        net.close();
    }

    private Path log(String name) {
        Path p = logDir.resolve(net.suffix() + "-" + name + ".log");
        logs.add(p);
        return p;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * The client needs this test's classes and gRPC with the generated stubs. The agent jar carries
     * the latter (it is shaded), so test-classes plus the jar under test suffice whatever form
     * failsafe gives its own class path in, and the client speaks the very proto of that jar.
     */
    private String clientClassPath() {
        try {
            Path testClasses = Path.of(NetnsClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return testClasses + File.pathSeparator + jar;
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void printTail(Path log) {
        try {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
            System.out.println("---- last lines of " + log + " ----");
            lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(System.out::println);
        } catch (IOException e) {
            System.out.println("cannot read " + log + ": " + e);
        }
    }
}
