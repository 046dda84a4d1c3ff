package io.sessionagent.agent.transport;

import io.sessionagent.agent.auth.ClusterKey;
import io.sessionagent.agent.auth.ClusterKeys;
import io.sessionagent.agent.auth.FrameSealer;
import io.sessionagent.agent.auth.Keys;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/** The codec with a cluster key: sealing, authentication, key rotation and replay. */
class SealedFrameCodecTest {
    private static final long CLUSTER = 0x5E55_1017L;
    private static final long MEMBER = 0xA11CEL;
    private static final long INCARNATION = 1_700_000_000_000_000L;
    private static final ClusterKey K1 = Keys.key(1, 1);
    private static final ClusterKey K2 = Keys.key(2, 1);
    private static final byte[] BODY = "attribute cart=[book, lamp]".getBytes(StandardCharsets.UTF_8);

    /** Each codec is one run of an agent: its own salt. */
    private static final AtomicLong RUNS = new AtomicLong();

    private static FrameCodec codec(ClusterKeys keys) {
        return new FrameCodec(CLUSTER, 1400, keys == null ? null : new FrameSealer(keys, RUNS.incrementAndGet()));
    }

    private static FrameCodec codec(ClusterKey... keys) {
        return codec(Keys.fixed(keys));
    }

    private static byte[] data(FrameCodec c, long seq) {
        return c.encode(FrameType.DATA, MEMBER, INCARNATION, seq, 0, 1, BODY, 0, BODY.length);
    }

    private static byte[] heartbeat(FrameCodec c) {
        return c.encode(FrameType.HEARTBEAT, MEMBER, INCARNATION, BODY);
    }

    private static DropReason dropReason(FrameCodec c, byte[] datagram) {
        try {
            c.decode(datagram);
        } catch (FrameException e) {
            return e.reason();
        }
        return null;
    }

    /** Sets the checksum right, so that only the authentication tag can catch a change. */
    private static byte[] withFixedCrc(byte[] d) {
        CRC32C c = new CRC32C();
        c.update(d, 0, 44);
        c.update(d, FrameCodec.HEADER_BYTES, d.length - FrameCodec.HEADER_BYTES);
        ByteBuffer.wrap(d).putInt(44, (int) c.getValue());
        return d;
    }

    @Test
    void aSealedFrameOpensWithTheKeyAndHidesItsBody() throws Exception {
        FrameCodec sender = codec(K1);
        byte[] d = data(sender, 1);
        assertThat(d.length).isEqualTo(FrameCodec.HEADER_BYTES + FrameSealer.OVERHEAD + BODY.length);
        assertThat(new String(d, StandardCharsets.ISO_8859_1)).doesNotContain("cart");
        Frame f = codec(K1).decode(d);
        assertThat(f.body()).isEqualTo(BODY);
        assertThat(f.sequence()).isEqualTo(1);
        assertThat(f.raw()).isEqualTo(d);
        assertThat(codec(K1).decode(heartbeat(sender)).body()).isEqualTo(BODY);
    }

    @Test
    void theSameBodyNeverSealsToTheSameBytes() {
        FrameCodec sender = codec(K1);
        byte[] a = heartbeat(sender);
        byte[] b = heartbeat(sender);
        assertThat(Arrays.copyOfRange(a, 68, a.length)).isNotEqualTo(Arrays.copyOfRange(b, 68, b.length));
        FrameCodec restarted = codec(K1);
        assertThat(heartbeat(restarted)).isNotEqualTo(a);
    }

    @Test
    void maxBodyLeavesRoomForTheSeal() {
        FrameCodec sealed = codec(K1);
        assertThat(sealed.maxBodyBytes()).isEqualTo(1400 - 48 - FrameSealer.OVERHEAD);
        byte[] big = new byte[sealed.maxBodyBytes()];
        assertThat(sealed.encode(FrameType.DATA, MEMBER, INCARNATION, 1, 0, 1, big, 0, big.length)).hasSize(1400);
        assertThatThrownBy(() -> sealed.encode(FrameType.DATA, MEMBER, INCARNATION, 1, 0, 1, new byte[big.length + 1],
                0, big.length + 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void clearAndSealedFramesNeverMix() {
        assertThat(dropReason(codec(K1), data(codec((ClusterKeys) null), 1))).isEqualTo(DropReason.AUTH);
        assertThat(dropReason(codec((ClusterKeys) null), data(codec(K1), 1))).isEqualTo(DropReason.AUTH);
        // A clear frame that claims to be sealed is still no use to a keyed receiver.
        byte[] clear = data(codec((ClusterKeys) null), 1);
        clear[5] = 1;
        assertThat(dropReason(codec(K1), withFixedCrc(clear))).isIn(DropReason.AUTH, DropReason.MALFORMED);
    }

    @Test
    void aWrongKeyOrAnUnknownKeyIdIsRefused() {
        ClusterKey sameIdOtherSecret = Keys.key(1, 2);
        assertThat(dropReason(codec(sameIdOtherSecret), data(codec(K1), 1))).isEqualTo(DropReason.AUTH);
        assertThat(dropReason(codec(K2), data(codec(K1), 1))).isEqualTo(DropReason.AUTH);
        FrameException e = catchDrop(codec(K2), data(codec(K1), 1));
        assertThat(e.getMessage()).contains("key id 1").contains("does not hold");
    }

    @Test
    void rotationAcceptsOldAndNewKeysWhileBothAreHeld() throws Exception {
        FrameCodec oldOnly = codec(K1);
        FrameCodec rotating = codec(K2, K1);
        FrameCodec newOnly = codec(K2);
        // Step 1: everyone holds both, some still send with the old key.
        assertThat(rotating.decode(data(oldOnly, 1)).body()).isEqualTo(BODY);
        assertThat(codec(K1, K2).decode(data(rotating, 1)).body()).isEqualTo(BODY);
        // Step 3: the old key is gone; what is still sealed with it is refused.
        assertThat(newOnly.decode(data(rotating, 2)).body()).isEqualTo(BODY);
        assertThat(dropReason(newOnly, data(oldOnly, 2))).isEqualTo(DropReason.AUTH);
        assertThat(dropReason(oldOnly, data(newOnly, 2))).isEqualTo(DropReason.AUTH);
    }

    @Test
    void aReplayedControlFrameIsRefusedButReorderedOnesPass() throws Exception {
        FrameCodec sender = codec(K1);
        FrameCodec receiver = codec(K1);
        byte[] h1 = heartbeat(sender);
        byte[] h2 = heartbeat(sender);
        byte[] h3 = heartbeat(sender);
        receiver.decode(h3);
        receiver.decode(h1);
        assertThat(dropReason(receiver, h1)).isEqualTo(DropReason.REPLAY);
        assertThat(dropReason(receiver, h3)).isEqualTo(DropReason.REPLAY);
        receiver.decode(h2);
        assertThat(dropReason(receiver, h2)).isEqualTo(DropReason.REPLAY);
    }

    @Test
    void aControlFrameOlderThanTheWindowIsRefused() throws Exception {
        FrameCodec sender = codec(K1);
        FrameCodec receiver = codec(K1);
        byte[] old = heartbeat(sender);
        for (int i = 0; i < 1024; i++) {
            receiver.decode(heartbeat(sender));
        }
        assertThat(dropReason(receiver, old)).isEqualTo(DropReason.REPLAY);
    }

    @Test
    void controlFramesOfAnEarlierRunAreRefusedOnceALaterRunWasHeard() throws Exception {
        FrameCodec receiver = codec(K1);
        byte[] earlier = codec(K1).encode(FrameType.HEARTBEAT, MEMBER, INCARNATION, BODY);
        receiver.decode(codec(K1).encode(FrameType.HEARTBEAT, MEMBER, INCARNATION + 1, BODY));
        assertThat(dropReason(receiver, earlier)).isEqualTo(DropReason.REPLAY);
        // Another member's stream is its own.
        receiver.decode(codec(K1).encode(FrameType.HEARTBEAT, MEMBER + 1, INCARNATION, BODY));
    }

    @Test
    void dataFramesRepeatForRetransmissionAndAreLeftToTheSequenceWindow() throws Exception {
        FrameCodec receiver = codec(K1);
        byte[] d = data(codec(K1), 5);
        receiver.decode(d);
        assertThat(receiver.decode(d).sequence()).isEqualTo(5);
    }

    @Test
    void changingAnyHeaderOrBodyByteBreaksTheTag() {
        FrameCodec sender = codec(K1);
        FrameCodec receiver = codec(K1);
        byte[] d = data(sender, 9);
        for (int i = 0; i < d.length; i++) {
            if (i >= 44 && i < 48) {
                continue;
            }
            for (int bit = 0; bit < 8; bit++) {
                byte[] m = d.clone();
                m[i] ^= (byte) (1 << bit);
                DropReason r = dropReason(receiver, withFixedCrc(m));
                if (r == null) {
                    fail("byte " + i + " bit " + bit + " changed and the frame still decoded");
                }
            }
        }
    }

    @Test
    void randomMutationsOfSealedFramesNeverDecode() {
        FrameCodec sender = codec(K1);
        FrameCodec receiver = codec(K1);
        Random random = new Random(17);
        int decoded = 0;
        for (int i = 0; i < 50_000; i++) {
            byte[] d = i % 2 == 0 ? data(sender, 1 + random.nextInt(1000)) : heartbeat(sender);
            byte[] m = d.clone();
            int changes = 1 + random.nextInt(4);
            for (int c = 0; c < changes; c++) {
                int at = FrameCodec.HEADER_BYTES + random.nextInt(m.length - FrameCodec.HEADER_BYTES);
                m[at] = (byte) random.nextInt(256);
            }
            if (Arrays.equals(m, d)) {
                continue;
            }
            if (dropReason(receiver, withFixedCrc(m)) == null) {
                decoded++;
            }
        }
        assertThat(decoded).isZero();
    }

    private static FrameException catchDrop(FrameCodec c, byte[] d) {
        try {
            c.decode(d);
        } catch (FrameException e) {
            return e;
        }
        throw new AssertionError("decoded");
    }
}
