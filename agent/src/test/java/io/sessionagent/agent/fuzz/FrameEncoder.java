package io.sessionagent.agent.fuzz;

import io.sessionagent.agent.auth.ClusterKeys;
import io.sessionagent.agent.auth.FrameSealer;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameType;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How the fuzzers make a valid frame before they break it. Generators only ever go through this
 * interface, so a keyed encoder (frames with an authentication tag) can take the codec's place
 * without touching them.
 */
public interface FrameEncoder {
    byte[] encode(FrameType type, long memberId, long incarnation, long sequence, int fragmentIndex,
                  int fragmentCount, byte[] body);

    /** Largest body one datagram carries. */
    int maxBodyBytes();

    /** Encoders for a cluster id and a datagram size: the codec's own, or a keyed one. */
    @FunctionalInterface
    interface Factory {
        FrameEncoder create(long clusterId, int maxDatagramBytes);
    }

    /** Plain frames as {@link FrameCodec} writes them. */
    static FrameEncoder codec(long clusterId, int maxDatagramBytes) {
        return of(new FrameCodec(clusterId, maxDatagramBytes));
    }

    /** Frames sealed with these keys, as an agent holding them writes them (one salt per encoder). */
    static Factory sealedWith(ClusterKeys keys) {
        AtomicLong salts = new AtomicLong(0x5eed);
        return (clusterId, maxDatagramBytes) -> of(new FrameCodec(clusterId, maxDatagramBytes,
                new FrameSealer(keys, salts.incrementAndGet())));
    }

    private static FrameEncoder of(FrameCodec codec) {
        return new FrameEncoder() {
            @Override
            public byte[] encode(FrameType type, long memberId, long incarnation, long sequence, int fragmentIndex,
                                 int fragmentCount, byte[] body) {
                return codec.encode(type, memberId, incarnation, sequence, fragmentIndex, fragmentCount, body, 0,
                        body.length);
            }

            @Override
            public int maxBodyBytes() {
                return codec.maxBodyBytes();
            }
        };
    }
}
