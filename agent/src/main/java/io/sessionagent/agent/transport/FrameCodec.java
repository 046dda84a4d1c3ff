package io.sessionagent.agent.transport;

import io.sessionagent.agent.auth.AuthFailure;
import io.sessionagent.agent.auth.FrameSealer;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Encodes and decodes the fixed binary header that starts every datagram (layout in
 * docs/wire-format.md). It checks everything a receiver must check before trusting the body,
 * so a hostile or foreign datagram is refused here with a reason and never reaches the protocol.
 * With a cluster key every datagram is sealed (AES-GCM, see {@link FrameSealer}) and a datagram
 * that is not, or does not authenticate, is refused too.
 */
public final class FrameCodec {
    public static final int MAGIC = 0x5341;
    public static final int VERSION = 1;
    public static final int HEADER_BYTES = 48;
    /** Where the CRC sits; it covers every byte before it and the body after the header. */
    private static final int CRC_OFFSET = 44;
    /** Flags bit: the body is sealed; the other bits are reserved and must be zero. */
    public static final int FLAG_SEALED = 1;

    private final long clusterId;
    private final int maxDatagramBytes;
    private final FrameSealer sealer;

    /** A codec without a cluster key: frames travel in clear, and sealed frames are refused. */
    public FrameCodec(long clusterId, int maxDatagramBytes) {
        this(clusterId, maxDatagramBytes, null);
    }

    /** @param sealer the cluster key's sealer, or null for frames in clear */
    public FrameCodec(long clusterId, int maxDatagramBytes, FrameSealer sealer) {
        int overhead = sealer == null ? 0 : FrameSealer.OVERHEAD;
        if (maxDatagramBytes <= HEADER_BYTES + overhead) {
            throw new IllegalArgumentException("max datagram " + maxDatagramBytes + " leaves no room for a body");
        }
        this.clusterId = clusterId;
        this.maxDatagramBytes = maxDatagramBytes;
        this.sealer = sealer;
    }

    /** Largest body that fits one datagram. */
    public int maxBodyBytes() {
        return maxDatagramBytes - HEADER_BYTES - (sealer == null ? 0 : FrameSealer.OVERHEAD);
    }

    /** Writes a frame's body of a known length into the datagram being encoded. */
    public interface BodyWriter {
        /** Writes exactly the announced length at {@code offset} of {@code out}. */
        void writeTo(byte[] out, int offset);
    }

    public byte[] encode(FrameType type, long memberId, long incarnation, long sequence, int fragmentIndex,
                         int fragmentCount, byte[] body, int offset, int length) {
        return encode(type, memberId, incarnation, sequence, fragmentIndex, fragmentCount, length,
                (out, at) -> System.arraycopy(body, offset, out, at, length));
    }

    /**
     * Encodes a frame whose body the writer puts straight into the datagram: a body built for this
     * frame alone is not copied once more (with a cluster key it is, to be sealed).
     */
    public byte[] encode(FrameType type, long memberId, long incarnation, long sequence, int fragmentIndex,
                         int fragmentCount, int length, BodyWriter body) {
        if (length > maxBodyBytes()) {
            throw new IllegalArgumentException("body of " + length + " bytes exceeds " + maxBodyBytes());
        }
        int carried = sealer == null ? length : FrameSealer.OVERHEAD + length;
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + carried);
        b.putShort((short) MAGIC);
        b.put((byte) VERSION);
        b.put((byte) type.code);
        b.putShort((short) (sealer == null ? 0 : FLAG_SEALED));
        b.putLong(clusterId);
        b.putLong(memberId);
        b.putLong(incarnation);
        b.putLong(sequence);
        b.putShort((short) fragmentIndex);
        b.putShort((short) fragmentCount);
        b.putShort((short) carried);
        b.putInt(0);
        byte[] out = b.array();
        if (sealer == null) {
            body.writeTo(out, HEADER_BYTES);
        } else {
            byte[] plain = new byte[length];
            body.writeTo(plain, 0);
            sealer.seal(out, HEADER_BYTES, memberId, incarnation, type != FrameType.DATA, plain, 0, length);
        }
        ByteBuffer.wrap(out).putInt(CRC_OFFSET, crc(out));
        return out;
    }

    public byte[] encode(FrameType type, long memberId, long incarnation, byte[] body) {
        return encode(type, memberId, incarnation, 0, 0, 1, body, 0, body.length);
    }

    /** CRC32C of the datagram with the CRC field itself skipped. */
    private static int crc(byte[] datagram) {
        CRC32C c = new CRC32C();
        c.update(datagram, 0, CRC_OFFSET);
        c.update(datagram, HEADER_BYTES, datagram.length - HEADER_BYTES);
        return (int) c.getValue();
    }

    public Frame decode(byte[] datagram) throws FrameException {
        if (datagram.length > maxDatagramBytes) {
            throw new FrameException(DropReason.OVERSIZED,
                    datagram.length + " bytes exceed max-datagram-bytes " + maxDatagramBytes);
        }
        if (datagram.length < HEADER_BYTES) {
            throw new FrameException(DropReason.MALFORMED, "only " + datagram.length + " bytes, header needs "
                    + HEADER_BYTES);
        }
        ByteBuffer b = ByteBuffer.wrap(datagram);
        int magic = b.getShort() & 0xffff;
        if (magic != MAGIC) {
            throw new FrameException(DropReason.MALFORMED, "bad magic 0x" + Integer.toHexString(magic));
        }
        int version = b.get() & 0xff;
        if (version != VERSION) {
            throw new FrameException(DropReason.VERSION, "protocol version " + version + ", this agent speaks "
                    + VERSION);
        }
        int typeCode = b.get() & 0xff;
        int flags = b.getShort() & 0xffff;
        long cluster = b.getLong();
        if (cluster != clusterId) {
            throw new FrameException(DropReason.FOREIGN_CLUSTER, "cluster id " + Long.toHexString(cluster));
        }
        FrameType type = FrameType.of(typeCode);
        if (type == null) {
            throw new FrameException(DropReason.MALFORMED, "unknown message type " + typeCode);
        }
        if ((flags & ~FLAG_SEALED) != 0) {
            throw new FrameException(DropReason.MALFORMED, "unsupported flags 0x" + Integer.toHexString(flags));
        }
        boolean sealed = flags == FLAG_SEALED;
        if (sealed != (sealer != null)) {
            throw new FrameException(DropReason.AUTH, sealed
                    ? "sealed frame, but this agent has no cluster key"
                    : "frame in clear refused: this agent requires the cluster key");
        }
        long member = b.getLong();
        long incarnation = b.getLong();
        long sequence = b.getLong();
        int fragmentIndex = b.getShort() & 0xffff;
        int fragmentCount = b.getShort() & 0xffff;
        int bodyLength = b.getShort() & 0xffff;
        if (bodyLength != datagram.length - HEADER_BYTES) {
            throw new FrameException(DropReason.MALFORMED, "body of " + (datagram.length - HEADER_BYTES)
                    + " bytes, header says " + bodyLength);
        }
        int crc = b.getInt();
        if (crc != crc(datagram)) {
            throw new FrameException(DropReason.MALFORMED, "checksum mismatch");
        }
        if (fragmentCount == 0 || fragmentIndex >= fragmentCount) {
            throw new FrameException(DropReason.MALFORMED, "fragment " + fragmentIndex + " of " + fragmentCount);
        }
        if (type == FrameType.DATA ? sequence <= 0 : (sequence != 0 || fragmentCount != 1)) {
            throw new FrameException(DropReason.MALFORMED, type + " with sequence " + sequence + " and "
                    + fragmentCount + " fragments");
        }
        byte[] body;
        if (sealed) {
            if (bodyLength < FrameSealer.OVERHEAD) {
                throw new FrameException(DropReason.MALFORMED, "sealed body of " + bodyLength + " bytes");
            }
            byte[] aad = Arrays.copyOf(datagram, HEADER_BYTES + FrameSealer.EXTENSION_BYTES);
            Arrays.fill(aad, CRC_OFFSET, HEADER_BYTES, (byte) 0);
            try {
                body = sealer.open(datagram, aad, HEADER_BYTES, member, incarnation, type != FrameType.DATA);
            } catch (AuthFailure e) {
                throw new FrameException(e.isReplay() ? DropReason.REPLAY : DropReason.AUTH, e.getMessage());
            }
        } else {
            body = Arrays.copyOfRange(datagram, HEADER_BYTES, datagram.length);
        }
        return new Frame(type, member, incarnation, sequence, fragmentIndex, fragmentCount, body, datagram);
    }
}
