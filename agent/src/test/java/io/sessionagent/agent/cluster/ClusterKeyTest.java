package io.sessionagent.agent.cluster;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.auth.ClusterKey;
import io.sessionagent.agent.auth.Keys;
import io.sessionagent.agent.auth.PeerSealing;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.replication.PeerClients;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.WriteOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Agents with a cluster key on one multicast group beside agents with another key or none: only
 * key holders see each other, exchange sessions or answer peer calls. And a key rotated by editing
 * the key files while writes go on, with no write lost and no restart.
 */
@Execution(ExecutionMode.CONCURRENT)
class ClusterKeyTest {
    private static final ClusterKey K1 = Keys.key(1, 11);
    private static final ClusterKey K2 = Keys.key(2, 11);
    private static final ClusterKey WRONG = Keys.key(1, 99);

    @TempDir
    Path dir;
    private final TestCluster cluster = new TestCluster(Networks.loopbackCluster("keyed-" + System.nanoTime()));
    private int fileTimeBump = 1;

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private Path keyFile(String name, ClusterKey... keys) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, Keys.fileText(keys));
        // File times can be coarse: move each rewrite visibly forward.
        Files.setLastModifiedTime(f, FileTime.from(Instant.now().plusSeconds(fileTimeBump++)));
        return f;
    }

    private Agent start(String node, Path keyFile) throws Exception {
        Agent a = cluster.start(node, keyFile == null ? Map.of() : Map.of("cluster-key-file", keyFile.toString()));
        a.replicator().ready().get(15, TimeUnit.SECONDS);
        return a;
    }

    private static Set<Long> memberIds(Agent agent) {
        return agent.replicator().view().members().stream().map(m -> m.id()).collect(Collectors.toSet());
    }

    private static String id(String prefix, int i) {
        return String.format("%s%024d", prefix, i);
    }

    @Test
    void anAgentWithTheWrongKeyOrNoKeyCannotJoinReadOrWrite() throws Exception {
        Agent a = start("a", keyFile("a.keys", K1));
        Agent b = start("b", keyFile("b.keys", K1));
        Eventually.await(Duration.ofSeconds(5), () -> memberIds(a).equals(Set.of(b.memberId())),
                () -> "a sees b");
        byte[] value = "cart".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 100; i++) {
            assertThat(cluster.client(a).write(id("ka", i), 0, "cart", value, Durability.DURABILITY_SYNC_ALL)
                    .getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_REPLICATED);
        }

        // Late joiners: one with another secret under the same key id, one with no key at all.
        Agent wrong = start("wrong", keyFile("wrong.keys", WRONG));
        Agent keyless = start("keyless", null);
        for (int i = 0; i < 50; i++) {
            cluster.client(wrong).put(id("kw", i), 0, "cart", value);
            cluster.client(keyless).put(id("kn", i), 0, "cart", value);
            cluster.client(a).put(id("kb", i), 0, "cart", value);
        }
        Eventually.await(Duration.ofSeconds(10), () -> b.table().liveCount() == 150, () -> "b has a's 150 sessions");
        // Several heartbeats of every agent have gone by since: nobody was let in meanwhile.
        Thread.sleep(2_000);

        assertThat(memberIds(a)).containsExactly(b.memberId());
        assertThat(memberIds(b)).containsExactly(a.memberId());
        assertThat(memberIds(wrong)).isEmpty();
        assertThat(memberIds(keyless)).isEmpty();
        // Cannot read: no state transfer, no live writes; cannot write: its sessions never arrive.
        assertThat(wrong.table().liveCount()).isEqualTo(50);
        assertThat(keyless.table().liveCount()).isEqualTo(50);
        assertThat(a.table().liveCount()).isEqualTo(150);
        assertThat(b.table().get(id("kw", 0))).isEmpty();
        assertThat(b.table().get(id("kn", 0))).isEmpty();
        for (Agent x : List.of(a, b, wrong, keyless)) {
            assertThat(x.counter(Counter.FRAMES_DROPPED_AUTH)).as("auth drops at %s", x.memberId()).isPositive();
        }

        // The peer port refuses it too.
        try (PeerClients peer = new PeerClients(cluster.settings().get("cluster-name"), wrong.memberId(), 1 << 20,
                new PeerSealing(Keys.fixed(WRONG), () -> { }))) {
            assertThatThrownBy(() -> peer.snapshot("127.0.0.1:" + a.peerPort(), 5_000, r -> { }))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        }
        assertThat(a.counter(Counter.PEER_AUTH_FAILURES)).isPositive();
    }

    @Test
    void aKeyRotatesByEditingTheKeyFilesWhileWritesGoOn() throws Exception {
        Path fa = keyFile("a.keys", K1);
        Path fb = keyFile("b.keys", K1);
        Agent a = start("a", fa);
        Agent b = start("b", fb);
        Eventually.await(Duration.ofSeconds(5), () -> memberIds(a).equals(Set.of(b.memberId())),
                () -> "a sees b");

        List<String> written = new ArrayList<>();
        int[] n = {0};
        Runnable writeSome = () -> {
            for (int i = 0; i < 20; i++) {
                String sid = id("rot", n[0]++);
                Agent via = n[0] % 2 == 0 ? a : b;
                WriteOutcome o = cluster.client(via).write(sid, 0, "cart", new byte[200],
                        Durability.DURABILITY_SYNC_ALL).getOutcome();
                assertThat(o).as("write %s", sid).isEqualTo(WriteOutcome.WRITE_OUTCOME_REPLICATED);
                written.add(sid);
            }
        };
        writeSome.run();

        // 1. Every node learns the new key, still sending with the old one.
        keyFile("a.keys", K1, K2);
        keyFile("b.keys", K1, K2);
        awaitReloads(a, b, 1);
        writeSome.run();
        // 2. Every node sends with the new key; the old one is still accepted from nodes not yet switched.
        keyFile("a.keys", K2, K1);
        awaitReloads(a, null, 2);
        writeSome.run();
        keyFile("b.keys", K2, K1);
        awaitReloads(b, null, 2);
        writeSome.run();
        // 3. The old key is dropped everywhere.
        keyFile("a.keys", K2);
        keyFile("b.keys", K2);
        awaitReloads(a, b, 3);
        writeSome.run();

        // A node holding only the new key joins and takes every session; one holding only the old key cannot.
        Agent fresh = start("fresh", keyFile("fresh.keys", K2));
        Agent stale = start("stale", keyFile("stale.keys", K1));
        writeSome.run();
        Eventually.await(Duration.ofSeconds(10), () -> fresh.table().liveCount() == written.size(),
                () -> "the new-key joiner has all " + written.size() + " sessions, not " + fresh.table().liveCount());
        for (Agent x : List.of(a, b, fresh)) {
            for (String sid : written) {
                assertThat(x.table().get(sid)).as("%s on %s", sid, x.memberId()).isPresent();
            }
        }
        assertThat(stale.table().liveCount()).isZero();
        assertThat(memberIds(a)).containsExactlyInAnyOrder(b.memberId(), fresh.memberId());
        assertThat(a.counter(Counter.KEY_RELOAD_FAILURES)).isZero();
    }

    @Test
    void aBrokenKeyFileEditKeepsTheKeysInUse() throws Exception {
        Path fa = keyFile("a.keys", K1);
        Agent a = start("a", fa);
        Agent b = start("b", keyFile("b.keys", K1));
        Eventually.await(Duration.ofSeconds(5), () -> memberIds(a).equals(Set.of(b.memberId())), () -> "a sees b");
        Files.writeString(fa, "1:this is not a key\n");
        Files.setLastModifiedTime(fa, FileTime.from(Instant.now().plusSeconds(fileTimeBump++)));
        Eventually.await(Duration.ofSeconds(10), () -> a.counter(Counter.KEY_RELOAD_FAILURES) == 1,
                () -> "the bad edit is refused");
        assertThat(cluster.client(a).write(id("bk", 1), 0, "cart", new byte[10], Durability.DURABILITY_SYNC_ALL)
                .getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_REPLICATED);
    }

    private static void awaitReloads(Agent x, Agent y, long reloads) {
        Eventually.await(Duration.ofSeconds(10), () -> x.counter(Counter.KEY_RELOADS) == reloads
                        && (y == null || y.counter(Counter.KEY_RELOADS) == reloads),
                () -> "key files read again " + reloads + " times");
    }
}
