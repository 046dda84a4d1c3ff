package io.sessionagent.agent.replication;

import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.ReceiveDigest;

import java.util.List;

/**
 * This member's heartbeat: its state and table for the view, the extent of its own stream, and
 * what it has delivered of the others' streams. Confined to the protocol thread.
 */
final class Heartbeats {
    private final ReplicationSettings s;
    private final ControlSender control;
    private final LocalMember local;
    private final SendStream send;
    private final ReceiveStreams receive;
    private final SessionTable table;
    private long lastSentMs;
    private int rotation;

    Heartbeats(ReplicationSettings settings, ControlSender control, LocalMember local, SendStream send,
               ReceiveStreams receive, SessionTable table) {
        this.s = settings;
        this.control = control;
        this.local = local;
        this.send = send;
        this.receive = receive;
        this.table = table;
    }

    boolean due(long now) {
        return now - lastSentMs >= s.heartbeatIntervalMs();
    }

    void send(long now) {
        Heartbeat.Builder hb = Heartbeat.newBuilder()
                .setNodeName(s.nodeName())
                .setPeerAddress(s.peerAddress())
                .setState(local.state())
                .setHighestSent(send.highestSent())
                .setLowestRetained(send.lowestRetained())
                .setSessionCount(table.liveCount())
                .setTableHash(table.tableHash())
                .setReplicationEnabled(local.replicationEnabled());
        // In a cluster too large for every digest to fit one datagram, successive heartbeats carry
        // successive slices, so each sender still hears from every receiver.
        List<ReceiveDigest> all = receive.digests();
        int budget = control.maxBodyBytes() - hb.build().getSerializedSize();
        for (int i = 0; i < all.size(); i++) {
            ReceiveDigest d = all.get((rotation + i) % all.size());
            budget -= d.getSerializedSize() + 2;
            if (budget < 0) {
                rotation += i;
                break;
            }
            hb.addReceived(d);
        }
        control.send(FrameType.HEARTBEAT, hb.build().toByteArray());
        lastSentMs = now;
    }
}
