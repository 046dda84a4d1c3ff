package io.sessionagent.agent.replication;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.metrics.Histograms;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.agent.transport.Transport;
import io.sessionagent.proto.v1.DataBatch;
import io.sessionagent.proto.v1.DataEntry;
import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.MemberState;
import io.sessionagent.proto.v1.ReplicatedDelta;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Data from a member id that never sent a heartbeat opens no receive stream: forged ids would
 * otherwise each leave a window behind for good, and could write into the table.
 */
class UnknownSenderTest {
    private static final long SELF = 1;
    private static final long PEER = 2;

    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService peerIo = Executors.newSingleThreadExecutor();
    private final Counters counters = new Counters();
    private final FrameCodec codec = new FrameCodec(7, 1400);
    private final SessionTable table = new SessionTable(Limits.unlimited(), System::currentTimeMillis, 0, 1000);
    private final Replicator replicator = new Replicator(
            TestSettings.replication(SELF, "127.0.0.1:1", "join-wait", "50ms", "state-transfer-timeout", "1s"),
            codec, new Transport() {
                @Override
                public void start(Receiver receiver) {
                }

                @Override
                public void send(byte[] datagram) {
                }

                @Override
                public void close() {
                }
            }, table, new PeerClients("c", SELF, 1 << 20, null), counters, new Histograms(new SimpleMeterRegistry()),
            System::currentTimeMillis, loop, peerIo);

    @AfterEach
    void stop() throws InterruptedException {
        replicator.close();
        loop.shutdownNow();
        peerIo.shutdownNow();
        loop.awaitTermination(5, TimeUnit.SECONDS);
    }

    private byte[] data(long member, long sequence, String sessionId) {
        ReplicatedDelta d = ReplicatedDelta.newBuilder().setId(sessionId).setBaseVersion(0).setNewVersion(1)
                .setWriter(member).setAccessTimeMs(System.currentTimeMillis()).setMaxInactiveSeconds(600).build();
        byte[] body = DataBatch.newBuilder().addEntries(DataEntry.newBuilder().setDelta(d)).build().toByteArray();
        return codec.encode(FrameType.DATA, member, 1, sequence, 0, 1, body, 0, body.length);
    }

    @Test
    void dataFromMembersOutsideTheViewIsDroppedAndCountedUntilTheirHeartbeat() throws Exception {
        replicator.start();
        replicator.ready().get(10, TimeUnit.SECONDS);
        Random random = new Random(3);
        for (int i = 0; i < 10_000; i++) {
            replicator.datagram(data(random.nextLong() | 4, 1 + random.nextInt(1000), "forged" + i));
        }
        replicator.datagram(data(PEER, 1, "early"));
        Eventually.await(Duration.ofSeconds(10), () -> counters.get(Counter.FRAMES_DROPPED_UNKNOWN_MEMBER) == 10_001,
                () -> "drops counted: " + counters.snapshotByName());
        assertThat(table.liveCount()).isZero();

        replicator.datagram(codec.encode(FrameType.HEARTBEAT, PEER, 1, Heartbeat.newBuilder().setNodeName("peer")
                .setPeerAddress("127.0.0.1:1").setState(MemberState.MEMBER_STATE_READY).build().toByteArray()));
        replicator.datagram(data(PEER, 1, "afterHeartbeat"));
        Eventually.await(Duration.ofSeconds(10), () -> table.get("afterHeartbeat").isPresent(),
                () -> "data of a member in the view applied: " + counters.snapshotByName());
        assertThat(counters.get(Counter.FRAMES_DROPPED_UNKNOWN_MEMBER)).isEqualTo(10_001);
        assertThat(table.get("early")).isEmpty();
    }
}
