package io.sessionagent.agent.cluster;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.BatchStream;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.SessionClient;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;
import io.sessionagent.proto.v1.WriteOutcome;
import io.sessionagent.proto.v1.WriteRequest;
import io.sessionagent.proto.v1.WriteResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Behaviours of the replication protocol on a real loopback multicast group. */
@Execution(ExecutionMode.CONCURRENT)
class ReplicationBehaviourTest {
    private final TestCluster cluster = new TestCluster("behaviour-" + System.nanoTime());

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private Agent ready(Agent a) throws Exception {
        a.replicator().ready().get(10, TimeUnit.SECONDS);
        return a;
    }

    private static WriteRequest write(long correlation, String id, int size) {
        long now = System.currentTimeMillis();
        return WriteRequest.newBuilder().setCorrelationId(correlation).setChange(SessionChange.newBuilder()
                .setId(id).setCreationTimeMs(now).setAccessTimeMs(now).setMaxInactiveSeconds(600)
                .addSet(Attribute.newBuilder().setName("v").setValue(ByteString.copyFrom(new byte[size])))).build();
    }

    private static WriteBatch batch(long id, Durability durability, SessionChange... changes) {
        return WriteBatch.newBuilder().setBatchId(id).setDurability(durability).addAllChanges(List.of(changes)).build();
    }

    @Test
    void batchesAreAnsweredInOrderABadChangeFailsAloneAndDeltasShareDatagrams() throws Exception {
        Agent a = ready(cluster.start("node-a"));
        Agent b = ready(cluster.start("node-b"));
        Eventually.await(Duration.ofSeconds(5), () -> a.replicator().readyMembers().size() == 1, () -> "view of 2");
        BatchStream stream = cluster.client(a).writeBatches();
        StreamObserver<WriteBatch> batches = stream.batches;
        List<WriteBatchResult> results = stream.results;
        for (int i = 0; i < 200; i++) {
            SessionChange[] changes = new SessionChange[10];
            for (int c = 0; c < 10; c++) {
                changes[c] = write(0, String.format("stream%018d", i * 10 + c), 100).getChange();
            }
            // Every other batch waits for the replica: an async batch behind it is still answered after it.
            batches.onNext(batch(i, i % 2 == 0 ? Durability.DURABILITY_SYNC_ALL : Durability.DURABILITY_ASYNC,
                    changes));
        }
        batches.onNext(batch(200, Durability.DURABILITY_SYNC_ONE, write(0, "good00000000000000000001", 10).getChange(),
                write(0, "bad.id", 1).getChange(), write(0, "good00000000000000000002", 10).getChange()));
        batches.onCompleted();
        stream.done.get(30, TimeUnit.SECONDS);

        assertThat(results).hasSize(201);
        for (int i = 0; i < 200; i++) {
            WriteBatchResult r = results.get(i);
            assertThat(r.getBatchId()).isEqualTo(i);
            assertThat(r.getOutcome()).isEqualTo(i % 2 == 0 ? WriteOutcome.WRITE_OUTCOME_REPLICATED
                    : WriteOutcome.WRITE_OUTCOME_APPLIED);
            assertThat(r.getResultsList()).hasSize(10).allSatisfy(c -> {
                assertThat(c.getVersion()).isEqualTo(1);
                assertThat(c.getErrorCode()).isZero();
            });
        }
        WriteBatchResult mixed = results.get(200);
        assertThat(mixed.getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_REPLICATED);
        assertThat(mixed.getAcks()).isEqualTo(1);
        assertThat(mixed.getResults(0).getVersion()).isEqualTo(1);
        assertThat(mixed.getResults(1).getErrorCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT.value());
        assertThat(mixed.getResults(1).getErrorMessage()).contains("route suffix");
        assertThat(mixed.getResults(2).getVersion()).isEqualTo(1);
        // A REPLICATED answer means applied on the replica already, not only sent.
        assertThat(b.table().get("good00000000000000000002")).isPresent();
        Eventually.await(Duration.ofSeconds(10), () -> b.table().liveCount() == 2_002, () -> "2,002 on node-b");
        // About 10 deltas of 100 bytes fit one 1400-byte datagram.
        assertThat(a.counter(Counter.BATCHES_SENT)).isLessThan(a.counter(Counter.DELTAS_SENT));
        assertThat(a.counter(Counter.SYNC_WRITES)).isEqualTo(100 * 10 + 3);
    }

    @Test
    void aSessionLargerThanADatagramTravelsInFragments() throws Exception {
        Agent a = ready(cluster.start("node-a"));
        Agent b = ready(cluster.start("node-b"));
        WriteResponse r = cluster.client(a).stub().writeDelta(write(1, "bigSession0000000000000", 200_000));
        Eventually.await(Duration.ofSeconds(5), () -> b.table().get("bigSession0000000000000").isPresent(),
                () -> "200 KB session on node-b");
        assertThat(b.table().get("bigSession0000000000000").orElseThrow().getAttributes(0).getValue().size())
                .isEqualTo(200_000);
        assertThat(a.counter(Counter.FRAGMENTED_BATCHES_SENT)).isEqualTo(1);
        assertThat(r.getVersion()).isEqualTo(1);
    }

    @Test
    void syncWritesWaitForOneOrAllAndTimeOutInsteadOfHanging() throws Exception {
        Agent a = ready(cluster.start("node-a"));
        Agent b = ready(cluster.start("node-b"));
        Agent c = ready(cluster.start("node-c"));
        Eventually.await(Duration.ofSeconds(5), () -> a.replicator().readyMembers().size() == 2, () -> "view of 3");
        SessionClient client = cluster.client(a);
        WriteResponse one = client.write("syncOne0000000000000000", 0, "k", new byte[] {1},
                Durability.DURABILITY_SYNC_ONE);
        assertThat(one.getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_REPLICATED);
        assertThat(one.getAcks()).isGreaterThanOrEqualTo(1);

        cluster.transport(c).cut();
        long start = System.nanoTime();
        WriteResponse all = client.stub().writeDelta(WriteRequest.newBuilder()
                .setDurability(Durability.DURABILITY_SYNC_ALL).setSyncTimeoutMs(300)
                .setChange(write(0, "syncAll0000000000000000", 10).getChange()).build());
        long waitedMs = (System.nanoTime() - start) / 1_000_000;
        assertThat(all.getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_SYNC_TIMEOUT);
        assertThat(all.getAcks()).isEqualTo(1);
        assertThat(waitedMs).isLessThan(3_000);
        assertThat(a.counter(Counter.SYNC_TIMEOUTS)).isEqualTo(1);
        assertThat(b.table().get("syncAll0000000000000000")).isPresent();
    }

    @Test
    void aBatchThatAsksIsAnsweredOnceAppliedHereAndAgainWhenItsReplicasAre() throws Exception {
        Agent a = ready(cluster.start("node-a"));
        Agent b = ready(cluster.start("node-b"));
        Eventually.await(Duration.ofSeconds(5), () -> a.replicator().readyMembers().size() == 1, () -> "view of 2");
        BatchStream stream = cluster.client(a).writeBatches();
        StreamObserver<WriteBatch> batches = stream.batches;
        List<WriteBatchResult> results = stream.results;
        // The replica hears nothing: only the sync timeout ends the wait for it.
        cluster.transport(b).cut();
        batches.onNext(batch(1, Durability.DURABILITY_SYNC_ALL, write(0, "interim0000000000000001", 10).getChange())
                .toBuilder().setSyncTimeoutMs(60_000).setAnswerWhenApplied(true).build());
        Eventually.await(Duration.ofSeconds(10), () -> !results.isEmpty(), () -> "a first answer");
        WriteBatchResult first = results.get(0);
        assertThat(first.getInterim()).isTrue();
        assertThat(first.getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_APPLIED);
        assertThat(first.getResults(0).getVersion()).isEqualTo(1);
        assertThat(a.table().get("interim0000000000000001")).as("held here when answered").isPresent();
        assertThat(b.table().get("interim0000000000000001")).isEmpty();

        // Nothing applied (a bad id), nothing to wait for: one answer, the final one, after batch 1's.
        batches.onNext(batch(2, Durability.DURABILITY_SYNC_ALL, write(0, "bad.id", 1).getChange())
                .toBuilder().setAnswerWhenApplied(true).build());
        Thread.sleep(200);
        assertThat(results).hasSize(1);

        cluster.transport(b).heal();
        batches.onCompleted();
        stream.done.get(30, TimeUnit.SECONDS);
        assertThat(results).hasSize(3);
        WriteBatchResult last = results.get(1);
        assertThat(last.getBatchId()).isEqualTo(1);
        assertThat(last.getInterim()).isFalse();
        assertThat(last.getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_REPLICATED);
        assertThat(b.table().get("interim0000000000000001")).isPresent();
        assertThat(results.get(2).getBatchId()).isEqualTo(2);
        assertThat(results.get(2).getInterim()).isFalse();
        assertThat(results.get(2).getResults(0).getErrorCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT.value());
    }

    @Test
    void aSyncWriteWithNoOtherMemberAnswersAtOnce() throws Exception {
        Agent a = ready(cluster.start("alone"));
        WriteResponse r = cluster.client(a).write("lonely00000000000000000", 0, "k", new byte[] {1},
                Durability.DURABILITY_SYNC_ALL);
        assertThat(r.getOutcome()).isEqualTo(WriteOutcome.WRITE_OUTCOME_NO_REPLICAS);
    }

    @Test
    void aNodeRestartedUnderTheSameNameIsRecognisedAndGetsTheTableAgain() throws Exception {
        Agent a = ready(cluster.start("node-a"));
        Agent b = ready(cluster.start("node-b"));
        for (int i = 0; i < 100; i++) {
            cluster.client(a).put(String.format("restart%016d", i), 0, "k", new byte[] {(byte) i});
        }
        Eventually.await(Duration.ofSeconds(5), () -> b.table().liveCount() == 100, () -> "100 on node-b");
        // A crash and a restart quicker than the failure timeout: only the incarnation tells them apart.
        cluster.transport(b).cut();
        cluster.stop(b);
        Agent b2 = ready(cluster.start("node-b"));
        assertThat(b2.table().liveCount()).isEqualTo(100);
        Eventually.await(Duration.ofSeconds(5), () -> a.replicator().view().members().stream()
                .anyMatch(m -> m.nodeName().equals("node-b") && m.incarnation() != b.replicator().hashCode()),
                () -> "node-a sees node-b");
        long v = cluster.client(a).put("afterRestart00000000000", 0, "k", new byte[] {1});
        Eventually.await(Duration.ofSeconds(5), () -> b2.table().get("afterRestart00000000000")
                .map(SessionRecord::getVersion).orElse(0L) == v, () -> "live writes reach the restarted node");
    }

    @Test
    void whenTheRetransmitBufferNoLongerHoldsAGapTheReceiverRepairsByAntiEntropy() throws Exception {
        // A failure timeout the cut cannot reach: a member dropped and heard again starts a new
        // stream with no gap in it, and the repair would not be the one under test.
        Map<String, String> small = Map.of("retransmit-buffer-frames", "16", "retransmit-buffer-bytes", "64KiB",
                "failure-timeout", "60s");
        Agent a = ready(cluster.start("node-a", small));
        Agent b = ready(cluster.start("node-b", small));
        // node-b hears nothing while node-a sends far more than its buffer holds.
        cluster.transport(b).cut();
        for (int i = 0; i < 300; i++) {
            cluster.client(a).put(String.format("gone%019d", i), 0, "k", new byte[500]);
        }
        cluster.transport(b).heal();
        // The run is counted once it has finished, which can be after the table already matches.
        Eventually.await(Duration.ofSeconds(15), () -> b.table().liveCount() == 300
                && b.table().tableHash() == a.table().tableHash() && b.counter(Counter.ANTI_ENTROPY_RUNS) > 0,
                () -> "node-b repaired: " + b.table().liveCount() + " " + b.counters().snapshotByName());
        assertThat(b.counter(Counter.GAPS_UNRECOVERABLE)).isPositive();
    }

    @Test
    void withReplicationOffAnAgentServesOnlyItsOwnNode() throws Exception {
        Agent a = ready(cluster.start("node-a", Map.of("replication-enabled", "false")));
        Agent b = ready(cluster.start("node-b"));
        cluster.client(a).put("private0000000000000000", 0, "k", new byte[] {1});
        cluster.client(b).put("shared00000000000000000", 0, "k", new byte[] {1});
        // Heartbeats still flow, so both see each other; no data crosses.
        Eventually.await(Duration.ofSeconds(5), () -> b.replicator().view().members().size() == 1,
                () -> "node-b sees node-a");
        Thread.sleep(500);
        assertThat(b.table().get("private0000000000000000")).isEmpty();
        assertThat(a.table().get("shared00000000000000000")).isEmpty();
        assertThat(cluster.client(a).view().getReplicationEnabled()).isFalse();
    }
}
