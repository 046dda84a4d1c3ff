package io.sessionagent.agent.netns;

import io.sessionagent.agent.Agent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static io.sessionagent.agent.netns.NetnsCluster.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three agent processes on a real multicast segment: each agent runs in its own network namespace,
 * joined to the others by a bridge in a fourth namespace (see {@link Netns}). Loss comes from
 * nftables at each receiver, a partition from taking a bridge port down. Everything is probed
 * from inside the namespaces by {@link NetnsClient}; the cluster itself is a {@link NetnsCluster}.
 *
 * <p>Needs root, {@code ip} (iproute2) and {@code nft} (nftables). Without them the tests are
 * skipped, unless the environment variable CI is set, where they fail instead.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class NetnsClusterIT {
    private static final int NODES = 3;

    private static Path jar;

    private NetnsCluster cluster;
    private Netns net;
    private List<NodeClient> clients;
    private int multicastPort;

    @RegisterExtension
    final TestWatcher printLogsOnFailure = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (cluster != null) {
                cluster.printLogTails();
            }
        }
    };

    @BeforeAll
    static void requireNamespaces() {
        jar = NetnsCluster.requireNamespaces();
    }

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void tenPercentLossThreeThousandWritesConverge() throws Exception {
        startCluster();
        // Loss starts after the join so that what is measured is replication, not start-up.
        for (int i = 1; i <= NODES; i++) {
            net.dropIncomingUdp(i, multicastPort, 10);
        }

        // Some 17,000 datagrams, 1,700 of them dropped: hundreds of NAKs and retransmits on every node.
        int total = Integer.getInteger("netns.writes", 3_000);
        List<CompletableFuture<Map<String, String>>> writers = new ArrayList<>();
        for (int i = 1; i <= NODES; i++) {
            int share = total / NODES + (i <= total % NODES ? 1 : 0);
            NodeClient c = client(i);
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
        NodeClient node1 = client(1);
        NodeClient node3 = client(3);
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
        for (NodeClient c : clients) {
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

    private void startCluster(String... extraSettings) {
        cluster = new NetnsCluster(jar, NODES);
        net = cluster.net();
        multicastPort = cluster.multicastPort();
        cluster.start(extraSettings);
        clients = cluster.clients();
    }

    private NodeClient client(int node) {
        return cluster.client(node);
    }

    private List<Map<String, String>> views() {
        return cluster.views();
    }

    private long awaitConvergence(int count, Duration timeout) {
        return cluster.awaitConvergence(count, timeout);
    }

    private void awaitAll(Predicate<NodeClient> condition, Duration timeout, String what) {
        cluster.awaitAll(condition, timeout, what);
    }
}
