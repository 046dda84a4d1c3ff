package io.sessionagent.agent.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.sessionagent.agent.replication.ReceiveWindow.Offer;
import io.sessionagent.agent.transport.Frame;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.proto.v1.SeqRange;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReceiveWindowTest {
    private static final long MEMBER = 42;
    private static final long INCARNATION = 7;
    private static final long DELAY = 20;
    private static final long INTERVAL = 100;

    private final List<Frame> out = new ArrayList<>();

    private static Frame frame(long seq) {
        byte[] body = {(byte) seq};
        return new Frame(FrameType.DATA, MEMBER, INCARNATION, seq, 0, 1, body, body);
    }

    private Offer offer(ReceiveWindow w, long seq) {
        return w.offer(frame(seq), 1_000, out);
    }

    private List<Long> delivered() {
        List<Long> seqs = out.stream().map(Frame::sequence).toList();
        out.clear();
        return seqs;
    }

    private static SeqRange range(long from, long to) {
        return SeqRange.newBuilder().setFrom(from).setTo(to).build();
    }

    // ------------------------------------------------------------------ offer

    @Test
    void inOrderFramesAreDeliveredAtOnce() {
        ReceiveWindow w = new ReceiveWindow(1, 16);

        for (long seq = 1; seq <= 3; seq++) {
            assertThat(offer(w, seq)).isEqualTo(Offer.DELIVERED);
            assertThat(delivered()).containsExactly(seq);
        }
        assertThat(w.deliveredThrough()).isEqualTo(3);
        assertThat(w.hasGap()).isFalse();
        assertThat(w.buffered()).isZero();
    }

    @Test
    void deliveredFrameIsTheOneOffered() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        Frame f = frame(1);

        w.offer(f, 1_000, out);

        assertThat(out).containsExactly(f);
    }

    @Test
    void earlyFramesAreHeldThenDrainedInOrder() {
        ReceiveWindow w = new ReceiveWindow(1, 16);

        assertThat(offer(w, 3)).isEqualTo(Offer.BUFFERED);
        assertThat(offer(w, 2)).isEqualTo(Offer.BUFFERED);
        assertThat(out).isEmpty();
        assertThat(w.buffered()).isEqualTo(2);
        assertThat(w.hasGap()).isTrue();
        assertThat(w.deliveredThrough()).isZero();

        assertThat(offer(w, 1)).isEqualTo(Offer.DELIVERED);

        assertThat(delivered()).containsExactly(1L, 2L, 3L);
        assertThat(w.buffered()).isZero();
        assertThat(w.hasGap()).isFalse();
        assertThat(w.deliveredThrough()).isEqualTo(3);
    }

    @Test
    void drainingStopsAtTheNextHole() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 2);
        offer(w, 4);

        offer(w, 1);

        assertThat(delivered()).containsExactly(1L, 2L);
        assertThat(w.deliveredThrough()).isEqualTo(2);
        assertThat(w.buffered()).isEqualTo(1);
        assertThat(w.missing(10)).containsExactly(range(3, 3));
    }

    @Test
    void frameAlreadyDeliveredIsADuplicate() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 1);
        offer(w, 2);
        out.clear();

        assertThat(offer(w, 1)).isEqualTo(Offer.DUPLICATE);
        assertThat(offer(w, 2)).isEqualTo(Offer.DUPLICATE);
        assertThat(out).isEmpty();
        assertThat(w.deliveredThrough()).isEqualTo(2);
    }

    @Test
    void frameAlreadyHeldIsADuplicate() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 3);

        assertThat(offer(w, 3)).isEqualTo(Offer.DUPLICATE);
        assertThat(w.buffered()).isEqualTo(1);

        offer(w, 1);
        offer(w, 2);
        assertThat(delivered()).containsExactly(1L, 2L, 3L);
    }

    @Test
    void windowMayStartAnywhere() {
        ReceiveWindow w = new ReceiveWindow(100, 16);
        assertThat(w.deliveredThrough()).isEqualTo(99);
        assertThat(w.hasGap()).isFalse();

        assertThat(offer(w, 99)).isEqualTo(Offer.DUPLICATE);
        assertThat(offer(w, 100)).isEqualTo(Offer.DELIVERED);
        assertThat(delivered()).containsExactly(100L);
    }

    @Test
    void frameBeyondTheCapacityIsRefusedButMarksTheGap() {
        ReceiveWindow w = new ReceiveWindow(1, 4);

        assertThat(offer(w, 5)).isEqualTo(Offer.BUFFERED);
        assertThat(offer(w, 6)).isEqualTo(Offer.WINDOW_FULL);
        assertThat(offer(w, 1_000)).isEqualTo(Offer.WINDOW_FULL);

        assertThat(w.buffered()).isEqualTo(1);
        assertThat(w.missing(10)).containsExactly(range(1, 4), range(6, 1_000));
        for (long seq = 1; seq <= 4; seq++) {
            offer(w, seq);
        }
        assertThat(delivered()).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(offer(w, 6)).isEqualTo(Offer.DELIVERED);
    }

    // ------------------------------------------------------------------ missing

    @Test
    void nothingIsMissingWithoutAGap() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        assertThat(w.missing(10)).isEmpty();

        offer(w, 1);
        w.noteHighestSent(1, 1_000);
        w.noteHighestSent(0, 1_000);

        assertThat(w.missing(10)).isEmpty();
        assertThat(w.hasGap()).isFalse();
    }

    @Test
    void missingListsTheHolesBetweenHeldFrames() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 3);
        offer(w, 4);
        offer(w, 7);

        assertThat(w.missing(10)).containsExactly(range(1, 2), range(5, 6));
    }

    @Test
    void missingIncludesTheTailTheSenderAnnounced() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 3);
        offer(w, 4);
        offer(w, 7);

        w.noteHighestSent(10, 1_000);

        assertThat(w.missing(10)).containsExactly(range(1, 2), range(5, 6), range(8, 10));
    }

    @Test
    void announcedTailAloneIsAGap() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 1);
        offer(w, 2);

        w.noteHighestSent(5, 1_000);
        w.noteHighestSent(3, 1_000);

        assertThat(w.hasGap()).isTrue();
        assertThat(w.missing(10)).containsExactly(range(3, 5));
    }

    @Test
    void missingStopsAtTheRangeLimit() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 3);
        offer(w, 7);
        w.noteHighestSent(10, 1_000);

        assertThat(w.missing(1)).containsExactly(range(1, 2));
        assertThat(w.missing(2)).containsExactly(range(1, 2), range(4, 6));
        assertThat(w.missing(3)).containsExactly(range(1, 2), range(4, 6), range(8, 10));
        assertThat(w.missing(0)).isEmpty();
    }

    @Test
    void adjacentHeldFramesLeaveNoEmptyRange() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 2);
        offer(w, 3);
        offer(w, 4);

        assertThat(w.missing(10)).containsExactly(range(1, 1));
    }

    // ------------------------------------------------------------------ NAK timing

    @Test
    void noNakWithoutAGap() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        w.offer(frame(1), 1_000, out);

        assertThat(w.nakDue(1_000_000, DELAY, INTERVAL)).isFalse();
    }

    @Test
    void nakIsDueOnceTheGapHasLastedTheDelay() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        w.offer(frame(3), 1_000, out);

        assertThat(w.nakDue(1_000, DELAY, INTERVAL)).isFalse();
        assertThat(w.nakDue(1_000 + DELAY - 1, DELAY, INTERVAL)).isFalse();
        assertThat(w.nakDue(1_000 + DELAY, DELAY, INTERVAL)).isTrue();
    }

    @Test
    void gapAgeCountsFromWhenItWasFirstSeen() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        w.offer(frame(3), 1_000, out);
        w.offer(frame(5), 1_015, out);
        w.noteHighestSent(9, 1_019);

        assertThat(w.nakDue(1_020, DELAY, INTERVAL)).isTrue();
    }

    @Test
    void nakIsRepeatedOnlyAfterTheInterval() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        w.offer(frame(3), 1_000, out);
        w.nakSent(1_020);

        assertThat(w.nakDue(1_021, DELAY, INTERVAL)).isFalse();
        assertThat(w.nakDue(1_020 + INTERVAL - 1, DELAY, INTERVAL)).isFalse();
        assertThat(w.nakDue(1_020 + INTERVAL, DELAY, INTERVAL)).isTrue();
        w.nakSent(1_020 + INTERVAL);
        assertThat(w.nakDue(1_020 + INTERVAL + 1, DELAY, INTERVAL)).isFalse();
    }

    @Test
    void announcedTailStartsTheGapClock() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        w.offer(frame(1), 1_000, out);

        w.noteHighestSent(3, 2_000);

        assertThat(w.nakDue(2_000 + DELAY - 1, DELAY, INTERVAL)).isFalse();
        assertThat(w.nakDue(2_000 + DELAY, DELAY, INTERVAL)).isTrue();
    }

    @Test
    void frameBeyondTheCapacityStartsTheGapClock() {
        ReceiveWindow w = new ReceiveWindow(1, 2);

        assertThat(w.offer(frame(10), 3_000, out)).isEqualTo(Offer.WINDOW_FULL);

        assertThat(w.nakDue(3_000 + DELAY, DELAY, INTERVAL)).isTrue();
    }

    @Test
    void closedGapResetsDelayAndInterval() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        w.offer(frame(2), 1_000, out);
        w.nakSent(1_020);
        w.offer(frame(1), 1_030, out);
        assertThat(w.hasGap()).isFalse();
        assertThat(w.nakDue(1_030, DELAY, INTERVAL)).isFalse();

        w.offer(frame(4), 1_040, out);

        assertThat(w.nakDue(1_040 + DELAY - 1, DELAY, INTERVAL)).isFalse();
        assertThat(w.nakDue(1_040 + DELAY, DELAY, INTERVAL)).as("earlier NAK does not hold back the first one")
                .isTrue();
    }

    // ------------------------------------------------------------------ skipTo

    @Test
    void skipToAtOrBelowTheNextSequenceDoesNothing() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 1);
        offer(w, 3);
        out.clear();

        assertThat(w.skipTo(2, out)).isZero();
        assertThat(w.skipTo(1, out)).isZero();

        assertThat(out).isEmpty();
        assertThat(w.deliveredThrough()).isEqualTo(1);
        assertThat(w.buffered()).isEqualTo(1);
    }

    @Test
    void skipToGivesUpOnTheMissingSequences() {
        ReceiveWindow w = new ReceiveWindow(1, 16);

        assertThat(w.skipTo(5, out)).isEqualTo(4);

        assertThat(out).isEmpty();
        assertThat(w.deliveredThrough()).isEqualTo(4);
        assertThat(w.hasGap()).isFalse();
        assertThat(offer(w, 3)).isEqualTo(Offer.DUPLICATE);
        assertThat(offer(w, 5)).isEqualTo(Offer.DELIVERED);
    }

    @Test
    void skipToDeliversWhatFollowsTheSkippedRange() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 5);
        offer(w, 6);
        offer(w, 8);

        assertThat(w.skipTo(5, out)).isEqualTo(4);

        assertThat(delivered()).containsExactly(5L, 6L);
        assertThat(w.deliveredThrough()).isEqualTo(6);
        assertThat(w.missing(10)).containsExactly(range(7, 7));
    }

    @Test
    void skipToDeliversHeldFramesBelowTheSkipPointAndCountsOnlyTheReallyMissing() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        offer(w, 3);
        offer(w, 5);
        offer(w, 6);

        long skipped = w.skipTo(5, out);

        assertThat(skipped).as("1, 2 and 4 never arrived").isEqualTo(3);
        assertThat(delivered()).containsExactly(3L, 5L, 6L);
        assertThat(w.deliveredThrough()).isEqualTo(6);
        assertThat(w.buffered()).isZero();
        assertThat(w.hasGap()).isFalse();
    }

    @Test
    void skipToBeyondEverythingKnownLeavesNoGap() {
        ReceiveWindow w = new ReceiveWindow(1, 16);
        w.offer(frame(3), 1_000, out);

        long skipped = w.skipTo(10, out);

        assertThat(skipped).isEqualTo(8);
        assertThat(delivered()).containsExactly(3L);
        assertThat(w.deliveredThrough()).isEqualTo(9);
        assertThat(w.hasGap()).isFalse();
        assertThat(w.nakDue(5_000, DELAY, INTERVAL)).isFalse();
        assertThat(w.missing(10)).isEmpty();
    }

    // ------------------------------------------------------------------ against a reference

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 99, 12345})
    void permutationWithDuplicatesIsDeliveredExactlyOnceInOrder(long seed) {
        Random rnd = new Random(seed);
        int n = 1_000;
        List<Long> arrivals = new ArrayList<>(LongStream.rangeClosed(1, n).boxed().toList());
        Collections.shuffle(arrivals, rnd);
        for (int i = 0; i < n / 3; i++) {
            arrivals.add(rnd.nextInt(arrivals.size() + 1), 1L + rnd.nextInt(n));
        }
        ReceiveWindow w = new ReceiveWindow(1, n);
        Set<Long> offered = new HashSet<>();

        for (long seq : arrivals) {
            boolean first = offered.add(seq);
            Offer o = w.offer(frame(seq), 1_000, out);
            assertThat(o == Offer.DUPLICATE).as("offer of %d", seq).isEqualTo(!first);
            assertThat(o).isNotEqualTo(Offer.WINDOW_FULL);
        }

        assertThat(out).extracting(Frame::sequence).containsExactlyElementsOf(LongStream.rangeClosed(1, n).boxed()
                .toList());
        assertThat(w.deliveredThrough()).isEqualTo(n);
        assertThat(w.hasGap()).isFalse();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {4, 5, 6})
    void smallWindowWithRetransmissionsDeliversEverythingAndReportsTheRightHoles(long seed) {
        Random rnd = new Random(seed);
        int n = 400;
        // Reordered by up to about three window widths.
        List<long[]> jittered = new ArrayList<>();
        for (long seq = 1; seq <= n; seq++) {
            jittered.add(new long[] {seq + rnd.nextInt(24), seq});
        }
        jittered.sort((x, y) -> Long.compare(x[0], y[0]));
        List<Long> order = jittered.stream().map(x -> x[1]).toList();
        Deque<Long> queue = new ArrayDeque<>(order);
        ReceiveWindow w = new ReceiveWindow(1, 8);
        TreeSet<Long> held = new TreeSet<>();
        long highestSeen = 0;
        int windowFull = 0;

        while (!queue.isEmpty()) {
            long seq = queue.poll();
            if (rnd.nextInt(5) == 0) {
                queue.add(seq); // a copy arrives again at the end
            }
            highestSeen = Math.max(highestSeen, seq);
            int before = out.size();
            Offer o = w.offer(frame(seq), 1_000, out);
            switch (o) {
                case WINDOW_FULL -> {
                    windowFull++;
                    queue.add(seq); // asked for again by a NAK
                }
                case BUFFERED -> held.add(seq);
                case DELIVERED -> {
                    for (int i = before; i < out.size(); i++) {
                        held.remove(out.get(i).sequence());
                    }
                }
                case DUPLICATE -> assertThat(seq <= w.deliveredThrough() || held.contains(seq)).isTrue();
            }
            assertThat(w.buffered()).isEqualTo(held.size()).isLessThanOrEqualTo(8);
            Set<Long> expectedMissing = new TreeSet<>();
            for (long s = w.deliveredThrough() + 1; s <= highestSeen; s++) {
                if (!held.contains(s)) {
                    expectedMissing.add(s);
                }
            }
            assertThat(expand(w.missing(Integer.MAX_VALUE))).isEqualTo(expectedMissing);
        }

        assertThat(windowFull).isPositive();
        assertThat(out).extracting(Frame::sequence).containsExactlyElementsOf(LongStream.rangeClosed(1, n).boxed()
                .toList());
    }

    private static Set<Long> expand(List<SeqRange> ranges) {
        Set<Long> out = new TreeSet<>();
        for (SeqRange r : ranges) {
            assertThat(r.getFrom()).isLessThanOrEqualTo(r.getTo());
            for (long s = r.getFrom(); s <= r.getTo(); s++) {
                out.add(s);
            }
        }
        return out;
    }
}
