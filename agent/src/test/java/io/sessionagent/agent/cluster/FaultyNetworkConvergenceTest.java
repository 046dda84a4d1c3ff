package io.sessionagent.agent.cluster;

import com.google.protobuf.ByteString;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.auth.Keys;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.InProcessNetwork;
import io.sessionagent.agent.testing.InProcessNetwork.Faults;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.agent.testing.SessionClient;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.proto.v1.Access;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.InvalidateRequest;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.TouchRequest;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.WriteOutcome;
import io.sessionagent.proto.v1.WriteRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Agents over an in-process group that drops, duplicates, reorders and truncates datagrams:
 * after any sequence of writes and faults, every agent converges to the table of a simple
 * reference model.
 */
class FaultyNetworkConvergenceTest {
    private InProcessNetwork network;
    private TestCluster cluster;

    @TempDir
    Path dir;

    private void startCluster(long seed) throws Exception {
        startCluster(seed, false);
    }

    /** @param keyed with a cluster key: every datagram sealed, duplicated control frames refused as replays */
    private void startCluster(long seed, boolean keyed) throws Exception {
        network = new InProcessNetwork(seed);
        Map<String, String> settings = Networks.loopbackCluster("faulty-" + seed);
        if (keyed) {
            Path keys = dir.resolve("cluster.keys");
            Files.writeString(keys, Keys.fileText(Keys.key(1, seed)));
            settings.put("cluster-key-file", keys.toString());
        }
        settings.put("heartbeat-interval", "200ms");
        settings.put("failure-timeout", "1500ms");
        settings.put("join-wait", "500ms");
        settings.put("access-flush-interval", "300ms");
        cluster = new TestCluster(settings, c -> network.endpoint(c.nodeName()));
    }

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
        if (network != null) {
            network.close();
        }
    }

    /** What the sessions must look like: the writes the agents acknowledged, replayed in a map. */
    private static final class Model {
        final Map<String, Map<String, byte[]>> sessions = new HashMap<>();
        final Map<String, Long> versions = new HashMap<>();
        final Map<String, Integer> owner = new HashMap<>();
        final List<String> live = new ArrayList<>();
    }

    @ParameterizedTest(name = "seed {0}, cluster key {1}")
    @CsvSource({"1, false", "2, false", "3, false", "4, true"})
    void randomWritesUnderDropDuplicateReorderTruncateConverge(long seed, boolean keyed) throws Exception {
        startCluster(seed, keyed);
        List<Agent> agents = List.of(cluster.start("node-a"), cluster.start("node-b"), cluster.start("node-c"));
        for (Agent a : agents) {
            a.replicator().ready().get(10, TimeUnit.SECONDS);
        }
        network.setFaults(new Faults(0.10, 0.05, 0.10, 30, 0.02));
        Random random = new Random(seed);
        Model model = new Model();
        for (int op = 0; op < 1500; op++) {
            double r = random.nextDouble();
            if (r < 0.35 || model.live.isEmpty()) {
                String id = "s" + seed + "x" + op + "y" + Long.toHexString(random.nextLong() & 0xffffffffL);
                int owner = random.nextInt(agents.size());
                write(model, agents, owner, id, Map.of("a", bytes(random)), List.of());
                model.live.add(id);
            } else if (r < 0.85) {
                String id = model.live.get(random.nextInt(model.live.size()));
                String name = "abc".substring(random.nextInt(3)).substring(0, 1);
                if (random.nextInt(4) == 0 && model.sessions.get(id).containsKey(name)) {
                    write(model, agents, model.owner.get(id), id, Map.of(), List.of(name));
                } else {
                    write(model, agents, model.owner.get(id), id, Map.of(name, bytes(random)), List.of());
                }
            } else if (r < 0.95) {
                String id = model.live.get(random.nextInt(model.live.size()));
                cluster.client(agents.get(model.owner.get(id))).stub().touch(TouchRequest.newBuilder()
                        .addAccesses(Access.newBuilder().setId(id).setAccessTimeMs(System.currentTimeMillis()))
                        .build());
            } else {
                String id = model.live.remove(random.nextInt(model.live.size()));
                cluster.client(agents.get(model.owner.get(id))).stub()
                        .invalidate(InvalidateRequest.newBuilder().setId(id).build());
                model.sessions.remove(id);
            }
        }
        network.setFaults(Faults.NONE);

        long ms = Eventually.timeUntil(Duration.ofSeconds(60), () -> agents.stream().allMatch(a -> matches(a, model)),
                () -> "every agent equals the model; " + network.stats() + "; " + describe(agents, model));
        assertThat(agents.stream().map(a -> a.table().tableHash()).distinct()).hasSize(1);
        long repairs = agents.stream().mapToLong(a -> a.counter(Counter.RETRANSMITS_SENT)).sum();
        assertThat(repairs).as("faults were injected and repaired").isPositive();
        if (keyed) {
            assertThat(agents.stream().mapToLong(a -> a.counter(Counter.FRAMES_DROPPED_REPLAY)).sum())
                    .as("duplicated control frames refused as replays").isPositive();
            assertThat(agents.stream().mapToLong(a -> a.counter(Counter.FRAMES_DROPPED_AUTH)).sum()).isZero();
        }
        System.out.printf("seed %d: converged %d ms after faults stopped; %s; retransmits %d; malformed %d%n", seed, ms,
                network.stats(), repairs,
                agents.stream().mapToLong(a -> a.counter(Counter.FRAMES_DROPPED_MALFORMED)).sum());
    }

    @Test
    void aHealedPartitionConvergesByTheConflictRule() throws Exception {
        startCluster(7);
        Agent a = cluster.start("node-a");
        Agent b = cluster.start("node-b");
        Agent c = cluster.start("node-c");
        for (Agent x : List.of(a, b, c)) {
            x.replicator().ready().get(10, TimeUnit.SECONDS);
        }
        SessionClient ca = cluster.client(a);
        SessionClient cc = cluster.client(c);
        long v1 = ca.put("contested000000000000000", 0, "who", new byte[] {0});
        Eventually.await(Duration.ofSeconds(5), () -> c.table().get("contested000000000000000").isPresent(),
                () -> "contested session on node-c");

        network.partition(Set.of("node-c"));
        Eventually.await(Duration.ofSeconds(5), () -> a.replicator().view().members().size() == 1
                && c.replicator().view().members().isEmpty(), () -> "both sides see the partition");
        // Both sides wait for replicas: node-a's write is acknowledged by node-b, node-c's by nobody.
        assertThat(ca.write("contested000000000000000", v1, "who", new byte[] {'a'}, Durability.DURABILITY_SYNC_ONE)
                .getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_REPLICATED);
        cc.write("contested000000000000000", v1, "who", new byte[] {'c'}, Durability.DURABILITY_SYNC_ONE);
        for (int i = 0; i < 200; i++) {
            ca.put(String.format("majority%016d", i), 0, "v", new byte[] {(byte) i});
            cc.put(String.format("minority%016d", i), 0, "v", new byte[] {(byte) i});
        }
        network.heal();

        Eventually.await(Duration.ofSeconds(20), () -> a.table().tableHash() == b.table().tableHash()
                && b.table().tableHash() == c.table().tableHash() && a.table().liveCount() == 401,
                () -> "all three converge: counts " + a.table().liveCount() + "/" + b.table().liveCount() + "/"
                        + c.table().liveCount());
        Agent winner = Long.compareUnsigned(a.memberId(), c.memberId()) > 0 ? a : c;
        byte expected = winner == a ? (byte) 'a' : (byte) 'c';
        for (Agent x : List.of(a, b, c)) {
            SessionRecord r = x.table().get("contested000000000000000").orElseThrow();
            assertThat(r.getVersion()).isEqualTo(2);
            assertThat(r.getWriter()).isEqualTo(winner.memberId());
            assertThat(r.getAttributes(0).getValue().byteAt(0)).isEqualTo(expected);
        }
        assertThat(a.counter(Counter.CONFLICTS) + c.counter(Counter.CONFLICTS)
                + a.counter(Counter.ANTI_ENTROPY_RECORDS) + c.counter(Counter.ANTI_ENTROPY_RECORDS)).isPositive();
        // The losing side dropped its version of the contested session once, and says it was acknowledged;
        // the winning side dropped nothing it held, and the 400 uncontested sessions dropped nothing.
        Agent loser = winner == a ? c : a;
        assertThat(loser.counter(Counter.BRANCHES_DISCARDED_HELD)).isEqualTo(1);
        assertThat(loser.counter(Counter.ACKNOWLEDGED_WRITES_DISCARDED)).isEqualTo(1);
        assertThat(winner.counter(Counter.BRANCHES_DISCARDED_HELD)).isZero();
    }

    private static byte[] bytes(Random random) {
        // Some values exceed one datagram, so fragmented batches are exercised too.
        byte[] b = new byte[random.nextInt(10) == 0 ? 2000 + random.nextInt(3000) : 1 + random.nextInt(300)];
        random.nextBytes(b);
        return b;
    }

    private void write(Model model, List<Agent> agents, int owner, String id, Map<String, byte[]> set,
                       List<String> removed) {
        long base = model.versions.getOrDefault(id, 0L);
        long now = System.currentTimeMillis();
        SessionChange.Builder change = SessionChange.newBuilder().setId(id).setBaseVersion(base)
                .setCreationTimeMs(now).setAccessTimeMs(now).setMaxInactiveSeconds(3600).addAllRemoved(removed);
        set.forEach((k, v) -> change.addSet(Attribute.newBuilder().setName(k).setValue(ByteString.copyFrom(v))));
        long version = cluster.client(agents.get(owner)).stub()
                .writeDelta(WriteRequest.newBuilder().setChange(change).build()).getVersion();
        model.versions.put(id, version);
        model.owner.put(id, owner);
        Map<String, byte[]> attrs = model.sessions.computeIfAbsent(id, k -> new HashMap<>());
        removed.forEach(attrs::remove);
        attrs.putAll(set);
    }

    private static boolean matches(Agent agent, Model model) {
        if (agent.table().liveCount() != model.sessions.size()) {
            return false;
        }
        for (Map.Entry<String, Map<String, byte[]>> e : model.sessions.entrySet()) {
            Optional<SessionRecord> r = agent.table().get(e.getKey());
            if (r.isEmpty() || r.get().getAttributesCount() != e.getValue().size()) {
                return false;
            }
            for (Attribute at : r.get().getAttributesList()) {
                byte[] want = e.getValue().get(at.getName());
                if (want == null || !Arrays.equals(want, at.getValue().toByteArray())) {
                    return false;
                }
            }
        }
        return true;
    }

    private static String describe(List<Agent> agents, Model model) {
        StringBuilder sb = new StringBuilder("model " + model.sessions.size());
        for (Agent a : agents) {
            sb.append(", ").append(a.table().liveCount()).append(" held (gaps ")
                    .append(a.counter(Counter.GAPS_DETECTED)).append(", naks ").append(a.counter(Counter.NAKS_SENT))
                    .append(", gone ").append(a.counter(Counter.GAPS_UNRECOVERABLE)).append(")");
        }
        return sb.toString();
    }
}
