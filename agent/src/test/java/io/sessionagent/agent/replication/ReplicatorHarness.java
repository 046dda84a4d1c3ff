package io.sessionagent.agent.replication;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.metrics.Histograms;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.transport.Frame;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameException;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.agent.transport.Transport;
import io.sessionagent.proto.v1.DataBatch;
import io.sessionagent.proto.v1.DataEntry;
import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.MemberState;
import io.sessionagent.proto.v1.ReplicatedDelta;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One agent's replication protocol on its own thread, talking to a transport the test plays the
 * other members on: the test hands it datagrams as a peer would send them and reads what it sent.
 */
final class ReplicatorHarness implements AutoCloseable {
    static final long SELF = 1;
    /** An address where no PeerService listens: every peer call fails at once. */
    static final String NOWHERE = "127.0.0.1:1";

    final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
    final ExecutorService peerIo = Executors.newSingleThreadExecutor();
    final Counters counters = new Counters();
    final FrameCodec codec = new FrameCodec(7, 1400);
    final SessionTable table = new SessionTable(Limits.unlimited(), System::currentTimeMillis, 0, 600_000,
            Long.MAX_VALUE, counters);
    /** Every frame the agent sent, in order. */
    final List<Frame> sent = new CopyOnWriteArrayList<>();
    /** Hand-offs of data to refuse, each with an exception, before sending again. */
    final AtomicInteger failingHandOffs = new AtomicInteger();
    final Replicator replicator;

    ReplicatorHarness(long failureTimeoutMs) {
        this(failureTimeoutMs, 50);
    }

    /** @param joinWaitMs how long the agent, once started, waits for a state transfer before it starts alone */
    ReplicatorHarness(long failureTimeoutMs, long joinWaitMs) {
        Transport recording = new Transport() {
            @Override
            public void start(Receiver receiver) {
            }

            @Override
            public void send(byte[] datagram) {
                try {
                    sent.add(codec.decode(datagram));
                } catch (FrameException e) {
                    throw new AssertionError(e);
                }
            }

            @Override
            public void sendAll(List<byte[]> datagrams) {
                if (failingHandOffs.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    throw new IllegalStateException("the socket refused the datagrams");
                }
                Transport.super.sendAll(datagrams);
            }

            @Override
            public void close() {
            }
        };
        replicator = new Replicator(TestSettings.replication(SELF, NOWHERE, "heartbeat-interval", "100ms",
                "failure-timeout", failureTimeoutMs + "ms", "join-wait", joinWaitMs + "ms",
                "state-transfer-timeout", "10s"), codec, recording, table,
                new PeerClients("c", SELF, 1 << 20, null), counters, new Histograms(new SimpleMeterRegistry()),
                System::currentTimeMillis, loop, peerIo);
    }

    /** Starts the agent alone, so that it is READY before any peer appears. */
    ReplicatorHarness startAlone() throws Exception {
        replicator.start();
        replicator.ready().get(10, TimeUnit.SECONDS);
        return this;
    }

    /** A READY peer whose PeerService cannot be reached. */
    void heartbeat(long member, long highestSent) {
        heartbeat(member, NOWHERE, highestSent, 0);
    }

    /** A READY peer with its PeerService at {@code peerAddress} and a table of that hash. */
    void heartbeat(long member, String peerAddress, long highestSent, long tableHash) {
        heartbeat(member, peerAddress, highestSent, 1, tableHash);
    }

    /** As above, with the lowest sequence the peer can still retransmit. */
    void heartbeat(long member, String peerAddress, long highestSent, long lowestRetained, long tableHash) {
        replicator.datagram(codec.encode(FrameType.HEARTBEAT, member, 1, Heartbeat.newBuilder()
                .setNodeName("peer-" + member).setPeerAddress(peerAddress).setState(MemberState.MEMBER_STATE_READY)
                .setReplicationEnabled(true).setHighestSent(highestSent).setLowestRetained(lowestRetained)
                .setTableHash(tableHash).build().toByteArray()));
    }

    void data(long member, long sequence, ReplicatedDelta... deltas) {
        DataBatch.Builder b = DataBatch.newBuilder().setAckRequested(true);
        for (ReplicatedDelta d : deltas) {
            b.addEntries(DataEntry.newBuilder().setDelta(d));
        }
        byte[] body = b.build().toByteArray();
        replicator.datagram(codec.encode(FrameType.DATA, member, 1, sequence, 0, 1, body, 0, body.length));
    }

    static ReplicatedDelta.Builder delta(String id, long writer, long base, long version) {
        long now = System.currentTimeMillis();
        return ReplicatedDelta.newBuilder().setId(id).setWriter(writer).setBaseVersion(base)
                .setBaseWriter(base == 0 ? 0 : writer).setNewVersion(version).setCreationTimeMs(now)
                .setAccessTimeMs(now).setMaxInactiveSeconds(600).setWrittenAtMs(now);
    }

    List<Frame> sent(FrameType type) {
        return sent.stream().filter(f -> f.type() == type).toList();
    }

    @Override
    public void close() throws InterruptedException {
        replicator.close();
        loop.shutdownNow();
        peerIo.shutdownNow();
        loop.awaitTermination(5, TimeUnit.SECONDS);
    }
}
