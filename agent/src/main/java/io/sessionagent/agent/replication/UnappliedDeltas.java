package io.sessionagent.agent.replication;

import com.google.protobuf.CodedOutputStream;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.proto.v1.ReplicatedDelta;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;

/**
 * What of one sender's stream was delivered here but is not applied: the deltas the apply rule
 * could not take (their base missing, or a concurrent version it cannot merge), and sequences
 * given up because the sender no longer held them. They keep this agent's acknowledgement of the
 * stream ({@code applied_through}) below what it delivered, so that a sync write is never counted
 * as replicated here while the table lacks it. The sessions of the deltas are what the ACK asks
 * the sender to re-send whole; what the given-up sequences carried is unknown, and only a pull
 * from the sender by anti-entropy, started after they were given up, brings it. Confined to the
 * protocol thread.
 */
final class UnappliedDeltas {
    /** The version a session must reach here, and the first sequence that wanted it. */
    private record Wanted(long version, long writer, long sequence, long sinceMs) {
    }

    private final Map<String, Wanted> wanted = new LinkedHashMap<>();
    private long lastAskedMs;
    /** The first sequence given up and not yet covered by anti-entropy; 0 for none. */
    private long skippedFrom;
    /** When the first sequences not yet covered were given up. */
    private long skippedSinceMs;

    /** A delta of the batch the frame {@code sequence} completed was not applied. */
    void add(ReplicatedDelta d, long sequence, long nowMs) {
        Wanted w = new Wanted(d.getNewVersion(), d.getWriter(), sequence, nowMs);
        // A later delta of the same session raises the version wanted; the sequence stays the first,
        // since everything from there on waits for this session.
        wanted.merge(d.getId(), w, (old, later) -> new Wanted(later.version(), later.writer(), old.sequence(),
                old.sinceMs()));
    }

    /**
     * Sequences from {@code firstSkipped} on were given up: their data comes only by anti-entropy,
     * from a pull that starts after the latest skip.
     */
    void skipped(long firstSkipped, long nowMs) {
        if (skippedFrom == 0) {
            skippedFrom = firstSkipped;
        }
        skippedSinceMs = nowMs;
    }

    /** See {@link ReceiveStreams#startApplying}. */
    void restartGiveUpClock(long nowMs) {
        if (skippedFrom != 0) {
            skippedSinceMs = nowMs;
        }
    }

    /** A delta of this session was delivered and is not applied yet. */
    boolean wants(String id) {
        return wanted.containsKey(id);
    }

    /** Sequences were given up whose content (unknown) only anti-entropy brings. */
    boolean hasSkipped() {
        return skippedFrom != 0;
    }

    boolean isEmpty() {
        return wanted.isEmpty() && skippedFrom == 0;
    }

    /**
     * Forgets the sessions the table now holds at the version wanted or one that beats it (a
     * repair, a whole delta or a re-send brought it), and those wanted for longer than
     * {@code giveUpMs}: the sender, still in the view, re-sends a session it holds within a round
     * trip of being asked, so one it has not re-sent by then it no longer holds (it expired
     * there); waiting for it would only make every later sync write of that sender time out here.
     *
     * @return how many were forgotten
     */
    int resolve(SessionTable table, long nowMs, long giveUpMs, List<String> givenUp) {
        int resolved = 0;
        Iterator<Map.Entry<String, Wanted>> it = wanted.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, Wanted> e = it.next();
            Wanted w = e.getValue();
            boolean held = table.holdsAtLeast(e.getKey(), w.version(), w.writer());
            if (held || nowMs - w.sinceMs() > giveUpMs) {
                if (!held) {
                    givenUp.add(e.getKey());
                }
                it.remove();
                resolved++;
            }
        }
        return resolved;
    }

    /**
     * Forgets the given-up sequences once a pull from the sender that started at or after they
     * were given up has succeeded ({@code pulledSince}), or after {@code giveUpMs}.
     *
     * @return true when they were forgotten
     */
    boolean resolveSkipped(LongPredicate pulledSince, long nowMs, long giveUpMs) {
        if (skippedFrom == 0 || !(pulledSince.test(skippedSinceMs) || nowMs - skippedSinceMs > giveUpMs)) {
            return false;
        }
        skippedFrom = 0;
        return true;
    }

    /** Every delta up to this sequence is applied here, given what was delivered. */
    long appliedThrough(long deliveredThrough) {
        long through = skippedFrom == 0 ? deliveredThrough : Math.min(deliveredThrough, skippedFrom - 1);
        for (Wanted w : wanted.values()) {
            through = Math.min(through, w.sequence() - 1);
        }
        return through;
    }

    /** The sender was asked to re-send less than {@code intervalMs} ago: ask again only after. */
    boolean askDue(long nowMs, long intervalMs) {
        return !wanted.isEmpty() && nowMs - lastAskedMs >= intervalMs;
    }

    /** The sessions to ask the sender for, as many as fit {@code maxBytes} of an ACK. */
    List<String> ask(long nowMs, int maxBytes) {
        lastAskedMs = nowMs;
        List<String> ids = new ArrayList<>();
        int bytes = 0;
        for (String id : wanted.keySet()) {
            bytes += 1 + CodedOutputStream.computeStringSizeNoTag(id);
            if (bytes > maxBytes) {
                break;
            }
            ids.add(id);
        }
        return ids;
    }
}
