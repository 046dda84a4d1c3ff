package io.sessionagent.agent.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sessionagent.agent.transport.Fragments;
import io.sessionagent.agent.transport.Frame;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameException;
import io.sessionagent.agent.transport.FrameType;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Coverage-guided fuzzing of the frame decoder and of fragment reassembly with Jazzer.
 *
 * <p>In {@code verify} these run in regression mode: the inputs under
 * {@code src/test/resources/io/sessionagent/agent/fuzz/FrameDecoderFuzzTestInputs/} and an empty
 * one. To fuzz, set {@code JAZZER_FUZZ=1} and run one method, e.g.
 * {@code JAZZER_FUZZ=1 ./mvnw -B -o -pl agent -am test -Dtest='FrameDecoderFuzzTest#decode'
 * -Dsurefire.failIfNoSpecifiedTests=false -DskipITs}; each method fuzzes for its
 * {@code maxDuration} and then passes, or stops at the first finding and saves the input beside the
 * seeds.
 */
class FrameDecoderFuzzTest {
    private static final long CLUSTER = 0x5eed_0000_0000_0001L;
    private static final int MAX_DATAGRAM = 1400;
    private static final int CRC_OFFSET = 44;
    private static final FrameCodec CODEC = new FrameCodec(CLUSTER, MAX_DATAGRAM);
    /** Swapped for a keyed encoder when frames carry an authentication tag. */
    private static final FrameEncoder ENCODER = FrameEncoder.codec(CLUSTER, MAX_DATAGRAM);

    /**
     * Any bytes: the decoder refuses with a reason or returns a frame that encodes back to the
     * same bytes; nothing else escapes it.
     */
    @FuzzTest(maxDuration = "2m")
    void decode(byte[] datagram) {
        Frame f;
        try {
            f = CODEC.decode(datagram);
        } catch (FrameException e) {
            assertThat(e.reason()).isNotNull();
            return;
        }
        assertThat(ENCODER.encode(f.type(), f.memberId(), f.incarnation(), f.sequence(), f.fragmentIndex(),
                f.fragmentCount(), f.body())).isEqualTo(datagram);
    }

    /**
     * Any header fields and body under a correct checksum, so that the checks behind the CRC
     * (type, flags, fragments, sequence rules) see fuzzed values too: refused with a reason, or
     * decoded to exactly those fields.
     */
    @FuzzTest(maxDuration = "2m")
    void decodeBehindTheChecksum(FuzzedDataProvider data) {
        ByteBuffer b = ByteBuffer.allocate(FrameCodec.HEADER_BYTES + data.consumeInt(0, MAX_DATAGRAM));
        b.putShort((short) FrameCodec.MAGIC).put((byte) FrameCodec.VERSION).put(data.consumeByte())
                .putShort(data.consumeBoolean() ? 0 : data.consumeShort()).putLong(CLUSTER).putLong(data.consumeLong())
                .putLong(data.consumeLong()).putLong(data.consumeLong()).putShort(data.consumeShort())
                .putShort(data.consumeShort());
        int bodyLength = b.capacity() - FrameCodec.HEADER_BYTES;
        b.putShort((short) (data.consumeBoolean() ? bodyLength : data.consumeShort())).putInt(0);
        b.put(data.consumeBytes(bodyLength));
        byte[] datagram = b.array();
        // The layout of docs/wire-format.md: CRC32C over the header before the CRC, then the body.
        CRC32C crc = new CRC32C();
        crc.update(datagram, 0, CRC_OFFSET);
        crc.update(datagram, FrameCodec.HEADER_BYTES, bodyLength);
        ByteBuffer.wrap(datagram).putInt(CRC_OFFSET, (int) crc.getValue());
        decode(datagram);
    }

    /**
     * Valid frames built from fuzzed fields, some damaged, fed in fuzzed order to a joiner: a
     * payload comes out only when every fragment of one batch arrived in order, and it is exactly
     * their bodies joined.
     */
    @FuzzTest(maxDuration = "2m")
    void reassemble(FuzzedDataProvider data) {
        Fragments.Joiner joiner = new Fragments.Joiner();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        int expectedIndex = 0;
        int expectedCount = 0;
        int frames = data.consumeInt(1, 40);
        for (int i = 0; i < frames && data.remainingBytes() > 0; i++) {
            int count = data.consumeInt(1, 8);
            int index = data.consumeInt(0, count - 1);
            byte[] body = data.consumeBytes(data.consumeInt(0, 64));
            byte[] datagram = ENCODER.encode(FrameType.DATA, 7, 1, 1 + i, index, count, body);
            if (data.consumeBoolean()) {
                datagram[data.consumeInt(0, datagram.length - 1)] ^= (byte) data.consumeInt(1, 255);
            }
            Frame f;
            try {
                f = CODEC.decode(datagram);
            } catch (FrameException e) {
                continue;
            }
            assertThat(f.body()).isEqualTo(body);
            // The model of the joiner's contract: a batch starts at index 0 and continues in order.
            if (count == 1) {
                expected.reset();
                expectedCount = 0;
            } else if (index == 0) {
                expected.reset();
                expected.writeBytes(body);
                expectedIndex = 1;
                expectedCount = count;
            } else if (expectedCount == count && index == expectedIndex) {
                expected.writeBytes(body);
                expectedIndex++;
            } else {
                expected.reset();
                expectedCount = 0;
            }
            byte[] whole = joiner.accept(f.fragmentIndex(), f.fragmentCount(), f.body());
            if (count == 1) {
                assertThat(whole).isEqualTo(body);
            } else if (expectedCount == count && expectedIndex == count) {
                assertThat(whole).isEqualTo(expected.toByteArray());
                expected.reset();
                expectedCount = 0;
            } else {
                assertThat(whole).isNull();
                assertThat(joiner.inProgress()).isEqualTo(expectedCount != 0);
            }
        }
    }
}
