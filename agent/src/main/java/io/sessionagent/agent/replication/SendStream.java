package io.sessionagent.agent.replication;

import com.google.protobuf.CodedOutputStream;
import io.sessionagent.agent.membership.Member;
import io.sessionagent.agent.membership.Membership;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.metrics.Histograms;
import io.sessionagent.agent.metrics.SyncOutcome;
import io.sessionagent.agent.transport.Fragments;
import io.sessionagent.agent.transport.Frame;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.agent.transport.Transport;
import io.sessionagent.proto.v1.Access;
import io.sessionagent.proto.v1.Ack;
import io.sessionagent.proto.v1.DataBatch;
import io.sessionagent.proto.v1.DataEntry;
import io.sessionagent.proto.v1.Gone;
import io.sessionagent.proto.v1.Nak;
import io.sessionagent.proto.v1.ReceiveDigest;
import io.sessionagent.proto.v1.ReplicatedDelta;
import io.sessionagent.proto.v1.SeqRange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * This member's reliable stream: local changes batched into sequenced DATA frames, kept for
 * retransmission until every member has them, and the sync writes waiting for acknowledgements.
 *
 * <p>Writers on any thread only queue ({@link #replicate}, {@link #touch}); everything else is
 * confined to the protocol thread.
 */
final class SendStream {
    private static final Logger log = LoggerFactory.getLogger(SendStream.class);
    private static final int MAX_RETRANSMITS_PER_NAK = 1024;
    /** Datagrams handed over at once at most, so that a long flush starts sending before it ends. */
    private static final int MAX_DATAGRAMS_PER_HANDOFF = 64;

    private final FrameCodec codec;
    private final Transport transport;
    private final ControlSender control;
    private final long selfId;
    private final long incarnation;
    private final LocalMember local;
    private final Membership membership;
    private final Counters counters;
    private final Histograms histograms;
    private final LongSupplier clockMs;
    private final Executor loop;

    // Shared with writer threads.
    private final ConcurrentLinkedQueue<Outgoing> outgoing = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final ConcurrentHashMap<String, Long> pendingTouches = new ConcurrentHashMap<>();

    private final RetransmitBuffer sent;
    /** Member id → highest sequence of this incarnation it has delivered: what it no longer needs resent. */
    private final Map<Long, Long> ackedThrough = new HashMap<>();
    /**
     * Member id → highest sequence of this incarnation through which it has applied every delta:
     * what sync writes wait for. Below {@link #ackedThrough} while the member repairs a session.
     */
    private final Map<Long, Long> appliedThrough = new HashMap<>();
    /** An entry of the batch being built asks for an ACK at once (a session re-sent whole). */
    private boolean ackWanted;
    private final ArrayDeque<SyncWaiter> waiters = new ArrayDeque<>();
    private final List<SyncWaiter> unsentWaiters = new ArrayList<>();
    /**
     * Batches sent and not yet acknowledged by every ready replica, oldest first, as {last sequence,
     * commit time of its oldest delta}: what the unacknowledged age is read from. Bounded like the
     * retransmit buffer's frames.
     */
    private final ArrayDeque<long[]> unacked = new ArrayDeque<>();
    private final int maxUnacked;

    /** Datagrams of the current flush, handed to the transport together at its end. */
    private final List<byte[]> datagrams = new ArrayList<>();

    /**
     * A delta to send, a waiter to place behind the deltas queued before it, or both; {@code ackWanted}
     * for a delta a replica waits for although no local write does.
     */
    private record Outgoing(DataEntry entry, long committedAtMs, SyncWaiter waiter, boolean ackWanted) {
    }

    SendStream(ReplicationSettings settings, FrameCodec codec, Transport transport, ControlSender control,
               LocalMember local, Membership membership, Counters counters, Histograms histograms,
               LongSupplier clockMs, Executor loop) {
        this.codec = codec;
        this.transport = transport;
        this.control = control;
        this.selfId = settings.selfId();
        this.incarnation = settings.incarnation();
        this.local = local;
        this.membership = membership;
        this.counters = counters;
        this.histograms = histograms;
        this.clockMs = clockMs;
        this.loop = loop;
        this.sent = new RetransmitBuffer(settings.retransmitBufferFrames(), settings.retransmitBufferBytes());
        this.maxUnacked = settings.retransmitBufferFrames();
    }

    // ---------------------------------------------------------------- any thread

    /** See {@link Replicator#replicate}. */
    void replicate(ReplicatedDelta delta, SyncWaiter waiter) {
        outgoing.add(new Outgoing(DataEntry.newBuilder().setDelta(delta).build(), delta.getWrittenAtMs(), waiter,
                false));
        scheduleFlush();
    }

    /**
     * Queues a session re-sent whole because a replica could not apply its delta: in the stream's
     * order like any delta, in a batch that asks for an ACK at once, since sync writes may wait
     * for that replica. Called inside the table's critical section for the session.
     */
    void resend(ReplicatedDelta whole) {
        outgoing.add(new Outgoing(DataEntry.newBuilder().setDelta(whole).build(), 0, null, true));
        scheduleFlush();
    }

    /** See {@link Replicator#awaitReplicas}. */
    void awaitReplicas(SyncWaiter waiter) {
        outgoing.add(new Outgoing(null, 0, waiter, false));
        scheduleFlush();
    }

    /** See {@link Replicator#touch}. */
    void touch(String id, long accessMs) {
        pendingTouches.merge(id, accessMs, Math::max);
    }

    private void scheduleFlush() {
        if (flushScheduled.compareAndSet(false, true)) {
            loop.execute(this::flush);
        }
    }

    // ---------------------------------------------------------------- sending

    /** Sends everything queued, as few batches as fit a datagram each (or fragment). */
    void flush() {
        flushScheduled.set(false);
        int budget = codec.maxBodyBytes();
        DataBatch.Builder batch = DataBatch.newBuilder();
        int size = 0;
        long oldestCommit = Long.MAX_VALUE;
        Outgoing o;
        while ((o = outgoing.poll()) != null) {
            if (o.entry != null) {
                int entrySize = o.entry.getSerializedSize();
                int framed = 1 + CodedOutputStream.computeUInt32SizeNoTag(entrySize) + entrySize;
                if (size > 0 && size + framed > budget) {
                    sendBatch(batch, oldestCommit);
                    if (datagrams.size() >= MAX_DATAGRAMS_PER_HANDOFF) {
                        transmit();
                    }
                    batch = DataBatch.newBuilder();
                    size = 0;
                    oldestCommit = Long.MAX_VALUE;
                }
                batch.addEntries(o.entry);
                size += framed;
                ackWanted |= o.ackWanted;
                if (o.committedAtMs > 0) {
                    oldestCommit = Math.min(oldestCommit, o.committedAtMs);
                }
            }
            if (o.waiter != null) {
                unsentWaiters.add(o.waiter);
            }
        }
        if (batch.getEntriesCount() > 0) {
            sendBatch(batch, oldestCommit);
            transmit();
        } else if (!unsentWaiters.isEmpty()) {
            // Their deltas left in the batches sent before (or were discarded with replication off).
            if (local.replicationEnabled()) {
                placeWaiters(clockMs.getAsLong());
            } else {
                completeUnsentWithoutReplicas();
            }
        }
    }

    /** Queues the accesses noted since the last call, one per session, and sends them. */
    void flushTouches() {
        if (pendingTouches.isEmpty()) {
            return;
        }
        for (String id : List.copyOf(pendingTouches.keySet())) {
            Long at = pendingTouches.remove(id);
            if (at != null) {
                outgoing.add(new Outgoing(DataEntry.newBuilder()
                        .setTouch(Access.newBuilder().setId(id).setAccessTimeMs(at)).build(), 0, null, false));
            }
        }
        flush();
    }

    /** @param oldestCommit commit time of the batch's oldest delta; {@code Long.MAX_VALUE} for none */
    private void sendBatch(DataBatch.Builder batch, long oldestCommit) {
        long now = clockMs.getAsLong();
        // A write waits for what this batch carries (or for earlier batches of this flush): ask for
        // the ACK at once rather than at the receivers' next tick.
        batch.setAckRequested(urgentWaiter() || ackWanted);
        ackWanted = false;
        if (!local.replicationEnabled()) {
            completeUnsentWithoutReplicas();
            return;
        }
        DataBatch built = batch.build();
        int size = built.getSerializedSize();
        if (size <= codec.maxBodyBytes()) {
            // One datagram: the batch is encoded straight into it.
            long seq = sent.highestSent() + 1;
            byte[] raw = codec.encode(FrameType.DATA, selfId, incarnation, seq, 0, 1, size,
                    (out, at) -> writeInto(built, out, at, size));
            sent.add(seq, raw);
            datagrams.add(raw);
            counters.increment(Counter.FRAMES_SENT);
            sent(batch, oldestCommit, now, 1);
            return;
        }
        byte[] payload = built.toByteArray();
        int chunk = codec.maxBodyBytes();
        List<int[]> ranges = Fragments.ranges(payload.length, chunk);
        if (ranges.size() > Fragments.MAX_FRAGMENTS) {
            // Only a session far above any sane max-session-bytes gets here; peers repair it by
            // fetching the record, which has no datagram limit.
            log.error("batch of {} bytes needs more than {} fragments; left to repair", payload.length,
                    Fragments.MAX_FRAGMENTS);
            for (SyncWaiter w : unsentWaiters) {
                w.complete(0, true, false);
            }
            unsentWaiters.clear();
            return;
        }
        for (int i = 0; i < ranges.size(); i++) {
            long seq = sent.highestSent() + 1;
            byte[] raw = codec.encode(FrameType.DATA, selfId, incarnation, seq, i, ranges.size(), payload,
                    ranges.get(i)[0], ranges.get(i)[1]);
            sent.add(seq, raw);
            datagrams.add(raw);
            counters.increment(Counter.FRAMES_SENT);
        }
        sent(batch, oldestCommit, now, ranges.size());
    }

    private static void writeInto(DataBatch batch, byte[] out, int at, int size) {
        CodedOutputStream o = CodedOutputStream.newInstance(out, at, size);
        try {
            batch.writeTo(o);
        } catch (IOException e) {
            throw new IllegalStateException("a batch does not fit the size it announced", e);
        }
        o.checkNoSpaceLeft();
    }

    /** Counts a batch that left in {@code fragments} datagrams and places the waiters behind it. */
    private void sent(DataBatch.Builder batch, long oldestCommit, long now, int fragments) {
        counters.increment(Counter.BATCHES_SENT);
        if (fragments > 1) {
            counters.increment(Counter.FRAGMENTED_BATCHES_SENT);
        }
        int deltas = 0;
        for (DataEntry e : batch.getEntriesList()) {
            deltas += e.hasDelta() ? 1 : 0;
        }
        counters.add(Counter.DELTAS_SENT, deltas);
        counters.add(Counter.TOUCHES_SENT, batch.getEntriesCount() - deltas);
        if (oldestCommit != Long.MAX_VALUE) {
            if (unacked.size() >= maxUnacked) {
                unacked.poll();
            }
            unacked.add(new long[] {sent.highestSent(), oldestCommit});
        }
        placeWaiters(now);
    }

    /** Hands the datagrams made so far to the transport, in sequence order, as one hand-off. */
    private void transmit() {
        if (!datagrams.isEmpty()) {
            List<byte[]> handOff = List.copyOf(datagrams);
            // Cleared first: datagrams a failing transport did not take are in the retransmit buffer
            // and repaired like any loss, not sent again with the next flush.
            datagrams.clear();
            transport.sendAll(handOff);
        }
    }

    /** Replication is off: what was queued is not sent, and the writes waiting for it are told so. */
    private void completeUnsentWithoutReplicas() {
        for (SyncWaiter w : unsentWaiters) {
            w.complete(0, false, true);
        }
        unsentWaiters.clear();
    }

    /** The waiters queued so far wait for everything sent until now. */
    private void placeWaiters(long now) {
        for (SyncWaiter w : unsentWaiters) {
            w.sequence = sent.highestSent();
            w.sentAtMs = now;
            waiters.add(w);
        }
        unsentWaiters.clear();
        completeWaiters(now);
    }

    // ---------------------------------------------------------------- repair and stability

    void onNak(long requester, Nak nak) {
        if (nak.getTargetMember() != selfId || nak.getTargetIncarnation() != incarnation) {
            return;
        }
        counters.increment(Counter.NAKS_RECEIVED);
        int budget = MAX_RETRANSMITS_PER_NAK;
        boolean gone = false;
        for (SeqRange r : nak.getMissingList()) {
            long to = Math.min(r.getTo(), sent.highestSent());
            if (r.getFrom() < sent.lowestRetained() && r.getFrom() <= to) {
                gone = true;
            }
            for (long seq = Math.max(r.getFrom(), sent.lowestRetained()); seq <= to && budget > 0; seq++) {
                byte[] raw = sent.get(seq);
                if (raw == null) {
                    continue;
                }
                datagrams.add(raw);
                counters.increment(Counter.RETRANSMITS_SENT);
                counters.increment(Counter.FRAMES_SENT);
                budget--;
            }
        }
        transmit();
        if (gone) {
            // Every receiver that misses the same range skips it; it is multicast for that reason.
            control.send(FrameType.GONE, Gone.newBuilder().setRequester(requester).setLowestRetained(
                    sent.lowestRetained()).build().toByteArray());
            counters.increment(Counter.GONE_SENT);
        }
    }

    void onAck(Frame f, Ack ack) {
        if (ack.getTargetMember() != selfId || ack.getTargetIncarnation() != incarnation) {
            return;
        }
        ackedThrough.merge(f.memberId(), ack.getDeliveredThrough(), Math::max);
        appliedThrough.merge(f.memberId(), ack.hasAppliedThrough() ? ack.getAppliedThrough()
                : ack.getDeliveredThrough(), Math::max);
        completeWaiters(clockMs.getAsLong());
        releaseStable();
    }

    /** A heartbeat's digests: what its sender has delivered of this incarnation's stream. */
    void onDigests(long sender, List<ReceiveDigest> digests) {
        for (ReceiveDigest d : digests) {
            if (d.getMemberId() == selfId && d.getIncarnation() == incarnation) {
                ackedThrough.merge(sender, d.getDeliveredThrough(), Math::max);
                // An agent that predates applied_through applied what it delivered, as far as it knows.
                appliedThrough.merge(sender, d.hasAppliedThrough() ? d.getAppliedThrough() : d.getDeliveredThrough(),
                        Math::max);
            }
        }
    }

    /** Frees what every member in the view has delivered. */
    void releaseStable() {
        long stable = sent.highestSent();
        for (Member m : membership.members()) {
            stable = Math.min(stable, ackedThrough.getOrDefault(m.id(), 0L));
        }
        sent.releaseThrough(stable);
        long replicated = replicatedThrough();
        while (!unacked.isEmpty() && unacked.peek()[0] <= replicated) {
            unacked.poll();
        }
    }

    /**
     * How long the oldest change sent has waited for a ready replica to acknowledge it, in ms;
     * 0 when every ready replica has everything (or there is none).
     */
    long unackedAgeMs(long now) {
        releaseStable();
        long[] oldest = unacked.peek();
        return oldest == null ? 0 : Math.max(0, now - oldest[1]);
    }

    /** The highest sequence every ready replica with replication on has applied. */
    private long replicatedThrough() {
        long through = sent.highestSent();
        for (Member m : membership.members()) {
            if (m.isReady() && m.replicationEnabled()) {
                through = Math.min(through, appliedThrough.getOrDefault(m.id(), 0L));
            }
        }
        return through;
    }

    /** A member left the view: it no longer holds frames back, and sync writes stop waiting for it. */
    void forget(long memberId) {
        ackedThrough.remove(memberId);
        appliedThrough.remove(memberId);
        completeWaiters(clockMs.getAsLong());
    }

    // ---------------------------------------------------------------- sync writes

    /** Answers each sync write that has its acknowledgements, has no one to wait for, or has waited long enough. */
    void completeWaiters(long now) {
        Iterator<SyncWaiter> it = waiters.iterator();
        while (it.hasNext()) {
            SyncWaiter w = it.next();
            int readyMembers = 0;
            int acks = 0;
            for (Member m : membership.members()) {
                if (m.isReady() && m.replicationEnabled()) {
                    readyMembers++;
                    if (appliedThrough.getOrDefault(m.id(), 0L) >= w.sequence) {
                        acks++;
                    }
                }
            }
            if (readyMembers == 0) {
                w.complete(0, false, true);
                record(w, SyncOutcome.NO_REPLICAS, now);
                it.remove();
            } else if (acks >= (w.all ? readyMembers : 1)) {
                w.complete(acks, false, false);
                record(w, SyncOutcome.REPLICATED, now);
                it.remove();
            } else if (now >= w.deadlineMs) {
                counters.increment(Counter.SYNC_TIMEOUTS);
                w.complete(acks, true, false);
                record(w, SyncOutcome.TIMEOUT, now);
                it.remove();
            }
        }
    }

    /** Only a wait someone waits on: the others wait for the receivers' tick by design. */
    private void record(SyncWaiter w, SyncOutcome outcome, long now) {
        if (w.urgent) {
            histograms.syncAck(outcome, now - w.sentAtMs);
        }
    }

    private boolean urgentWaiter() {
        for (SyncWaiter w : unsentWaiters) {
            if (w.urgent) {
                return true;
            }
        }
        return false;
    }

    /** On leaving: no acknowledgement can arrive any more, so every open sync write is answered as timed out. */
    void abandonWaiters() {
        for (SyncWaiter w : waiters) {
            w.complete(0, true, false);
        }
        waiters.clear();
    }

    // ---------------------------------------------------------------- what heartbeats and metrics read

    long highestSent() {
        return sent.highestSent();
    }

    long lowestRetained() {
        return sent.lowestRetained();
    }

    int retransmitFrames() {
        return sent.size();
    }

    long retransmitBytes() {
        return sent.bytes();
    }
}
