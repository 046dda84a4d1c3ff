package io.sessionagent.agent.replication;

import com.google.protobuf.InvalidProtocolBufferException;
import io.sessionagent.agent.membership.Member;
import io.sessionagent.agent.membership.Membership;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.transport.Fragments;
import io.sessionagent.agent.transport.Frame;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.proto.v1.Ack;
import io.sessionagent.proto.v1.DataBatch;
import io.sessionagent.proto.v1.Gone;
import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.Nak;
import io.sessionagent.proto.v1.ReceiveDigest;
import io.sessionagent.proto.v1.SeqRange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The other members' reliable streams, one per sender: frames delivered in order, holes asked for
 * by NAK, ranges the sender no longer holds skipped and left to anti-entropy, batches handed to
 * the join buffer or the table, and one ACK per sender for each burst of data delivered. Confined
 * to the protocol thread.
 */
final class ReceiveStreams {
    private static final Logger log = LoggerFactory.getLogger(ReceiveStreams.class);
    private static final int MAX_NAK_RANGES = 64;
    /** Bytes of one encoded SeqRange at most (two 10-byte varints, tags and length). */
    private static final int NAK_RANGE_BYTES = 24;

    private final ReplicationSettings s;
    private final ControlSender control;
    private final LocalMember local;
    private final Membership membership;
    private final JoinBuffer joinBuffer;
    private final DeltaApplier applier;
    private final AntiEntropyScheduler antiEntropy;
    private final SessionTable table;
    private final Counters counters;
    private final LongSupplier clockMs;
    private final Map<Long, Stream> streams = new HashMap<>();

    /** The reliable stream from one incarnation of one member, and its fragment joiner. */
    private static final class Stream {
        final long incarnation;
        final ReceiveWindow window;
        final Fragments.Joiner joiner = new Fragments.Joiner();
        final UnappliedDeltas unapplied = new UnappliedDeltas();
        /** Data was delivered since the last ACK. */
        boolean ackDue;
        /** A delivered batch asked to be acknowledged without waiting for the tick. */
        boolean ackRequested;

        Stream(long incarnation, ReceiveWindow window) {
            this.incarnation = incarnation;
            this.window = window;
        }
    }

    ReceiveStreams(ReplicationSettings settings, ControlSender control, LocalMember local, Membership membership,
                   JoinBuffer joinBuffer, DeltaApplier applier, AntiEntropyScheduler antiEntropy, SessionTable table,
                   Counters counters, LongSupplier clockMs) {
        this.s = settings;
        this.control = control;
        this.local = local;
        this.membership = membership;
        this.joinBuffer = joinBuffer;
        this.applier = applier;
        this.antiEntropy = antiEntropy;
        this.table = table;
        this.counters = counters;
        this.clockMs = clockMs;
    }

    /**
     * The stream of a sender, created at first contact. Where it starts only matters for what
     * the sender sent before this agent heard of it, and anti-entropy covers that.
     */
    private Stream streamFor(long memberId, long incarnation, long firstSequence) {
        Stream st = streams.get(memberId);
        if (st != null && st.incarnation == incarnation) {
            return st;
        }
        if (st != null && st.incarnation > incarnation) {
            return null;
        }
        if (st != null) {
            // The member restarted: its former run will never fill the holes.
            releaseHeld(memberId, st, "restarted");
        }
        st = new Stream(incarnation, new ReceiveWindow(Math.max(1, firstSequence), s.receiveBufferFrames()));
        streams.put(memberId, st);
        return st;
    }

    /**
     * A heartbeat announces the end of the sender's stream, so a lost tail is noticed, and the
     * start of what it still holds, so a receiver skips what is gone without asking.
     */
    void onHeartbeat(Frame f, Heartbeat hb, long now) {
        Stream st = streamFor(f.memberId(), f.incarnation(), hb.getHighestSent() + 1);
        if (st != null) {
            st.window.noteHighestSent(hb.getHighestSent(), now);
            skipGone(f.memberId(), st, hb.getLowestRetained());
        }
    }

    void onData(Frame f, long now) {
        if (membership.get(f.memberId()) == null) {
            // A stream opens only for a member whose heartbeat put it in the view: otherwise every
            // forged or stray member id would leave a window behind that no failure detection
            // removes. A real member's data sent before its first heartbeat is what anti-entropy
            // covers anyway (see streamFor).
            counters.increment(Counter.FRAMES_DROPPED_UNKNOWN_MEMBER);
            return;
        }
        // A first contact in the middle of a fragmented batch starts at the batch's first fragment.
        Stream st = streamFor(f.memberId(), f.incarnation(), f.sequence() - f.fragmentIndex());
        if (st == null) {
            return;
        }
        List<Frame> deliverable = new ArrayList<>();
        ReceiveWindow.Offer offer = st.window.offer(f, now, deliverable);
        switch (offer) {
            case DUPLICATE -> counters.increment(Counter.FRAMES_DUPLICATE);
            case WINDOW_FULL -> counters.increment(Counter.FRAMES_DROPPED_WINDOW_FULL);
            case BUFFERED -> {
                if (st.window.buffered() == 1) {
                    counters.increment(Counter.GAPS_DETECTED);
                }
            }
            default -> {
            }
        }
        deliver(f.memberId(), st, deliverable);
    }

    private void deliver(long sender, Stream st, List<Frame> frames) {
        if (!frames.isEmpty()) {
            st.ackDue = true;
        }
        for (Frame d : frames) {
            byte[] payload = st.joiner.accept(d.fragmentIndex(), d.fragmentCount(), d.body());
            if (payload == null) {
                continue;
            }
            DataBatch batch;
            try {
                batch = DataBatch.parseFrom(payload);
            } catch (InvalidProtocolBufferException e) {
                counters.increment(Counter.FRAMES_DROPPED_MALFORMED);
                continue;
            }
            st.ackRequested |= batch.getAckRequested();
            long sequence = d.sequence();
            if (local.isJoining()) {
                if (!joinBuffer.add(sender, st.incarnation, sequence, batch)) {
                    // Not kept: what it carried comes only with the anti-entropy runs after the join.
                    st.unapplied.skipped(sequence, clockMs.getAsLong());
                }
            } else if (local.replicationEnabled()) {
                applier.apply(sender, batch, delta -> st.unapplied.add(delta, sequence, clockMs.getAsLong()));
            } else {
                // Dropped: anti-entropy brings it once replication is switched on again.
                st.unapplied.skipped(sequence, clockMs.getAsLong());
            }
        }
    }

    /**
     * Acknowledges what was delivered and what of it is applied, one ACK per sender: the
     * replicator calls this with {@code requestedOnly} once the queued frames are handled, so that
     * a burst a write waits for costs one ACK, and at every tick for everything else. While a
     * delta of a stream is not applied, its ACK names the session (every nak-interval) so that the
     * sender re-sends it whole, and once the table holds it an ACK says so. A joining agent or one
     * with replication off applies nothing and acknowledges nothing.
     */
    void sendAcks(boolean requestedOnly) {
        long now = clockMs.getAsLong();
        for (Map.Entry<Long, Stream> e : streams.entrySet()) {
            Stream st = e.getValue();
            long sender = e.getKey();
            // Joining or with replication off, nothing is applied, so nothing can be found applied.
            if (!st.unapplied.isEmpty() && local.isReady() && local.replicationEnabled()) {
                boolean resolved = resolveUnapplied(sender, st, now) > 0;
                resolved |= st.unapplied.resolveSkipped(since -> antiEntropy.pulledSince(sender, since), now,
                        s.failureTimeoutMs());
                // A sync write of the sender may wait for exactly this.
                st.ackDue |= resolved;
            }
            boolean ask = st.unapplied.askDue(now, s.nakIntervalMs());
            boolean due = requestedOnly ? st.ackDue && st.ackRequested : st.ackDue || ask;
            if (!due) {
                continue;
            }
            st.ackDue = false;
            st.ackRequested = false;
            if (local.isReady() && local.replicationEnabled()) {
                long delivered = st.window.deliveredThrough();
                Ack.Builder ack = Ack.newBuilder().setTargetMember(e.getKey()).setTargetIncarnation(st.incarnation)
                        .setDeliveredThrough(delivered).setAppliedThrough(st.unapplied.appliedThrough(delivered));
                if (ask) {
                    ack.addAllUnapplied(st.unapplied.ask(now, control.maxBodyBytes() - ack.build().getSerializedSize()));
                }
                control.send(FrameType.ACK, ack.build().toByteArray());
                counters.increment(Counter.ACKS_SENT);
            }
        }
    }

    /** Forgets the unapplied deltas of a stream that the table now holds, or that waited too long. */
    private int resolveUnapplied(long sender, Stream st, long now) {
        List<String> givenUp = new ArrayList<>();
        int resolved = st.unapplied.resolve(table, now, s.failureTimeoutMs(), givenUp);
        if (!givenUp.isEmpty()) {
            log.warn("{} did not re-send {} sessions within {} ms ({}...); acknowledging past them",
                    Long.toHexString(sender), givenUp.size(), s.failureTimeoutMs(), givenUp.get(0));
        }
        return resolved;
    }

    void onGone(Frame f, Gone gone) {
        Stream st = streams.get(f.memberId());
        if (st != null && st.incarnation == f.incarnation()) {
            skipGone(f.memberId(), st, gone.getLowestRetained());
        }
    }

    /**
     * The sender no longer holds anything below {@code lowestRetained}: stop waiting for it,
     * deliver what follows, and repair the skipped part by anti-entropy with that sender.
     */
    private void skipGone(long sender, Stream st, long lowestRetained) {
        if (st.window.deliveredThrough() + 1 >= lowestRetained) {
            return;
        }
        List<Frame> deliverable = new ArrayList<>();
        long firstSkipped = st.window.deliveredThrough() + 1;
        long skipped = st.window.skipTo(lowestRetained, deliverable);
        if (skipped > 0) {
            st.unapplied.skipped(firstSkipped, clockMs.getAsLong());
        }
        counters.add(Counter.GAPS_UNRECOVERABLE, skipped);
        log.info("{} sequences from {} are gone from its buffer; repairing by anti-entropy", skipped,
                Long.toHexString(sender));
        deliver(sender, st, deliverable);
        if (local.isJoining()) {
            // Anti-entropy waits for READY; then it must include every member, the source too.
            joinBuffer.noteLostData();
        }
        Member m = membership.get(sender);
        if (m != null) {
            antiEntropy.request(m);
        }
    }

    /** Asks each sender whose gap is due for what is missing, in one datagram. */
    void sendNaks(long now) {
        for (Map.Entry<Long, Stream> e : streams.entrySet()) {
            ReceiveWindow w = e.getValue().window;
            if (w.nakDue(now, s.tickMs(), s.nakIntervalMs())) {
                List<SeqRange> missing = w.missing(Math.min(MAX_NAK_RANGES,
                        (control.maxBodyBytes() - 2 * NAK_RANGE_BYTES) / NAK_RANGE_BYTES));
                if (missing.isEmpty()) {
                    continue;
                }
                control.send(FrameType.NAK, Nak.newBuilder().setTargetMember(e.getKey())
                        .setTargetIncarnation(e.getValue().incarnation).addAllMissing(missing).build().toByteArray());
                w.nakSent(now);
                counters.increment(Counter.NAKS_SENT);
            }
        }
    }

    /** What this agent has delivered of each stream, for heartbeats, so senders can free their buffers. */
    List<ReceiveDigest> digests() {
        List<ReceiveDigest> all = new ArrayList<>(streams.size());
        for (Map.Entry<Long, Stream> e : streams.entrySet()) {
            long delivered = e.getValue().window.deliveredThrough();
            // A joining agent only keeps what it receives, and one with replication off drops it.
            long applied = local.isReady() && local.replicationEnabled()
                    ? e.getValue().unapplied.appliedThrough(delivered) : 0;
            all.add(ReceiveDigest.newBuilder().setMemberId(e.getKey()).setIncarnation(e.getValue().incarnation)
                    .setDeliveredThrough(delivered).setAppliedThrough(applied).build());
        }
        return all;
    }

    /**
     * The state transfer is over: applies what the join buffer kept, in arrival order (with
     * replication off it is dropped), each delta that cannot be applied holding its stream's
     * acknowledgement back like any other.
     */
    void endJoin() {
        long now = clockMs.getAsLong();
        for (JoinBuffer.Entry e : joinBuffer.entries()) {
            Stream st = streams.get(e.sender());
            UnappliedDeltas unapplied = st != null && st.incarnation == e.incarnation() ? st.unapplied
                    : new UnappliedDeltas();
            if (local.replicationEnabled()) {
                applier.apply(e.sender(), e.batch(), d -> unapplied.add(d, e.sequence(), now));
            } else {
                unapplied.skipped(e.sequence(), now);
            }
        }
        startApplying(now);
    }

    /**
     * This agent applies from now on (it became READY, or replication was switched on): what it
     * gave up before is covered only by anti-entropy runs that start now, so the time allowed for
     * them counts from now.
     */
    void startApplying(long now) {
        streams.values().forEach(st -> st.unapplied.restartGiveUpClock(now));
    }

    /** How far one sender's stream was known to reach at a moment. */
    record StreamMark(long memberId, long incarnation, long highestKnown) {
    }

    /** Where every stream stands now: the highest sequence known to exist, per sender. */
    List<StreamMark> mark() {
        List<StreamMark> mark = new ArrayList<>(streams.size());
        streams.forEach((id, st) -> mark.add(new StreamMark(id, st.incarnation, st.window.highestKnown())));
        return mark;
    }

    /**
     * True when this agent has applied, as far as it can know, everything of session {@code id}
     * that its senders had sent by {@code mark}: every stream delivered up to its mark (a stream
     * gone since released what it held, see {@link #forget}), no delivered delta of the session
     * waits for a base or a re-send, and no given-up sequences (whose content is unknown) wait for
     * anti-entropy.
     */
    boolean reached(List<StreamMark> mark, String id) {
        for (StreamMark m : mark) {
            Stream st = streams.get(m.memberId());
            if (st != null && st.incarnation == m.incarnation() && st.window.deliveredThrough() < m.highestKnown()) {
                return false;
            }
        }
        for (Stream st : streams.values()) {
            if (st.unapplied.wants(id) || st.unapplied.hasSkipped()) {
                return false;
            }
        }
        return true;
    }

    /** A member left the view; if it comes back, its stream starts afresh. */
    void forget(long memberId) {
        Stream st = streams.remove(memberId);
        if (st != null) {
            releaseHeld(memberId, st, "left the view");
        }
    }

    /**
     * Delivers, in order, the frames of a sender that can no longer fill the holes before them
     * (it left, failed or restarted). They were received, and each delta is as good as when it
     * arrived: the apply rule takes what builds on what the table holds, and what does not is
     * repaired from another member, like any gap.
     */
    private void releaseHeld(long sender, Stream st, String why) {
        List<Frame> held = new ArrayList<>();
        long skipped = st.window.releaseHeld(held);
        if (held.isEmpty()) {
            return;
        }
        counters.add(Counter.GAPS_UNRECOVERABLE, skipped);
        log.info("{} {}: delivering the {} frames it sent after {} lost sequences", Long.toHexString(sender), why,
                held.size(), skipped);
        deliver(sender, st, held);
    }
}
