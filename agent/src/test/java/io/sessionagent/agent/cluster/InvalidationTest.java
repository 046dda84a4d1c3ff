package io.sessionagent.agent.cluster;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.BatchStream;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.InProcessNetwork;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.agent.testing.SessionClient;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ChangeResult;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.InvalidateRequest;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;
import io.sessionagent.proto.v1.WriteRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Invalidations between real agents: ordered with the writes of the same stream, and kept by
 * tombstones that outlive every copy of the session they kill.
 */
@Execution(ExecutionMode.CONCURRENT)
class InvalidationTest {
    private InProcessNetwork network;
    private TestCluster cluster;
    /** Added to every agent's clock: the time a test lets pass without waiting for it. */
    private final AtomicLong skewMs = new AtomicLong();

    private void startCluster(String name, Map<String, String> extra) {
        network = new InProcessNetwork(name.hashCode());
        Map<String, String> settings = Networks.loopbackCluster(name);
        settings.put("heartbeat-interval", "200ms");
        settings.put("failure-timeout", "1500ms");
        settings.put("join-wait", "500ms");
        settings.put("access-flush-interval", "300ms");
        settings.putAll(extra);
        cluster = new TestCluster(settings, c -> network.endpoint(c.nodeName()));
    }

    private Agent start(String node) throws Exception {
        Agent a = cluster.start(node, Map.of(), () -> System.currentTimeMillis() + skewMs.get());
        a.replicator().ready().get(10, TimeUnit.SECONDS);
        return a;
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

    private static SessionChange create(String id, int maxInactiveSeconds) {
        long now = System.currentTimeMillis();
        return SessionChange.newBuilder().setId(id).setCreationTimeMs(now).setAccessTimeMs(now)
                .setMaxInactiveSeconds(maxInactiveSeconds)
                .addSet(Attribute.newBuilder().setName("user").setValue(ByteString.copyFromUtf8("alice"))).build();
    }

    @Test
    void anInvalidationSentBehindItsCreateOnTheWriteStreamLandsAfterItEverywhere() throws Exception {
        startCluster("invalidation-order", Map.of());
        Agent a = start("node-a");
        Agent b = start("node-b");
        Eventually.await(Duration.ofSeconds(5), () -> a.replicator().view().members().size() == 1,
                () -> "node-a sees node-b");
        SessionClient client = cluster.client(a);
        BatchStream batches = client.writeBatches();
        StreamObserver<WriteBatch> stream = batches.batches;
        List<WriteBatchResult> results = batches.results;
        // The create waits for node-b; the logout is sent at once behind it, as a filter does
        // when the user logs out while the session's first write is still in flight.
        stream.onNext(WriteBatch.newBuilder().setBatchId(1).setDurability(Durability.DURABILITY_SYNC_ALL)
                .addChanges(create("logout-race", 1800)).build());
        stream.onNext(WriteBatch.newBuilder().setBatchId(2).setDurability(Durability.DURABILITY_SYNC_ALL)
                .addChanges(SessionChange.newBuilder().setId("logout-race").setInvalidate(true)
                        .setMaxInactiveSeconds(1800)).build());
        stream.onCompleted();

        Eventually.await(Duration.ofSeconds(10), () -> results.size() == 2, () -> "both batches answered");
        assertThat(results.get(0).getResults(0)).isEqualTo(ChangeResult.newBuilder().setVersion(1).build());
        assertThat(results.get(1).getResults(0)).isEqualTo(ChangeResult.newBuilder().setVersion(2).build());
        for (Agent x : List.of(a, b)) {
            Eventually.await(Duration.ofSeconds(5), () -> x.table().getForPeer("logout-race")
                    .map(r -> r.getInvalidated() && r.getVersion() == 2).orElse(false), () -> "tombstone on " + x);
            assertThat(x.table().get("logout-race")).isEmpty();
        }
    }

    @Test
    void aPartitionLongerThanTheTombstoneTtlDoesNotBringTheInvalidatedSessionBack() throws Exception {
        startCluster("tombstone-life", Map.of("tombstone-ttl", "2s"));
        Agent a = start("node-a");
        Agent c = start("node-c");
        SessionClient ca = cluster.client(a);
        ca.stub().writeDelta(WriteRequest.newBuilder().setChange(create("gone-for-good", 3600)).build());
        // Expires 10 s after its access: once node-a counts it expired, it has scanned past the jump.
        ca.stub().writeDelta(WriteRequest.newBuilder().setChange(create("marker", 10)).build());
        Eventually.await(Duration.ofSeconds(5), () -> c.table().get("gone-for-good").isPresent(),
                () -> "node-c holds the session");

        network.partition(Set.of("node-c"));
        Eventually.await(Duration.ofSeconds(5), () -> a.replicator().view().members().isEmpty()
                && c.replicator().view().members().isEmpty(), () -> "both sides see the partition");
        ca.stub().invalidate(InvalidateRequest.newBuilder().setId("gone-for-good").build());
        // Far past tombstone-ttl, well within the session's hour: node-c's copy is still live.
        skewMs.addAndGet(60_000);
        Eventually.await(Duration.ofSeconds(10), () -> a.counter(Counter.SESSIONS_EXPIRED) >= 1,
                () -> "node-a scanned for expiry after the clock moved on");
        assertThat(c.table().get("gone-for-good")).isPresent();

        network.heal();

        Eventually.await(Duration.ofSeconds(20), () -> a.replicator().view().members().size() == 1
                && a.table().tableHash() == c.table().tableHash()
                && c.table().getForPeer("gone-for-good").map(r -> r.getInvalidated()).orElse(false),
                () -> "node-c takes the tombstone; node-a: " + a.table().getForPeer("gone-for-good")
                        + ", node-c: " + c.table().getForPeer("gone-for-good"));
        assertThat(a.table().get("gone-for-good")).isEmpty();
        assertThat(c.table().get("gone-for-good")).isEmpty();
    }
}
