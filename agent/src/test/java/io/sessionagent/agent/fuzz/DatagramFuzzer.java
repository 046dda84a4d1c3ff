package io.sessionagent.agent.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.proto.v1.Access;
import io.sessionagent.proto.v1.Ack;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.DataBatch;
import io.sessionagent.proto.v1.DataEntry;
import io.sessionagent.proto.v1.Gone;
import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.MemberState;
import io.sessionagent.proto.v1.Nak;
import io.sessionagent.proto.v1.ReceiveDigest;
import io.sessionagent.proto.v1.ReplicatedDelta;
import io.sessionagent.proto.v1.SeqRange;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Makes hostile datagrams of one {@link Kind} at a time: valid frames from the
 * {@link FrameEncoder} (so a keyed encoder can replace the codec), then broken in one way each.
 * Frames that must get past the codec carry member ids no real agent has, and bodies that are
 * checked not to parse, so that none of them can join the view or write to the table: that is
 * what an authentication key is for, not the decoder.
 */
public final class DatagramFuzzer {
    /** Largest UDP payload over IPv4. */
    public static final int MAX_UDP_PAYLOAD = 65_507;

    /** The ways a datagram is broken; each has the drop reasons it may end under. */
    public enum Kind {
        RANDOM_BYTES,
        TRUNCATED,
        OVERSIZED,
        FOREIGN_CLUSTER,
        WRONG_VERSION,
        BIT_FLIPS,
        CORRUPT_BODY,
        REPLAY,
        /**
         * Well-formed frames with bodies that parse, under the member id and incarnation of a real
         * agent heard on the group: a forged heartbeat, leave, data batch, NAK, GONE or ACK. Only
         * a cluster key stops them, so they are sent only to agents that hold one (and sealed by
         * the fuzzer with a key the agents do not hold).
         */
        FORGED
    }

    private static final FrameType[] PARSED_TYPES = {FrameType.HEARTBEAT, FrameType.DATA, FrameType.NAK,
            FrameType.GONE, FrameType.ACK};

    private final Random random;
    private final long clusterId;
    private final int maxDatagramBytes;
    private final FrameEncoder ours;
    private final FrameEncoder oursUnbounded;
    private final FrameEncoder.Factory encoders;
    private final List<byte[]> captured;

    /**
     * @param captured valid datagrams heard from real agents, resent as they are by {@link Kind#REPLAY}
     */
    public DatagramFuzzer(long seed, long clusterId, int maxDatagramBytes, FrameEncoder.Factory encoders,
                          List<byte[]> captured) {
        this.random = new Random(seed);
        this.clusterId = clusterId;
        this.maxDatagramBytes = maxDatagramBytes;
        this.encoders = encoders;
        this.ours = encoders.create(clusterId, maxDatagramBytes);
        this.oursUnbounded = encoders.create(clusterId, MAX_UDP_PAYLOAD);
        this.captured = List.copyOf(captured);
    }

    public byte[] next(Kind kind) {
        return switch (kind) {
            case RANDOM_BYTES -> randomBytes();
            case TRUNCATED -> truncated();
            case OVERSIZED -> oversized();
            case FOREIGN_CLUSTER -> foreignCluster();
            case WRONG_VERSION -> wrongVersion();
            case BIT_FLIPS -> bitFlips();
            case CORRUPT_BODY -> corruptBody();
            case REPLAY -> captured.get(random.nextInt(captured.size()));
            case FORGED -> forged();
        };
    }

    // ------------------------------------------------------------------ kinds

    private byte[] randomBytes() {
        byte[] b = new byte[random.nextInt(maxDatagramBytes + 1)];
        random.nextBytes(b);
        if (b.length >= FrameCodec.HEADER_BYTES && random.nextInt(4) == 0) {
            // Get past the first checks now and then, so that the later ones see random input too.
            ByteBuffer h = ByteBuffer.wrap(b);
            h.putShort((short) FrameCodec.MAGIC).put((byte) FrameCodec.VERSION);
            if (random.nextBoolean()) {
                h.put((byte) (1 + random.nextInt(6))).putShort((short) 0).putLong(clusterId);
            }
        }
        return b;
    }

    private byte[] truncated() {
        byte[] f = validFrame(ours, fakeMember());
        return Arrays.copyOf(f, random.nextInt(f.length));
    }

    private byte[] oversized() {
        int size = random.nextInt(50) == 0 ? maxDatagramBytes + 1 + random.nextInt(MAX_UDP_PAYLOAD - maxDatagramBytes)
                : maxDatagramBytes + 1 + random.nextInt(4 * maxDatagramBytes);
        if (random.nextBoolean()) {
            byte[] junk = new byte[size];
            random.nextBytes(junk);
            return junk;
        }
        // A well-formed frame in every other respect, as a sender with a larger max-datagram-bytes writes it.
        byte[] body = new byte[Math.min(size, oursUnbounded.maxBodyBytes())];
        random.nextBytes(body);
        return oursUnbounded.encode(FrameType.DATA, fakeMember(), 1, 1 + random.nextInt(1000), 0, 1, body);
    }

    private byte[] foreignCluster() {
        long other = random.nextLong();
        if (other == clusterId) {
            other++;
        }
        return validFrame(encoders.create(other, maxDatagramBytes), fakeMember());
    }

    private byte[] wrongVersion() {
        byte[] f = validFrame(ours, fakeMember());
        int version = random.nextInt(255);
        f[2] = (byte) (version >= FrameCodec.VERSION ? version + 1 : version);
        return f;
    }

    private byte[] bitFlips() {
        byte[] f = validFrame(ours, fakeMember());
        // Up to 5 flips: CRC32C detects every pattern of that weight in frames of this size.
        // Distinct bits: flipping one bit twice would give back the valid frame.
        int flips = 1 + random.nextInt(5);
        random.ints(0, f.length * 8).distinct().limit(flips).forEach(bit -> f[bit / 8] ^= (byte) (1 << (bit % 8)));
        return f;
    }

    private byte[] corruptBody() {
        FrameType type = PARSED_TYPES[random.nextInt(PARSED_TYPES.length)];
        byte[] body = body(type);
        for (int attempt = 0; parses(type, body); attempt++) {
            body = attempt < 8 ? ByteMutator.mutate(random, body(type)) : new byte[] {0x0f};
            if (body.length > ours.maxBodyBytes()) {
                body = Arrays.copyOf(body, ours.maxBodyBytes());
            }
        }
        long sequence = type == FrameType.DATA ? 1 + random.nextInt(1_000_000) : 0;
        return ours.encode(type, fakeMember(), 1 + random.nextInt(1000), sequence, 0, 1, body);
    }

    private byte[] forged() {
        ByteBuffer real = ByteBuffer.wrap(captured.get(random.nextInt(captured.size())));
        long member = real.getLong(14);
        long incarnation = real.getLong(22);
        FrameType type = FrameType.values()[random.nextInt(FrameType.values().length)];
        // Bodies stay far below a datagram (at most three 200-byte values), so none is cut and all parse.
        byte[] body = type == FrameType.LEAVE ? new byte[0] : body(type);
        long sequence = type == FrameType.DATA ? 1 + random.nextInt(1_000_000) : 0;
        return ours.encode(type, member, incarnation, sequence, 0, 1, body);
    }

    // ------------------------------------------------------------------ building blocks

    /** Member ids no real agent has: real ones are hashes of node names, these have the top bits clear. */
    private long fakeMember() {
        return (random.nextLong() >>> 16) | 1;
    }

    private byte[] validFrame(FrameEncoder encoder, long member) {
        FrameType type = FrameType.values()[random.nextInt(FrameType.values().length)];
        byte[] body = type == FrameType.LEAVE ? new byte[0] : body(type);
        if (body.length > encoder.maxBodyBytes()) {
            body = Arrays.copyOf(body, encoder.maxBodyBytes());
        }
        if (type == FrameType.DATA) {
            int count = 1 + (random.nextInt(4) == 0 ? random.nextInt(20) : 0);
            return encoder.encode(type, member, 1 + random.nextInt(1000), 1 + random.nextInt(1_000_000),
                    random.nextInt(count), count, body);
        }
        return encoder.encode(type, member, 1 + random.nextInt(1000), 0, 0, 1, body);
    }

    private byte[] body(FrameType type) {
        return switch (type) {
            case HEARTBEAT -> Heartbeat.newBuilder().setNodeName("fuzz-" + random.nextInt(100))
                    .setPeerAddress("127.0.0.1:" + (1 + random.nextInt(65_000)))
                    .setState(MemberState.MEMBER_STATE_READY).setHighestSent(random.nextInt(1_000_000))
                    .setLowestRetained(random.nextInt(1000)).setSessionCount(random.nextInt(1000))
                    .setTableHash(random.nextLong()).setReplicationEnabled(true)
                    .addReceived(ReceiveDigest.newBuilder().setMemberId(random.nextLong()).setIncarnation(1)
                            .setDeliveredThrough(random.nextInt(1000)))
                    .build().toByteArray();
            case DATA -> dataBatch();
            case NAK -> Nak.newBuilder().setTargetMember(random.nextLong()).setTargetIncarnation(1)
                    .addMissing(SeqRange.newBuilder().setFrom(1).setTo(1 + random.nextInt(100_000)))
                    .build().toByteArray();
            case GONE -> Gone.newBuilder().setRequester(random.nextLong()).setLowestRetained(random.nextInt(1000))
                    .build().toByteArray();
            case ACK -> Ack.newBuilder().setTargetMember(random.nextLong()).setTargetIncarnation(1)
                    .setDeliveredThrough(random.nextInt(1000)).build().toByteArray();
            case LEAVE -> new byte[0];
        };
    }

    private byte[] dataBatch() {
        DataBatch.Builder b = DataBatch.newBuilder();
        int entries = 1 + random.nextInt(3);
        for (int i = 0; i < entries; i++) {
            String id = "fuzzSession" + random.nextInt(10_000);
            if (random.nextInt(4) == 0) {
                b.addEntries(DataEntry.newBuilder().setTouch(Access.newBuilder().setId(id)
                        .setAccessTimeMs(System.currentTimeMillis())));
            } else {
                byte[] value = new byte[random.nextInt(200)];
                random.nextBytes(value);
                long base = random.nextInt(10);
                b.addEntries(DataEntry.newBuilder().setDelta(ReplicatedDelta.newBuilder().setId(id)
                        .setBaseVersion(base).setNewVersion(base + 1).setWriter(random.nextLong())
                        .setAccessTimeMs(System.currentTimeMillis()).setMaxInactiveSeconds(1800)
                        .addSet(Attribute.newBuilder().setName("a" + random.nextInt(5))
                                .setValue(ByteString.copyFrom(value)))));
            }
        }
        return b.build().toByteArray();
    }

    private static boolean parses(FrameType type, byte[] body) {
        try {
            switch (type) {
                case HEARTBEAT -> Heartbeat.parseFrom(body);
                case DATA -> DataBatch.parseFrom(body);
                case NAK -> Nak.parseFrom(body);
                case GONE -> Gone.parseFrom(body);
                case ACK -> Ack.parseFrom(body);
                default -> {
                    return true;
                }
            }
            return true;
        } catch (InvalidProtocolBufferException e) {
            return false;
        }
    }
}
