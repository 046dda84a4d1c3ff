package io.sessionagent.agent.replication;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.sessionagent.agent.api.PeerServiceImpl;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.transport.Frame;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.proto.v1.Ack;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.DataBatch;
import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.ReceiveDigest;
import io.sessionagent.proto.v1.ReplicatedDelta;
import io.sessionagent.proto.v1.SessionChange;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.sessionagent.agent.replication.ReplicatorHarness.SELF;
import static io.sessionagent.agent.replication.ReplicatorHarness.delta;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A replica acknowledges what it applied, not only what it received: a delta it cannot apply holds
 * its acknowledgement back and names the session, which the writer re-sends whole at once.
 */
class AcknowledgedMeansAppliedTest {
    private static final long PEER = 2;

    private static Attribute attr(String name, String value) {
        return Attribute.newBuilder().setName(name).setValue(ByteString.copyFromUtf8(value)).build();
    }

    private static List<Ack> acksTo(ReplicatorHarness h, long member) {
        List<Ack> acks = new ArrayList<>();
        for (Frame f : h.sent(FrameType.ACK)) {
            try {
                Ack a = Ack.parseFrom(f.body());
                if (a.getTargetMember() == member) {
                    acks.add(a);
                }
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }
        return acks;
    }

    private static Ack lastAckTo(ReplicatorHarness h, long member) {
        List<Ack> acks = acksTo(h, member);
        return acks.isEmpty() ? null : acks.get(acks.size() - 1);
    }

    @Test
    void aReplicaThatHitAGapWithholdsItsAcknowledgementAndNamesTheSessionUntilItHoldsIt() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(3000).startAlone()) {
            h.heartbeat(PEER, 0);
            // Version 2 of a session whose version 1 this agent never saw.
            h.data(PEER, 1, delta("s", PEER, 1, 2).addSet(attr("a", "2")).build());
            Eventually.await(Duration.ofSeconds(5), () -> lastAckTo(h, PEER) != null, () -> "an ACK");
            Ack gap = lastAckTo(h, PEER);
            assertThat(gap.getDeliveredThrough()).isEqualTo(1);
            assertThat(gap.hasAppliedThrough()).isTrue();
            assertThat(gap.getAppliedThrough()).isZero();
            assertThat(gap.getUnappliedList()).containsExactly("s");
            assertThat(h.table.get("s")).isEmpty();

            // The writer re-sends the session whole.
            h.data(PEER, 2, delta("s", PEER, 2, 2).addSet(attr("a", "2")).setWhole(true).build());
            Eventually.await(Duration.ofSeconds(5), () -> lastAckTo(h, PEER).getAppliedThrough() == 2,
                    () -> "applied through 2: " + lastAckTo(h, PEER));
            assertThat(lastAckTo(h, PEER).getDeliveredThrough()).isEqualTo(2);
            assertThat(lastAckTo(h, PEER).getUnappliedList()).isEmpty();
            assertThat(h.table.get("s").orElseThrow().getVersion()).isEqualTo(2);
        }
    }

    @Test
    void aSyncWriteWaitsForTheReplicaToApplyItAndTheSessionIsReSentWholeAtOnce() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(3000).startAlone()) {
            h.heartbeat(PEER, 0);
            long now = System.currentTimeMillis();
            SessionChange create = SessionChange.newBuilder().setId("s").setCreationTimeMs(now).setAccessTimeMs(now)
                    .setMaxInactiveSeconds(600).addSet(attr("a", "1")).addSet(attr("b", "1")).build();
            h.table.writeLocal(create, SELF, d -> h.replicator.replicate(d, null));
            Eventually.await(Duration.ofSeconds(5), () -> h.sent(FrameType.DATA).size() == 1, () -> "the create");
            SyncWaiter waiter = new SyncWaiter(false, now + 10_000);
            h.table.writeLocal(create.toBuilder().setBaseVersion(1).clearSet().addSet(attr("a", "2")).build(), SELF,
                    d -> h.replicator.replicate(d, waiter));
            Eventually.await(Duration.ofSeconds(5), () -> h.sent(FrameType.DATA).size() == 2, () -> "the change");

            // The replica received both but could not apply version 2 (its version 1 went astray).
            ackFromPeer(h, Ack.newBuilder().setDeliveredThrough(2).setAppliedThrough(1).addUnapplied("s"));
            Eventually.await(Duration.ofSeconds(5), () -> h.sent(FrameType.DATA).size() == 3,
                    () -> "the session re-sent");
            DataBatch resent = DataBatch.parseFrom(h.sent(FrameType.DATA).get(2).body());
            ReplicatedDelta whole = resent.getEntries(0).getDelta();
            assertThat(whole.getWhole()).isTrue();
            assertThat(whole.getNewVersion()).isEqualTo(2);
            assertThat(whole.getSetList()).extracting(Attribute::getName).containsExactlyInAnyOrder("a", "b");
            assertThat(resent.getAckRequested()).isTrue();
            assertThat(h.counters.get(Counter.DELTAS_RESENT_WHOLE)).isEqualTo(1);
            assertThat(waiter.future()).isNotDone();

            ackFromPeer(h, Ack.newBuilder().setDeliveredThrough(3).setAppliedThrough(3));
            SyncWaiter.Result r = waiter.future().get(5, TimeUnit.SECONDS);
            assertThat(r.acks()).isEqualTo(1);
            assertThat(r.timedOut()).isFalse();
        }
    }

    @Test
    void sequencesGivenUpHoldTheAcknowledgementBackUntilAPullFromTheSenderBroughtWhatTheyCarried()
            throws Exception {
        Server senderPeerService = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new PeerServiceImpl(new SessionTable(Limits.unlimited(), System::currentTimeMillis, 0,
                        600_000), new Counters(), "c")).build().start();
        try (ReplicatorHarness h = new ReplicatorHarness(3000).startAlone()) {
            h.heartbeat(PEER, ReplicatorHarness.NOWHERE, 0, 1, 0);
            h.data(PEER, 1, delta("a", PEER, 0, 1).build());
            Eventually.await(Duration.ofSeconds(5), () -> lastAckTo(h, PEER) != null
                    && lastAckTo(h, PEER).getAppliedThrough() == 1, () -> "sequence 1 applied");

            // Sequence 2 left the sender's buffer before it arrived here; its PeerService is unreachable.
            h.heartbeat(PEER, ReplicatorHarness.NOWHERE, 3, 3, 0);
            h.data(PEER, 3, delta("c", PEER, 0, 1).build());
            Eventually.await(Duration.ofSeconds(5), () -> lastAckTo(h, PEER).getDeliveredThrough() == 3,
                    () -> "sequence 3 delivered");
            assertThat(lastAckTo(h, PEER).getAppliedThrough()).isEqualTo(1);
            assertThat(h.counters.get(Counter.GAPS_UNRECOVERABLE)).isEqualTo(1);

            // Its PeerService answers again: the pull retried covers what sequence 2 carried.
            long runs = h.counters.get(Counter.ANTI_ENTROPY_RUNS);
            h.heartbeat(PEER, "127.0.0.1:" + senderPeerService.getPort(), 3, 3, 0);
            Eventually.await(Duration.ofSeconds(2), () -> lastAckTo(h, PEER).getAppliedThrough() == 3,
                    () -> "applied through 3 after the pull: " + lastAckTo(h, PEER));
            assertThat(h.counters.get(Counter.ANTI_ENTROPY_RUNS)).isGreaterThan(runs);
        } finally {
            senderPeerService.shutdownNow();
        }
    }

    @Test
    void deltasKeptWhileJoiningThatCannotBeAppliedHoldTheAcknowledgementBackOnceReady() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(3000, 1000)) {
            h.replicator.start();
            // A ready member whose state transfer fails; meanwhile its stream is only kept here.
            h.heartbeat(PEER, 0);
            h.data(PEER, 1, delta("s", PEER, 1, 2).addSet(attr("a", "2")).build());
            Eventually.await(Duration.ofSeconds(5), () -> lastDigestOf(h, PEER) != null
                    && lastDigestOf(h, PEER).getDeliveredThrough() == 1, () -> "a digest of sequence 1");
            assertThat(h.replicator.ready()).isNotDone();
            assertThat(lastDigestOf(h, PEER).getAppliedThrough()).isZero();

            h.replicator.ready().get(10, TimeUnit.SECONDS);
            Eventually.await(Duration.ofSeconds(5), () -> lastAckTo(h, PEER) != null,
                    () -> "an ACK once ready");
            assertThat(lastAckTo(h, PEER).getUnappliedList()).containsExactly("s");
            assertThat(lastAckTo(h, PEER).getAppliedThrough()).isZero();
            int heartbeats = h.sent(FrameType.HEARTBEAT).size();
            Eventually.await(Duration.ofSeconds(5), () -> h.sent(FrameType.HEARTBEAT).size() > heartbeats,
                    () -> "a heartbeat once ready");
            assertThat(lastDigestOf(h, PEER).getAppliedThrough()).isZero();
            assertThat(h.table.get("s")).isEmpty();
        }
    }

    private static ReceiveDigest lastDigestOf(ReplicatorHarness h, long member) {
        ReceiveDigest last = null;
        for (Frame f : h.sent(FrameType.HEARTBEAT)) {
            try {
                for (ReceiveDigest d : Heartbeat.parseFrom(f.body()).getReceivedList()) {
                    if (d.getMemberId() == member) {
                        last = d;
                    }
                }
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }
        return last;
    }

    private static void ackFromPeer(ReplicatorHarness h, Ack.Builder ack) {
        h.replicator.datagram(h.codec.encode(FrameType.ACK, PEER, 1, ack.setTargetMember(SELF)
                .setTargetIncarnation(1).build().toByteArray()));
    }
}
