package io.sessionagent.agent.replication;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.metrics.Histograms;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.agent.transport.Transport;
import io.sessionagent.proto.v1.Heartbeat;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A flood of valid datagrams cannot queue without bound behind a busy protocol thread. */
class InboundOverloadTest {
    @Test
    void datagramsBeyondTheQueueLimitAreDroppedAndCounted() throws Exception {
        ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
        ExecutorService peerIo = Executors.newSingleThreadExecutor();
        Counters counters = new Counters();
        FrameCodec codec = new FrameCodec(1, 1400);
        Transport silent = new Transport() {
            @Override
            public void start(Receiver receiver) {
            }

            @Override
            public void send(byte[] datagram) {
            }

            @Override
            public void close() {
            }
        };
        ReplicationSettings settings = TestSettings.replication(1, "127.0.0.1:1", "node-name", "n", "join-wait", "100ms",
                "state-transfer-timeout", "1s");
        Replicator r = new Replicator(settings, codec, silent, new SessionTable(Limits.unlimited(),
                System::currentTimeMillis, 0, 1000), new PeerClients("c", 1, 1 << 20, null), counters,
                new Histograms(new SimpleMeterRegistry()), System::currentTimeMillis, loop, peerIo);
        CountDownLatch release = new CountDownLatch(1);
        loop.execute(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        byte[] hb = codec.encode(FrameType.HEARTBEAT, 2, 1, Heartbeat.newBuilder().setNodeName("other").build()
                .toByteArray());
        for (int i = 0; i < 60_000; i++) {
            r.datagram(hb);
        }
        assertThat(counters.get(Counter.FRAMES_DROPPED_OVERLOAD)).isEqualTo(10_000);
        release.countDown();
        loop.shutdown();
        assertThat(loop.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(counters.get(Counter.FRAMES_RECEIVED)).isEqualTo(50_000);
        peerIo.shutdownNow();
    }

    @Test
    void ownDatagramsLoopedBackNeverReachTheQueue() throws Exception {
        ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
        ExecutorService peerIo = Executors.newSingleThreadExecutor();
        Counters counters = new Counters();
        FrameCodec codec = new FrameCodec(1, 1400);
        Transport silent = new Transport() {
            @Override
            public void start(Receiver receiver) {
            }

            @Override
            public void send(byte[] datagram) {
            }

            @Override
            public void close() {
            }
        };
        // Member id 1, incarnation 1: this agent.
        ReplicationSettings settings = TestSettings.replication(1, "127.0.0.1:1", "node-name", "n", "join-wait", "100ms",
                "state-transfer-timeout", "1s");
        Replicator r = new Replicator(settings, codec, silent, new SessionTable(Limits.unlimited(),
                System::currentTimeMillis, 0, 1000), new PeerClients("c", 1, 1 << 20, null), counters,
                new Histograms(new SimpleMeterRegistry()), System::currentTimeMillis, loop, peerIo);
        CountDownLatch release = new CountDownLatch(1);
        loop.execute(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        byte[] own = codec.encode(FrameType.HEARTBEAT, 1, 1, Heartbeat.newBuilder().setNodeName("n").build()
                .toByteArray());
        byte[] restartedTwin = codec.encode(FrameType.HEARTBEAT, 1, 2, Heartbeat.newBuilder().setNodeName("n")
                .build().toByteArray());
        for (int i = 0; i < 60_000; i++) {
            r.datagram(own);
        }
        r.datagram(restartedTwin);

        // None queued, so none overflowed; the same id with another incarnation still reaches the
        // protocol thread, which reports the duplicate node name.
        assertThat(counters.get(Counter.FRAMES_DROPPED_OVERLOAD)).isZero();
        release.countDown();
        loop.shutdown();
        assertThat(loop.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(counters.get(Counter.FRAMES_DROPPED_DUPLICATE_MEMBER)).isEqualTo(1);
        assertThat(counters.get(Counter.FRAMES_RECEIVED)).isZero();
        peerIo.shutdownNow();
    }
}
