package io.sessionagent.agent.replication;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.agent.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Multicasts this member's unsequenced control frames (heartbeat, NAK, GONE, ACK), one datagram
 * each. Confined to the protocol thread.
 */
final class ControlSender {
    private static final Logger log = LoggerFactory.getLogger(ControlSender.class);

    private final FrameCodec codec;
    private final Transport transport;
    private final long selfId;
    private final long incarnation;
    private final Counters counters;

    ControlSender(FrameCodec codec, Transport transport, long selfId, long incarnation, Counters counters) {
        this.codec = codec;
        this.transport = transport;
        this.selfId = selfId;
        this.incarnation = incarnation;
        this.counters = counters;
    }

    /** The most a control frame's body may take. */
    int maxBodyBytes() {
        return codec.maxBodyBytes();
    }

    void send(FrameType type, byte[] body) {
        if (body.length > codec.maxBodyBytes()) {
            // Callers size their bodies to fit; this guards the protocol thread against a bug there.
            log.error("{} of {} bytes does not fit max-datagram-bytes; not sent", type, body.length);
            return;
        }
        transport.send(codec.encode(type, selfId, incarnation, body));
        counters.increment(Counter.FRAMES_SENT);
    }
}
