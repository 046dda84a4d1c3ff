package io.sessionagent.agent.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class FrameCodecTest {
    private static final long CLUSTER = 0x1234_5678_9abc_def0L;
    private static final int MAX_DATAGRAM = 1400;
    private static final long MEMBER = 0xfeed_beef_0000_0001L;
    private static final long INCARNATION = 1_700_000_000_000_123L;
    private static final byte[] BODY = "hello, body".getBytes(StandardCharsets.UTF_8);

    private final FrameCodec codec = new FrameCodec(CLUSTER, MAX_DATAGRAM);

    private byte[] data(long seq, int index, int count, byte[] body) {
        return codec.encode(FrameType.DATA, MEMBER, INCARNATION, seq, index, count, body, 0, body.length);
    }

    private byte[] valid() {
        return data(7, 1, 3, BODY);
    }

    private static byte[] withShort(byte[] datagram, int offset, int value) {
        byte[] copy = datagram.clone();
        ByteBuffer.wrap(copy).putShort(offset, (short) value);
        return copy;
    }

    private static byte[] withByte(byte[] datagram, int offset, int value) {
        byte[] copy = datagram.clone();
        copy[offset] = (byte) value;
        return copy;
    }

    private FrameException rejection(byte[] datagram) {
        try {
            Frame f = codec.decode(datagram);
            return fail("accepted %s", f);
        } catch (FrameException e) {
            return e;
        }
    }

    private void assertRejected(byte[] datagram, DropReason reason) {
        assertThat(rejection(datagram).reason()).isEqualTo(reason);
    }

    // ------------------------------------------------------------------ round trips

    @ParameterizedTest
    @EnumSource(FrameType.class)
    void everyTypeSurvivesARoundTrip(FrameType type) throws Exception {
        boolean data = type == FrameType.DATA;
        byte[] datagram = codec.encode(type, MEMBER, INCARNATION, data ? 42 : 0, data ? 2 : 0, data ? 5 : 1,
                BODY, 0, BODY.length);

        Frame f = codec.decode(datagram);

        assertThat(f.type()).isEqualTo(type);
        assertThat(f.memberId()).isEqualTo(MEMBER);
        assertThat(f.incarnation()).isEqualTo(INCARNATION);
        assertThat(f.sequence()).isEqualTo(data ? 42 : 0);
        assertThat(f.fragmentIndex()).isEqualTo(data ? 2 : 0);
        assertThat(f.fragmentCount()).isEqualTo(data ? 5 : 1);
        assertThat(f.body()).isEqualTo(BODY);
        assertThat(f.raw()).isSameAs(datagram);
        assertThat(datagram).hasSize(FrameCodec.HEADER_BYTES + BODY.length);
    }

    @Test
    void shortEncodeMakesAnUnfragmentedFrameWithoutSequence() throws Exception {
        Frame f = codec.decode(codec.encode(FrameType.HEARTBEAT, MEMBER, INCARNATION, BODY));

        assertThat(f.sequence()).isZero();
        assertThat(f.fragmentIndex()).isZero();
        assertThat(f.fragmentCount()).isEqualTo(1);
        assertThat(f.body()).isEqualTo(BODY);
    }

    @Test
    void encodeTakesTheGivenSliceOfTheBody() throws Exception {
        byte[] datagram = codec.encode(FrameType.DATA, MEMBER, INCARNATION, 1, 0, 1, BODY, 7, 4);

        assertThat(codec.decode(datagram).body()).isEqualTo("body".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void bodyIsACopyIndependentOfTheDatagram() throws Exception {
        byte[] datagram = valid();
        Frame f = codec.decode(datagram);

        datagram[FrameCodec.HEADER_BYTES] ^= 0x55;

        assertThat(f.body()).isEqualTo(BODY);
    }

    @Test
    void emptyAndLargestBodiesSurvive() throws Exception {
        assertThat(codec.decode(data(1, 0, 1, new byte[0])).body()).isEmpty();

        byte[] largest = new byte[codec.maxBodyBytes()];
        new Random(1).nextBytes(largest);
        byte[] datagram = data(1, 0, 1, largest);
        assertThat(datagram).hasSize(MAX_DATAGRAM);
        assertThat(codec.decode(datagram).body()).isEqualTo(largest);
    }

    @Test
    void unsignedHeaderFieldsSurviveAtTheirLimits() throws Exception {
        byte[] datagram = codec.encode(FrameType.DATA, -1L, Long.MAX_VALUE, Long.MAX_VALUE,
                Fragments.MAX_FRAGMENTS - 1, Fragments.MAX_FRAGMENTS, BODY, 0, BODY.length);

        Frame f = codec.decode(datagram);

        assertThat(f.memberId()).isEqualTo(-1L);
        assertThat(f.incarnation()).isEqualTo(Long.MAX_VALUE);
        assertThat(f.sequence()).isEqualTo(Long.MAX_VALUE);
        assertThat(f.fragmentIndex()).isEqualTo(0xfffe);
        assertThat(f.fragmentCount()).isEqualTo(0xffff);
    }

    @Test
    void headerLayoutIsFixed() {
        ByteBuffer b = ByteBuffer.wrap(valid());

        assertThat(b.getShort(0) & 0xffff).isEqualTo(FrameCodec.MAGIC);
        assertThat(b.get(2)).isEqualTo((byte) FrameCodec.VERSION);
        assertThat(b.get(3)).isEqualTo((byte) 3);
        assertThat(b.getShort(4)).isZero();
        assertThat(b.getLong(6)).isEqualTo(CLUSTER);
        assertThat(b.getLong(14)).isEqualTo(MEMBER);
        assertThat(b.getLong(22)).isEqualTo(INCARNATION);
        assertThat(b.getLong(30)).isEqualTo(7);
        assertThat(b.getShort(38)).isEqualTo((short) 1);
        assertThat(b.getShort(40)).isEqualTo((short) 3);
    }

    @Test
    void encodeRefusesABodyThatDoesNotFit() {
        byte[] tooBig = new byte[codec.maxBodyBytes() + 1];

        assertThatThrownBy(() -> data(1, 0, 1, tooBig)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, FrameCodec.HEADER_BYTES})
    void codecNeedsRoomForABody(int maxDatagram) {
        assertThatThrownBy(() -> new FrameCodec(CLUSTER, maxDatagram)).isInstanceOf(IllegalArgumentException.class);
    }

    // ------------------------------------------------------------------ rejections

    @Test
    void datagramShorterThanTheHeaderIsMalformed() {
        assertRejected(new byte[0], DropReason.MALFORMED);
        assertRejected(Arrays.copyOf(valid(), FrameCodec.HEADER_BYTES - 1), DropReason.MALFORMED);
    }

    @Test
    void aFrameWithAnEmptyBodyIsAccepted() throws Exception {
        byte[] empty = codec.encode(FrameType.LEAVE, MEMBER, INCARNATION, new byte[0]);
        assertThat(codec.decode(empty).body()).isEmpty();
    }

    @Test
    void aFlippedBitAnywhereFailsTheChecksum() {
        byte[] v = valid();
        for (int i = 6; i < v.length; i++) {
            if (i >= 42 && i < 44) {
                continue; // the body length field: caught by the length check instead
            }
            byte[] d = v.clone();
            d[i] ^= 0x01;
            assertThatThrownBy(() -> codec.decode(d)).as("bit flipped at " + i).isInstanceOf(FrameException.class);
        }
    }

    @Test
    void aFrameCutAfterItsHeaderIsMalformed() {
        assertRejected(Arrays.copyOf(valid(), FrameCodec.HEADER_BYTES), DropReason.MALFORMED);
        assertRejected(Arrays.copyOf(valid(), valid().length - 1), DropReason.MALFORMED);
    }

    @Test
    void badMagicIsMalformed() {
        assertRejected(withShort(valid(), 0, 0x4153), DropReason.MALFORMED);
        assertRejected(withByte(valid(), 1, 0), DropReason.MALFORMED);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 2, 255})
    void otherProtocolVersionIsRefusedAsVersion(int version) {
        assertRejected(withByte(valid(), 2, version), DropReason.VERSION);
    }

    @Test
    void otherVersionIsReportedBeforeAnythingItsHeaderMightMeanDifferently() {
        byte[] foreignFuture = new FrameCodec(CLUSTER + 1, MAX_DATAGRAM).encode(FrameType.HEARTBEAT, MEMBER,
                INCARNATION, BODY);

        assertRejected(withByte(withByte(foreignFuture, 2, 2), 3, 99), DropReason.VERSION);
    }

    @Test
    void frameOfAnotherClusterIsRefusedAsForeign() {
        byte[] foreign = new FrameCodec(CLUSTER ^ 1, MAX_DATAGRAM).encode(FrameType.HEARTBEAT, MEMBER,
                INCARNATION, BODY);

        assertRejected(foreign, DropReason.FOREIGN_CLUSTER);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 7, 8, 127, 255})
    void unknownTypeIsMalformed(int code) {
        assertThat(rejection(withByte(valid(), 3, code)))
                .satisfies(e -> assertThat(e.reason()).isEqualTo(DropReason.MALFORMED))
                .hasMessageContaining("unknown message type " + code);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 0x8000, 0xffff})
    void reservedFlagsAreMalformed(int flags) {
        assertThat(rejection(withShort(valid(), 4, flags)))
                .satisfies(e -> assertThat(e.reason()).isEqualTo(DropReason.MALFORMED))
                .hasMessageContaining("flags");
    }

    @Test
    void aSealedFrameNeedsAClusterKey() {
        assertThat(rejection(withShort(valid(), 4, FrameCodec.FLAG_SEALED)))
                .satisfies(e -> assertThat(e.reason()).isEqualTo(DropReason.AUTH))
                .hasMessageContaining("no cluster key");
    }

    @Test
    void fragmentIndexMustBeBelowTheCount() {
        assertRejected(data(5, 3, 3, BODY), DropReason.MALFORMED);
        assertRejected(data(5, 4, 3, BODY), DropReason.MALFORMED);
        assertRejected(withShort(valid(), 38, 0xffff), DropReason.MALFORMED);
    }

    @Test
    void fragmentCountZeroIsMalformed() {
        assertRejected(data(5, 0, 0, BODY), DropReason.MALFORMED);
        assertRejected(codec.encode(FrameType.NAK, MEMBER, INCARNATION, 0, 0, 0, BODY, 0, BODY.length),
                DropReason.MALFORMED);
    }

    @Test
    void dataWithoutASequenceIsMalformed() {
        assertRejected(data(0, 0, 1, BODY), DropReason.MALFORMED);
        assertRejected(data(-1, 0, 1, BODY), DropReason.MALFORMED);
    }

    @ParameterizedTest
    @EnumSource(value = FrameType.class, names = "DATA", mode = EnumSource.Mode.EXCLUDE)
    void controlFrameWithASequenceOrFragmentsIsMalformed(FrameType type) {
        assertRejected(codec.encode(type, MEMBER, INCARNATION, 1, 0, 1, BODY, 0, BODY.length),
                DropReason.MALFORMED);
        assertRejected(codec.encode(type, MEMBER, INCARNATION, 0, 0, 2, BODY, 0, BODY.length),
                DropReason.MALFORMED);
        assertRejected(codec.encode(type, MEMBER, INCARNATION, 0, 1, 2, BODY, 0, BODY.length),
                DropReason.MALFORMED);
    }

    @Test
    void datagramOverTheMaximumIsOversized() {
        byte[] largest = data(1, 0, 1, new byte[codec.maxBodyBytes()]);
        byte[] over = Arrays.copyOf(largest, MAX_DATAGRAM + 1);

        assertRejected(over, DropReason.OVERSIZED);
        assertRejected(new byte[MAX_DATAGRAM * 10], DropReason.OVERSIZED);
    }

    @Test
    void smallerCodecRefusesWhatALargerOneAccepts() throws Exception {
        byte[] datagram = data(1, 0, 1, new byte[500]);
        FrameCodec small = new FrameCodec(CLUSTER, 500);

        assertThat(codec.decode(datagram).body()).hasSize(500);
        assertThatThrownBy(() -> small.decode(datagram))
                .isInstanceOfSatisfying(FrameException.class,
                        e -> assertThat(e.reason()).isEqualTo(DropReason.OVERSIZED));
    }

    // ------------------------------------------------------------------ hostile input

    @Test
    void everyTruncationOfAValidFrameIsRefusedCleanly() {
        byte[] datagram = valid();
        for (int len = 0; len < FrameCodec.HEADER_BYTES; len++) {
            byte[] cut = Arrays.copyOf(datagram, len);
            assertThat(rejection(cut).reason()).as("%d bytes", len).isEqualTo(DropReason.MALFORMED);
        }
    }

    @Test
    void randomBytesNeverThrowAnythingButFrameException() {
        Random rnd = new Random(20240601L);
        int accepted = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] junk = new byte[rnd.nextInt(MAX_DATAGRAM + 64)];
            rnd.nextBytes(junk);
            if (rnd.nextInt(4) == 0 && junk.length >= 2) {
                // Get past the first check now and then.
                ByteBuffer.wrap(junk).putShort(0, (short) FrameCodec.MAGIC);
            }
            accepted += decodesOrRefuses(junk) ? 1 : 0;
        }
        assertThat(accepted).isLessThan(10);
    }

    @Test
    void randomMutationsOfValidFramesNeverThrowAnythingButFrameException() {
        Random rnd = new Random(7_654_321L);
        List<byte[]> seeds = List.of(valid(), data(1, 0, 1, new byte[0]),
                codec.encode(FrameType.HEARTBEAT, MEMBER, INCARNATION, BODY),
                codec.encode(FrameType.LEAVE, MEMBER, INCARNATION, new byte[0]),
                data(99, 0, 1, new byte[codec.maxBodyBytes()]));
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] m = seeds.get(rnd.nextInt(seeds.size())).clone();
            switch (rnd.nextInt(4)) {
                case 0 -> m = Arrays.copyOf(m, rnd.nextInt(m.length + 1));
                case 1 -> m = Arrays.copyOf(m, m.length + 1 + rnd.nextInt(64));
                default -> {
                }
            }
            int flips = 1 + rnd.nextInt(4);
            for (int k = 0; k < flips && m.length > 0; k++) {
                // Mostly in the header, where the checks are.
                int at = rnd.nextInt(Math.min(m.length, rnd.nextBoolean() ? FrameCodec.HEADER_BYTES : m.length));
                m[at] = (byte) rnd.nextInt(256);
            }
            if (decodesOrRefuses(m)) {
                accepted++;
            } else {
                refused++;
            }
        }
        assertThat(accepted).isPositive();
        assertThat(refused).isPositive();
    }

    /** True when decoded, false when refused with a FrameException; anything else fails the test. */
    private boolean decodesOrRefuses(byte[] datagram) {
        try {
            Frame f = codec.decode(datagram);
            assertThat(f.raw()).isSameAs(datagram);
            assertThat(f.body()).hasSize(datagram.length - FrameCodec.HEADER_BYTES);
            assertThat(f.fragmentIndex()).isLessThan(f.fragmentCount());
            return true;
        } catch (FrameException e) {
            assertThat(e.reason()).isNotNull();
            return false;
        }
    }
}
