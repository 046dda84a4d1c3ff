package io.sessionagent.agent.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RetransmitBufferTest {

    private static byte[] datagram(long seq, int size) {
        byte[] d = new byte[size];
        if (size > 0) {
            d[0] = (byte) seq;
        }
        return d;
    }

    @Test
    void emptyBufferHoldsNothingAndRetainsFromOne() {
        RetransmitBuffer b = new RetransmitBuffer(4, 1_000);

        assertThat(b.size()).isZero();
        assertThat(b.bytes()).isZero();
        assertThat(b.highestSent()).isZero();
        assertThat(b.lowestRetained()).isEqualTo(1);
        assertThat(b.get(0)).isNull();
        assertThat(b.get(1)).isNull();
    }

    @Test
    void addedDatagramsCanBeFetchedBySequence() {
        RetransmitBuffer b = new RetransmitBuffer(4, 1_000);
        byte[] one = datagram(1, 10);
        byte[] two = datagram(2, 20);

        b.add(1, one);
        b.add(2, two);

        assertThat(b.get(1)).isSameAs(one);
        assertThat(b.get(2)).isSameAs(two);
        assertThat(b.size()).isEqualTo(2);
        assertThat(b.bytes()).isEqualTo(30);
        assertThat(b.highestSent()).isEqualTo(2);
        assertThat(b.lowestRetained()).isEqualTo(1);
    }

    @Test
    void sequenceNotYetSentIsNotFound() {
        RetransmitBuffer b = new RetransmitBuffer(4, 1_000);
        b.add(1, datagram(1, 10));

        assertThat(b.get(2)).isNull();
        assertThat(b.get(5)).as("same ring slot as 1").isNull();
        assertThat(b.get(-3)).isNull();
    }

    @Test
    void sequencesMustBeContiguous() {
        RetransmitBuffer b = new RetransmitBuffer(4, 1_000);

        assertThatThrownBy(() -> b.add(2, datagram(2, 1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.add(0, datagram(0, 1))).isInstanceOf(IllegalArgumentException.class);
        b.add(1, datagram(1, 1));
        assertThatThrownBy(() -> b.add(1, datagram(1, 1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.add(3, datagram(3, 1))).isInstanceOf(IllegalArgumentException.class);

        assertThat(b.highestSent()).isEqualTo(1);
        assertThat(b.size()).isEqualTo(1);
    }

    @Test
    void oldestGoWhenTheFrameCountIsReached() {
        RetransmitBuffer b = new RetransmitBuffer(3, 1_000);

        for (long seq = 1; seq <= 5; seq++) {
            b.add(seq, datagram(seq, 10));
        }

        assertThat(b.get(1)).isNull();
        assertThat(b.get(2)).isNull();
        for (long seq = 3; seq <= 5; seq++) {
            assertThat(b.get(seq)[0]).isEqualTo((byte) seq);
        }
        assertThat(b.size()).isEqualTo(3);
        assertThat(b.bytes()).isEqualTo(30);
        assertThat(b.lowestRetained()).isEqualTo(3);
    }

    @Test
    void oldestGoWhenTheByteLimitWouldBeExceeded() {
        RetransmitBuffer b = new RetransmitBuffer(100, 10);
        b.add(1, datagram(1, 4));
        b.add(2, datagram(2, 4));

        b.add(3, datagram(3, 4));

        assertThat(b.get(1)).isNull();
        assertThat(b.get(2)).isNotNull();
        assertThat(b.bytes()).isEqualTo(8);
        assertThat(b.lowestRetained()).isEqualTo(2);

        b.add(4, datagram(4, 10));

        assertThat(b.get(2)).isNull();
        assertThat(b.get(3)).isNull();
        assertThat(b.get(4)).isNotNull();
        assertThat(b.bytes()).isEqualTo(10);
        assertThat(b.size()).isEqualTo(1);
    }

    @Test
    void datagramLargerThanTheByteLimitIsStillHeldAlone() {
        RetransmitBuffer b = new RetransmitBuffer(100, 10);
        b.add(1, datagram(1, 4));

        b.add(2, datagram(2, 50));

        assertThat(b.get(1)).isNull();
        assertThat(b.get(2)).hasSize(50);
        assertThat(b.size()).isEqualTo(1);
        assertThat(b.lowestRetained()).isEqualTo(2);
    }

    @Test
    void releaseThroughFreesEverythingUpToTheSequence() {
        RetransmitBuffer b = new RetransmitBuffer(10, 1_000);
        for (long seq = 1; seq <= 5; seq++) {
            b.add(seq, datagram(seq, 10));
        }

        b.releaseThrough(3);

        assertThat(b.get(3)).isNull();
        assertThat(b.get(4)).isNotNull();
        assertThat(b.lowestRetained()).isEqualTo(4);
        assertThat(b.size()).isEqualTo(2);
        assertThat(b.bytes()).isEqualTo(20);

        b.releaseThrough(2);
        assertThat(b.lowestRetained()).isEqualTo(4);
        assertThat(b.size()).isEqualTo(2);
    }

    @Test
    void releasingEverythingLeavesTheNextSequenceAsLowestRetained() {
        RetransmitBuffer b = new RetransmitBuffer(10, 1_000);
        for (long seq = 1; seq <= 3; seq++) {
            b.add(seq, datagram(seq, 10));
        }

        b.releaseThrough(100);

        assertThat(b.size()).isZero();
        assertThat(b.bytes()).isZero();
        assertThat(b.lowestRetained()).isEqualTo(4);
        assertThat(b.highestSent()).isEqualTo(3);
        assertThat(b.get(3)).isNull();

        b.add(4, datagram(4, 7));
        assertThat(b.get(4)).isNotNull();
        assertThat(b.lowestRetained()).isEqualTo(4);
        assertThat(b.bytes()).isEqualTo(7);
    }

    @Test
    void ringKeepsTheRightDatagramForEachSequenceAcrossManyWraps() {
        RetransmitBuffer b = new RetransmitBuffer(4, 1_000_000);
        for (long seq = 1; seq <= 1_000; seq++) {
            b.add(seq, datagram(seq, 1 + (int) (seq % 7)));
            if (seq % 3 == 0) {
                b.releaseThrough(seq - 2);
            }
            long lowest = b.lowestRetained();
            assertThat(seq - lowest + 1).isEqualTo(b.size()).isLessThanOrEqualTo(4);
            long bytes = 0;
            for (long s = lowest; s <= seq; s++) {
                byte[] d = b.get(s);
                assertThat(d[0]).isEqualTo((byte) s);
                assertThat(d).hasSize(1 + (int) (s % 7));
                bytes += d.length;
            }
            assertThat(b.bytes()).isEqualTo(bytes);
            assertThat(b.get(lowest - 1)).isNull();
            assertThat(b.get(seq + 1)).isNull();
        }
    }
}
