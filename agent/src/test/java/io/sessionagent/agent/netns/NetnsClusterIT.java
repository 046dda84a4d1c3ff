package io.sessionagent.agent.netns;

import io.sessionagent.agent.Agent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.File;
import java.io.Writer;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Three agent processes on a real multicast segment: each agent runs in its own network namespace,
 * joined to the others by a bridge in a fourth namespace (see {@link Netns}). Loss comes from
 * nftables at each receiver, a partition from taking a bridge port down. Everything is probed
 * from inside the namespaces by {@link NetnsClient}.
 *
 * <p>Needs root, {@code ip} (iproute2) and {@code nft} (nftables). Without them the tests are
 * skipped, unless the environment variable CI is set, where they fail instead.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class NetnsClusterIT {
    private static final int NODES = 3;
    private static final int GRPC_PORT = 7400;
    private static final int PEER_PORT = 7401;
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    private static Path jar;
    private static Path logDir;

    private Netns net;
    private final List<Path> logs = new ArrayList<>();
    private final List<Client> clients = new ArrayList<>();
    private final int multicastPort = ThreadLocalRandom.current().nextInt(20_000, 40_000);
    private final String multicastGroup = "239.255." + ThreadLocalRandom.current().nextInt(1, 255) + "."
            + ThreadLocalRandom.current().nextInt(1, 255);

    @RegisterExtension
    final TestWatcher printLogsOnFailure = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            logs.forEach(NetnsClusterIT::printTail);
        }
    };

    @BeforeAll
    static void requireNamespaces() {
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
        jar = Path.of(property).toAbsolutePath();
        logDir = jar.getParent().resolve("netns-logs");
    }

    @AfterEach
    void tearDown() {
        if (net != null) {
            net.close();
        }
    }

    @Test
    void tenPercentLossTenThousandWritesConverge() throws Exception {
        startCluster();
        // Loss starts after the join so that what is measured is replication, not start-up.
        for (int i = 1; i <= NODES; i++) {
            net.dropIncomingUdp(i, multicastPort, 10);
        }

        int total = 10_000;
        List<CompletableFuture<Map<String, String>>> writers = new ArrayList<>();
        for (int i = 1; i <= NODES; i++) {
            int share = total / NODES + (i <= total % NODES ? 1 : 0);
            Client c = client(i);
            writers.add(CompletableFuture.supplyAsync(() -> c.call("write n" + c.node + " " + share + " 4",
                    Duration.ofSeconds(90))));
        }
        long lastAck = 0;
        long written = 0;
        long writeMs = 0;
        for (CompletableFuture<Map<String, String>> w : writers) {
            Map<String, String> r = w.get(100, TimeUnit.SECONDS);
            assertThat(r.get("failed")).as("refused writes").isEqualTo("0");
            written += Long.parseLong(r.get("writes"));
            lastAck = Math.max(lastAck, Long.parseLong(r.get("last_ack_ms")));
            writeMs = Math.max(writeMs, Long.parseLong(r.get("elapsed_ms")));
        }
        assertThat(written).isEqualTo(total);

        long convergedAt = awaitConvergence(total, Duration.ofSeconds(60));
        long convergeMs = convergedAt - lastAck;

        List<Map<String, String>> views = views();
        long arrived = 0;
        long dropped = 0;
        StringBuilder perNode = new StringBuilder();
        for (int i = 1; i <= NODES; i++) {
            long[] loss = net.udpLossCounters(i);
            arrived += loss[0];
            dropped += loss[1];
            Map<String, String> v = views.get(i - 1);
            perNode.append(String.format(" node%d[naks.sent=%s retransmits.sent=%s frames.received=%s dropped=%d/%d]",
                    i, v.get("c.naks.sent"), v.get("c.retransmits.sent"), v.get("c.frames.received"),
                    loss[1], loss[0]));
        }
        double lossRate = arrived == 0 ? 0 : (double) dropped / arrived;
        System.out.printf("NETNS-RESULT loss: writes=%d write_ms=%d converge_ms=%d loss_configured=10%%"
                        + " loss_observed=%.2f%% (%d of %d datagrams)%s%n",
                total, writeMs, convergeMs, 100 * lossRate, dropped, arrived, perNode);

        assertThat(convergeMs).as("ms from the last acknowledged write to convergence").isLessThan(60_000);
        assertThat(lossRate).as("observed loss rate").isBetween(0.05, 0.15);
        long naks = views.stream().mapToLong(v -> Long.parseLong(v.get("c.naks.sent"))).sum();
        long retransmits = views.stream().mapToLong(v -> Long.parseLong(v.get("c.retransmits.sent"))).sum();
        assertThat(naks).as("naks sent: the loss was real and repaired by asking").isPositive();
        assertThat(retransmits).as("retransmits sent").isPositive();
    }

    @Test
    void partitionWithWritesOnBothSidesHealsByTheConflictRule() throws Exception {
        startCluster("--failure-timeout=1500ms", "--heartbeat-interval=250ms");
        Client node1 = client(1);
        Client node3 = client(3);
        String contested = "contested";
        assertThat(node1.call("put " + contested + " 0 node1").get("version")).isEqualTo("1");
        awaitAll(c -> "1".equals(c.call("get " + contested).get("version")), Duration.ofSeconds(10),
                "every agent holds " + contested + " at version 1");

        net.setLink(3, false);
        await(() -> client(1).view().get("members").equals("node2")
                        && client(2).view().get("members").equals("node1")
                        && client(3).view().get("members").isEmpty(),
                Duration.ofSeconds(10), "node1 and node2 dropped node3, and node3 dropped both");

        assertThat(node1.call("put " + contested + " 1 node1").get("version")).isEqualTo("2");
        assertThat(node3.call("put " + contested + " 1 node3").get("version")).isEqualTo("2");
        assertThat(node1.call("write left 200 2").get("failed")).isEqualTo("0");
        assertThat(node3.call("write right 200 2").get("failed")).isEqualTo("0");
        assertThat(node1.view().get("count")).isEqualTo("201");
        assertThat(node3.view().get("count")).isEqualTo("201");

        net.setLink(3, true);
        long healedAt = System.currentTimeMillis();
        long convergeMs = awaitConvergence(401, Duration.ofSeconds(30)) - healedAt;

        long id1 = Agent.memberIdOf("node1");
        long id3 = Agent.memberIdOf("node3");
        assertThat(node1.view().get("self")).isEqualTo(Long.toUnsignedString(id1));
        assertThat(node3.view().get("self")).isEqualTo(Long.toUnsignedString(id3));
        boolean node1Wins = Long.compareUnsigned(id1, id3) > 0;
        String winnerId = Long.toUnsignedString(node1Wins ? id1 : id3);
        for (Client c : clients) {
            Map<String, String> x = c.call("get " + contested);
            assertThat(x.get("version")).as("version of %s on node%d", contested, c.node).isEqualTo("2");
            assertThat(x.get("writer")).as("writer of %s on node%d", contested, c.node).isEqualTo(winnerId);
            assertThat(x.get("value")).as("value of %s on node%d", contested, c.node)
                    .isEqualTo(node1Wins ? "node1" : "node3");
        }
        System.out.printf("NETNS-RESULT partition: heal_converge_ms=%d sessions=401 winner=%s (member %s)%n",
                convergeMs, node1Wins ? "node1" : "node3", winnerId);
    }

    // ---------------------------------------------------------------- cluster

    /** Builds the segment, starts an agent and a client in every node namespace, waits for the full view. */
    private void startCluster(String... extraSettings) {
        net = Netns.create(NODES);
        String cluster = "netns-" + net.suffix();
        for (int i = 1; i <= NODES; i++) {
            List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx256m", "-jar", jar.toString(),
                    "--node-name=node" + i,
                    "--cluster-name=" + cluster,
                    "--multicast-interface=" + net.nodeInterface(i),
                    "--multicast-ttl=1",
                    "--multicast-group=" + multicastGroup,
                    "--multicast-port=" + multicastPort,
                    "--grpc-port=" + GRPC_PORT,
                    "--peer-address=" + net.address(i),
                    "--peer-port=" + PEER_PORT));
            cmd.addAll(List.of(extraSettings));
            net.start(i, cmd, log("node" + i));
        }
        for (int i = 1; i <= NODES; i++) {
            clients.add(new Client(i, net.startInteractive(i, List.of(java(), "-Xmx128m", "-cp", clientClassPath(),
                    NetnsClient.class.getName(), "127.0.0.1:" + GRPC_PORT), log("client" + i))));
        }
        awaitAll(c -> {
            try {
                Map<String, String> v = c.view();
                return v.get("state").equals("MEMBER_STATE_READY") && v.get("members").split(",").length == NODES - 1;
            } catch (AssertionError notUpYet) {
                // An agent JVM may take longer to listen than one probe waits.
                return false;
            }
        }, Duration.ofSeconds(30), "every agent ready with " + (NODES - 1) + " members");
    }

    private Client client(int node) {
        return clients.get(node - 1);
    }

    private List<Map<String, String>> views() {
        List<Map<String, String>> views = new ArrayList<>();
        for (Client c : clients) {
            views.add(c.view());
        }
        return views;
    }

    /** Epoch ms at which every agent first held {@code count} sessions with one table hash. */
    private long awaitConvergence(int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Map<String, String>> last = List.of();
        while (System.nanoTime() < deadline) {
            last = views();
            if (last.stream().allMatch(v -> v.get("count").equals(Integer.toString(count)))
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
        throw new AssertionError("agents did not converge to " + count + " sessions with one hash within "
                + timeout.toSeconds() + " s:" + sb);
    }

    private void awaitAll(Predicate<Client> condition, Duration timeout, String what) {
        await(() -> clients.stream().allMatch(condition), timeout, what);
    }

    private static void await(BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what);
            }
            sleep(50);
        }
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
    private static String clientClassPath() {
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

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** A {@link NetnsClient} process: one command line out, one answer line back. */
    private static final class Client {
        private static final String EXITED = "error client process exited";
        final int node;
        private final Process process;
        private final Writer in;
        private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

        Client(int node, Process process) {
            this.node = node;
            this.process = process;
            this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(this::readAnswers, "netns-client-" + node);
            reader.setDaemon(true);
            reader.start();
        }

        private void readAnswers() {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    answers.add(line);
                }
            } catch (IOException ignored) {
                // The process is gone; the sentinel below tells the waiting caller.
            }
            answers.add(EXITED);
        }

        Map<String, String> view() {
            return call("view");
        }

        Map<String, String> call(String command) {
            return call(command, CALL_TIMEOUT);
        }

        /** Sends one command and parses its {@code ok key=value ...} answer; fails on an error answer. */
        synchronized Map<String, String> call(String command, Duration timeout) {
            String answer;
            try {
                in.write(command + "\n");
                in.flush();
                answer = answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (IOException e) {
                throw new AssertionError("node" + node + " client: cannot send '" + command + "': " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
            if (answer == null) {
                throw new AssertionError("node" + node + " client: no answer to '" + command + "' within "
                        + timeout.toSeconds() + " s");
            }
            if (answer.equals(EXITED)) {
                answers.add(EXITED);
            }
            if (!answer.startsWith("ok")) {
                throw new AssertionError("node" + node + " client: '" + command + "' answered " + answer);
            }
            Map<String, String> fields = new HashMap<>();
            for (String pair : answer.substring(2).trim().split(" ")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    fields.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
            return fields;
        }
    }
}
