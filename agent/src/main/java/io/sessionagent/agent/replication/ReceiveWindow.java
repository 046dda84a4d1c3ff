package io.sessionagent.agent.replication;

import io.sessionagent.agent.transport.Frame;
import io.sessionagent.proto.v1.SeqRange;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reliable stream from one sender (one incarnation of one member): delivers datagrams in
 * sequence order, holds those that arrive early, and knows which sequences are missing and when
 * to ask for them again. Time is passed in.
 *
 * <p>Not thread-safe: owned by the protocol thread.
 */
final class ReceiveWindow {
    /** What {@link #offer} did with a datagram. */
    enum Offer {
        DELIVERED,
        BUFFERED,
        DUPLICATE,
        WINDOW_FULL
    }

    private final int capacity;
    private final TreeMap<Long, Frame> early = new TreeMap<>();
    /** The next sequence to deliver. */
    private long next;
    /** Highest sequence known to exist (seen, or announced by the sender's heartbeat). */
    private long highestKnown;
    /** When the current gap was first seen (0: no gap). */
    private long gapSinceMs;
    private long lastNakMs;

    ReceiveWindow(long firstSequence, int capacity) {
        this.next = firstSequence;
        this.highestKnown = firstSequence - 1;
        this.capacity = capacity;
    }

    /** Offers a datagram; every datagram that becomes deliverable is appended to {@code out} in order. */
    Offer offer(Frame f, long nowMs, List<Frame> out) {
        long seq = f.sequence();
        if (seq < next || early.containsKey(seq)) {
            return Offer.DUPLICATE;
        }
        if (seq > next) {
            if (seq - next > capacity) {
                noteKnown(seq, nowMs);
                return Offer.WINDOW_FULL;
            }
            early.put(seq, f);
            noteKnown(seq, nowMs);
            return Offer.BUFFERED;
        }
        out.add(f);
        next++;
        highestKnown = Math.max(highestKnown, seq);
        drain(out);
        return Offer.DELIVERED;
    }

    /** The sender says it sent up to {@code highestSent}: anything beyond {@code next} is missing. */
    void noteHighestSent(long highestSent, long nowMs) {
        noteKnown(highestSent, nowMs);
    }

    private void noteKnown(long seq, long nowMs) {
        if (seq > highestKnown) {
            highestKnown = seq;
        }
        if (hasGap() && gapSinceMs == 0) {
            gapSinceMs = nowMs;
        }
    }

    private void drain(List<Frame> out) {
        Iterator<Map.Entry<Long, Frame>> it = early.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Frame> e = it.next();
            if (e.getKey() != next) {
                break;
            }
            out.add(e.getValue());
            it.remove();
            next++;
        }
        if (!hasGap()) {
            gapSinceMs = 0;
            lastNakMs = 0;
        }
    }

    boolean hasGap() {
        return highestKnown >= next;
    }

    /**
     * True when a NAK should go out now: the gap has lasted at least {@code delayMs} (so that
     * plain reordering does not cause one) and none was sent in the last {@code intervalMs}.
     */
    boolean nakDue(long nowMs, long delayMs, long intervalMs) {
        if (!hasGap() || nowMs - gapSinceMs < delayMs) {
            return false;
        }
        return lastNakMs == 0 || nowMs - lastNakMs >= intervalMs;
    }

    void nakSent(long nowMs) {
        lastNakMs = nowMs;
    }

    /** Missing sequences from {@code next} to the highest known, at most {@code maxRanges} ranges. */
    List<SeqRange> missing(int maxRanges) {
        List<SeqRange> out = new ArrayList<>();
        long from = next;
        for (long seq : early.keySet()) {
            if (out.size() >= maxRanges) {
                return out;
            }
            if (seq > from) {
                out.add(SeqRange.newBuilder().setFrom(from).setTo(seq - 1).build());
            }
            from = seq + 1;
        }
        if (from <= highestKnown && out.size() < maxRanges) {
            out.add(SeqRange.newBuilder().setFrom(from).setTo(highestKnown).build());
        }
        return out;
    }

    /**
     * Gives up on the sequences below {@code seq} that never arrived (the sender no longer has
     * them) and delivers, in order, the held frames below {@code seq} and whatever then becomes
     * deliverable.
     *
     * @return how many sequences were skipped
     */
    long skipTo(long seq, List<Frame> out) {
        if (seq <= next) {
            return 0;
        }
        Map<Long, Frame> held = early.headMap(seq);
        long skipped = (seq - next) - held.size();
        out.addAll(held.values());
        held.clear();
        next = seq;
        highestKnown = Math.max(highestKnown, seq - 1);
        drain(out);
        return skipped;
    }

    /**
     * Delivers every held frame, in order, giving up on the holes between them: for a sender that
     * can no longer fill them.
     *
     * @return how many sequences were skipped
     */
    long releaseHeld(List<Frame> out) {
        return early.isEmpty() ? 0 : skipTo(early.lastKey() + 1, out);
    }

    /** The highest sequence known to exist: received, or announced by the sender's heartbeat. */
    long highestKnown() {
        return highestKnown;
    }

    /** Every sequence up to and including this one was delivered (or skipped). */
    long deliveredThrough() {
        return next - 1;
    }

    int buffered() {
        return early.size();
    }
}
