package io.sessionagent.agent.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FragmentsTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @CsvSource({
        "0, 100, 1",
        "1, 100, 1",
        "99, 100, 1",
        "100, 100, 1",
        "101, 100, 2",
        "300, 100, 3",
        "301, 100, 4",
        "1, 1, 1",
        "5, 1, 5",
    })
    void countIsTheNumberOfChunksAndNeverZero(int payload, int maxChunk, int expected) {
        assertThat(Fragments.count(payload, maxChunk)).isEqualTo(expected);
        assertThat(Fragments.ranges(payload, maxChunk)).hasSize(expected);
    }

    @Test
    void aFirstFragmentClaimingManyPartsReservesLittle() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        Fragments.Joiner joiner = new Fragments.Joiner();
        byte[] body = new byte[1352];
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100; i++) {
            assertThat(joiner.accept(0, Fragments.MAX_FRAGMENTS, body)).isNull();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        // 100 forged starts of an 88 MB payload: a few hundred KB each way, never gigabytes.
        assertThat(allocated).isLessThan(100L * 200 * 1024);
        assertThat(joiner.inProgress()).isTrue();
    }

    @Test
    void emptyPayloadIsOneEmptyChunk() {
        assertThat(Fragments.ranges(0, 100)).singleElement().isEqualTo(new int[] {0, 0});
    }

    @Test
    void oneBytePayloadIsOneChunk() {
        assertThat(Fragments.ranges(1, 100)).singleElement().isEqualTo(new int[] {0, 1});
    }

    @Test
    void exactMultipleIsCutIntoFullChunks() {
        assertThat(Fragments.ranges(300, 100))
                .containsExactly(new int[] {0, 100}, new int[] {100, 100}, new int[] {200, 100});
    }

    @Test
    void oneByteOverAddsAOneByteChunk() {
        List<int[]> r = Fragments.ranges(301, 100);

        assertThat(r).hasSize(4);
        assertThat(r.get(3)).isEqualTo(new int[] {300, 1});
    }

    @Test
    void rangesCoverThePayloadContiguouslyForAnySize() {
        Random rnd = new Random(99);
        for (int i = 0; i < 2_000; i++) {
            int payload = rnd.nextInt(20_000);
            int maxChunk = 1 + rnd.nextInt(1_500);
            int next = 0;
            List<int[]> ranges = Fragments.ranges(payload, maxChunk);
            for (int[] r : ranges) {
                assertThat(r[0]).isEqualTo(next);
                assertThat(r[1]).isBetween(payload == 0 ? 0 : 1, maxChunk);
                next += r[1];
            }
            assertThat(next).isEqualTo(payload);
            assertThat(ranges).hasSize(Fragments.count(payload, maxChunk));
        }
    }

    @Test
    void joinerConcatenatesInOrderFragments() {
        Fragments.Joiner j = new Fragments.Joiner();

        assertThat(j.accept(0, 3, bytes("ab"))).isNull();
        assertThat(j.inProgress()).isTrue();
        assertThat(j.accept(1, 3, bytes("cd"))).isNull();
        assertThat(j.accept(2, 3, bytes("e"))).isEqualTo(bytes("abcde"));
        assertThat(j.inProgress()).isFalse();
    }

    @Test
    void joinerReassemblesWhatRangesCut() {
        byte[] payload = new byte[3_333];
        new Random(5).nextBytes(payload);
        List<int[]> ranges = Fragments.ranges(payload.length, 1_000);
        Fragments.Joiner j = new Fragments.Joiner();
        byte[] whole = null;

        for (int i = 0; i < ranges.size(); i++) {
            byte[] chunk = new byte[ranges.get(i)[1]];
            System.arraycopy(payload, ranges.get(i)[0], chunk, 0, chunk.length);
            assertThat(whole).isNull();
            whole = j.accept(i, ranges.size(), chunk);
        }

        assertThat(whole).isEqualTo(payload);
    }

    @Test
    void singleFragmentPayloadIsReturnedAsIs() {
        Fragments.Joiner j = new Fragments.Joiner();
        byte[] body = bytes("whole");

        assertThat(j.accept(0, 1, body)).isSameAs(body);
        assertThat(j.inProgress()).isFalse();
    }

    @Test
    void payloadWhoseFirstFragmentIsMissingIsDropped() {
        Fragments.Joiner j = new Fragments.Joiner();

        assertThat(j.accept(1, 3, bytes("cd"))).isNull();
        assertThat(j.inProgress()).isFalse();
        assertThat(j.accept(2, 3, bytes("e"))).isNull();
        assertThat(j.inProgress()).isFalse();

        assertThat(j.accept(0, 2, bytes("xy"))).isNull();
        assertThat(j.accept(1, 2, bytes("z"))).isEqualTo(bytes("xyz"));
    }

    @Test
    void fragmentOutOfPlaceResetsThePayload() {
        Fragments.Joiner j = new Fragments.Joiner();
        j.accept(0, 3, bytes("ab"));

        assertThat(j.accept(2, 3, bytes("e"))).isNull();
        assertThat(j.inProgress()).isFalse();
        assertThat(j.accept(1, 3, bytes("cd"))).isNull();
        assertThat(j.inProgress()).isFalse();
    }

    @Test
    void fragmentOfAnotherCountResetsThePayload() {
        Fragments.Joiner j = new Fragments.Joiner();
        j.accept(0, 3, bytes("ab"));

        assertThat(j.accept(1, 4, bytes("cd"))).isNull();
        assertThat(j.inProgress()).isFalse();
        assertThat(j.accept(2, 3, bytes("e"))).isNull();
    }

    @Test
    void newFirstFragmentRestartsThePayload() {
        Fragments.Joiner j = new Fragments.Joiner();
        j.accept(0, 3, bytes("ab"));
        j.accept(1, 3, bytes("cd"));

        assertThat(j.accept(0, 2, bytes("xy"))).isNull();
        assertThat(j.accept(1, 2, bytes("z"))).isEqualTo(bytes("xyz"));
    }

    @Test
    void singleFragmentPayloadInTheMiddleAbandonsThePartialOne() {
        Fragments.Joiner j = new Fragments.Joiner();
        j.accept(0, 3, bytes("ab"));

        assertThat(j.accept(0, 1, bytes("solo"))).isEqualTo(bytes("solo"));
        assertThat(j.inProgress()).isFalse();
        assertThat(j.accept(1, 3, bytes("cd"))).isNull();
        assertThat(j.accept(2, 3, bytes("e"))).isNull();
    }

    @Test
    void joinerIsReusableAcrossManyPayloads() {
        Fragments.Joiner j = new Fragments.Joiner();
        Random rnd = new Random(11);
        for (int p = 0; p < 200; p++) {
            int count = 1 + rnd.nextInt(5);
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            byte[] result = null;
            for (int i = 0; i < count; i++) {
                byte[] part = new byte[rnd.nextInt(20)];
                rnd.nextBytes(part);
                expected.writeBytes(part);
                result = j.accept(i, count, part);
                if (i < count - 1) {
                    assertThat(result).isNull();
                }
            }
            assertThat(result).isEqualTo(expected.toByteArray());
        }
    }
}
