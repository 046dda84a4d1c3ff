package io.sessionagent.agent.replication;

import com.google.protobuf.InvalidProtocolBufferException;
import io.sessionagent.agent.membership.Member;
import io.sessionagent.agent.membership.MemberSnapshot;
import io.sessionagent.agent.membership.Membership;
import io.sessionagent.agent.membership.MembershipChange;
import io.sessionagent.agent.membership.View;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.metrics.Histograms;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.transport.DropReason;
import io.sessionagent.agent.transport.Frame;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameException;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.agent.transport.Transport;
import io.sessionagent.proto.v1.Ack;
import io.sessionagent.proto.v1.Gone;
import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.Leave;
import io.sessionagent.proto.v1.MemberState;
import io.sessionagent.proto.v1.Nak;
import io.sessionagent.proto.v1.ReplicatedDelta;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The replication protocol of one agent: sends local changes to the group in sequence, delivers
 * other members' changes in order (NAK-based repair, as JGroups NAKACK2 and Aeron do), keeps the
 * view, joins by state transfer and heals divergence by anti-entropy.
 *
 * <p>This class wires the parts together and dispatches to them: each frame by its type, the
 * timers at every tick, membership events, and the calls of the rest of the agent. The parts are
 * {@link SendStream}, {@link ReceiveStreams}, {@link Heartbeats}, {@link Join}, {@link Repairs}
 * and {@link AntiEntropyScheduler}.
 *
 * <p>Every piece of protocol state is confined to one thread, the protocol loop; other threads
 * only enqueue work for it. Blocking calls to peers run on a separate executor and post their
 * results back to the loop.
 */
public final class Replicator implements Transport.Receiver, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Replicator.class);
    private static final int MAX_JOIN_BUFFER = 100_000;
    private static final int MAX_INBOUND_QUEUE = 50_000;
    private static final long PEER_CALL_TIMEOUT_MS = 30_000;
    /** Data frames handled at most before the ACKs they earned go out, under a stream that never pauses. */
    private static final int ACK_EVERY_FRAMES = 16;

    private final ReplicationSettings s;
    private final FrameCodec codec;
    private final Transport transport;
    private final SessionTable table;
    private final Membership membership;
    private final PeerClients peers;
    private final Counters counters;
    private final LongSupplier clockMs;
    private final ScheduledExecutorService loop;
    private final ExecutorService peerIo;
    private final ProtocolErrors errors;

    private final LocalMember local;
    private final AntiEntropyScheduler antiEntropy;
    private final Repairs repairs;
    private final SendStream send;
    private final ReceiveStreams receive;
    private final Heartbeats heartbeats;
    private final Join join;

    /** Frames posted to the protocol thread and not yet handled. */
    private final AtomicInteger inbound = new AtomicInteger();
    /** Data frames handled since the last ACKs were sent; protocol thread. */
    private int dataSinceAck;
    /** The protocol thread, once it ran its first task: datagrams read on it are handled at once. */
    private volatile Thread loopThread;
    private long lastTouchFlushMs;
    private long lastExpiryMs;
    private long lastAntiEntropyMs;
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    /** Reads waiting for this agent to apply what it received; protocol thread. */
    private final List<CatchUp> catchUps = new ArrayList<>();

    /** A read of session {@code id} that waits until the streams reached {@code mark}. */
    private record CatchUp(String id, List<ReceiveStreams.StreamMark> mark, long deadlineMs,
                           CompletableFuture<Boolean> done) {
    }

    public Replicator(ReplicationSettings settings, FrameCodec codec, Transport transport, SessionTable table,
                      PeerClients peers, Counters counters, Histograms histograms, LongSupplier clockMs,
                      ScheduledExecutorService loop, ExecutorService peerIo) {
        this.s = settings;
        this.codec = codec;
        this.transport = transport;
        this.table = table;
        this.membership = new Membership(settings.selfId(), settings.failureTimeoutMs());
        this.peers = peers;
        this.counters = counters;
        this.clockMs = clockMs;
        this.loop = loop;
        this.peerIo = peerIo;
        this.errors = new ProtocolErrors(counters, log);
        table.observeDiscardedBranches(new DiscardedBranches(counters, clockMs, log)::report);
        Executor peerResults = errors.guard(loop, "handling a peer call's result");
        this.local = new LocalMember(settings.replicationEnabled());
        ControlSender control = new ControlSender(codec, transport, settings.selfId(), settings.incarnation(),
                counters);
        this.antiEntropy = new AntiEntropyScheduler(new AntiEntropy(table, peers, counters, PEER_CALL_TIMEOUT_MS),
                local, membership, table, counters, peerResults, peerIo, clockMs);
        this.repairs = new Repairs(local, membership, peers, table, antiEntropy, counters, peerResults, peerIo,
                PEER_CALL_TIMEOUT_MS, clockMs);
        DeltaApplier applier = new DeltaApplier(table, repairs, counters, histograms, clockMs);
        JoinBuffer joinBuffer = new JoinBuffer(MAX_JOIN_BUFFER);
        this.send = new SendStream(settings, codec, transport, control, local, membership, counters, histograms,
                clockMs, errors.guard(loop, "flushing the outgoing queue"));
        this.receive = new ReceiveStreams(settings, control, local, membership, joinBuffer, applier, antiEntropy,
                table, counters, clockMs);
        this.heartbeats = new Heartbeats(settings, control, local, send, receive, table);
        this.join = new Join(settings, local, membership, peers, table, joinBuffer, receive, heartbeats,
                antiEntropy, counters, histograms, clockMs, peerResults, peerIo);
    }

    /** Starts the timers and the join; the transport must already deliver to {@link #onDatagram}. */
    public void start() {
        errors.guard(loop, "starting the protocol").execute(() -> {
            loopThread = Thread.currentThread();
            long now = clockMs.getAsLong();
            join.start(now);
            lastTouchFlushMs = now;
            lastExpiryMs = now;
            lastAntiEntropyMs = now;
            heartbeats.send(now);
        });
        // A scheduled task that throws is never run again: the guard keeps the tick alive.
        timers.add(loop.scheduleWithFixedDelay(() -> errors.run("protocol tick", this::tick), s.tickMs(), s.tickMs(),
                TimeUnit.MILLISECONDS));
    }

    /** Completes when this agent holds the replicated table (or gave up waiting for it). */
    public CompletableFuture<Void> ready() {
        return join.ready();
    }

    public MemberState state() {
        return local.state();
    }

    public boolean replicationEnabled() {
        return local.replicationEnabled();
    }

    // ---------------------------------------------------------------- local changes (any thread)

    /**
     * Queues a committed local delta for the group. Called inside the table's critical section for
     * the session, so deltas of one session are queued in version order.
     */
    public void replicate(ReplicatedDelta delta, SyncWaiter waiter) {
        send.replicate(delta, waiter);
    }

    /**
     * Completes the waiter once the replicas acknowledged every delta queued before this call (by
     * {@link #replicate}, on any thread that returned from it): one waiter for a batch of writes.
     */
    public void awaitReplicas(SyncWaiter waiter) {
        send.awaitReplicas(waiter);
    }

    /** Notes a pure access; all accesses of a session within access-flush-interval travel as one. */
    public void touch(String id, long accessMs) {
        send.touch(id, accessMs);
    }

    // ---------------------------------------------------------------- inbound (transport thread)

    /**
     * Every datagram received: decoded here, then handled at once when the transport reads on the
     * protocol thread (its I/O loop is the protocol loop), else handed to the protocol thread.
     */
    @Override
    public void datagram(byte[] datagram) {
        Frame f;
        try {
            f = codec.decode(datagram);
        } catch (FrameException e) {
            countDrop(e.reason());
            if (log.isDebugEnabled()) {
                log.debug("dropped datagram: {}", e.getMessage());
            }
            return;
        }
        if (f.memberId() == s.selfId() && f.incarnation() == s.incarnation()) {
            // Multicast loops every datagram back to its sender: one handoff to the protocol thread
            // per datagram sent, for a frame that thread would drop unread.
            return;
        }
        if (Thread.currentThread() == loopThread) {
            handle(f, false);
            return;
        }
        if (inbound.incrementAndGet() > MAX_INBOUND_QUEUE) {
            // The protocol thread is behind by more than any burst the windows could absorb; what is
            // dropped here is repaired like any loss, and the memory stays bounded under a flood.
            inbound.decrementAndGet();
            counters.increment(Counter.FRAMES_DROPPED_OVERLOAD);
            return;
        }
        loop.execute(() -> handle(f, inbound.decrementAndGet() == 0));
    }

    /**
     * On the protocol thread: one frame, then the ACKs a burst earned, once per burst ({@code last}:
     * nothing else is queued) or every {@link #ACK_EVERY_FRAMES} DATA frames of a stream that never
     * pauses.
     */
    private void handle(Frame f, boolean last) {
        try {
            onFrame(f);
            if (f.type() == FrameType.DATA && (++dataSinceAck >= ACK_EVERY_FRAMES || last)) {
                dataSinceAck = 0;
                receive.sendAcks(true);
            }
        } catch (RuntimeException e) {
            errors.report("handling " + f.type(), "from " + Long.toHexString(f.memberId()), e);
        }
    }

    /** The transport read what it had: on the protocol thread, the end of a burst. */
    @Override
    public void burstEnd() {
        if (Thread.currentThread() == loopThread && dataSinceAck > 0) {
            dataSinceAck = 0;
            // Thrown here, it would reach the transport's channel handler, which neither counts it
            // nor knows what failed.
            errors.run("acknowledging a burst", () -> receive.sendAcks(true));
            errors.run("answering reads that waited", () -> settleCatchUps(clockMs.getAsLong()));
        }
    }

    /**
     * Waits until this agent has applied, as far as it can know, the newest version of session
     * {@code id} that reached it: the frames every sender is known to have sent by now (received
     * behind a gap, or announced by a heartbeat) are delivered, none of the session's deltas waits
     * for a base or a re-send, and no repair of it is under way. This is what a failover read
     * needs: right after a member died, its last frames may be queued, held behind a gap (released
     * when failure detection drops it) or under repair, and the session read before then would be
     * older than what this agent will hold, or missing. Frames queued for the protocol thread
     * before this call are handled before the check.
     *
     * @return completes with true once caught up, false if {@code deadlineMs} passes first
     */
    public CompletableFuture<Boolean> awaitCaughtUp(String id, long deadlineMs) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        try {
            errors.guard(loop, "waiting for a read to catch up").execute(() -> {
                CatchUp c = new CatchUp(id, receive.mark(), deadlineMs, done);
                if (!settle(c, clockMs.getAsLong())) {
                    counters.increment(Counter.READS_WAITED);
                    catchUps.add(c);
                }
            });
        } catch (RejectedExecutionException closed) {
            done.complete(false);
        }
        return done;
    }

    private boolean settle(CatchUp c, long now) {
        // Joining, the caller's own rule applies (not found means not transferred yet); with
        // replication off, nothing received is applied, so there is nothing to wait for.
        boolean nothingToApply = local.isJoining() || !local.replicationEnabled();
        if (nothingToApply || receive.reached(c.mark(), c.id()) && !repairs.pending(c.id())) {
            c.done().complete(true);
            return true;
        }
        if (now >= c.deadlineMs()) {
            c.done().complete(false);
            return true;
        }
        return false;
    }

    private void settleCatchUps(long now) {
        if (!catchUps.isEmpty()) {
            catchUps.removeIf(c -> settle(c, now));
        }
    }

    private void countDrop(DropReason reason) {
        counters.increment(switch (reason) {
            case MALFORMED -> Counter.FRAMES_DROPPED_MALFORMED;
            case VERSION -> Counter.FRAMES_DROPPED_VERSION;
            case FOREIGN_CLUSTER -> Counter.FRAMES_DROPPED_FOREIGN_CLUSTER;
            case OVERSIZED -> Counter.FRAMES_DROPPED_OVERSIZED;
            case AUTH -> Counter.FRAMES_DROPPED_AUTH;
            case REPLAY -> Counter.FRAMES_DROPPED_REPLAY;
        });
    }

    // ---------------------------------------------------------------- protocol loop

    private void onFrame(Frame f) {
        if (local.isLeaving()) {
            // The others dropped this member on its leave; answering a NAK or acknowledging
            // data now would only confuse them.
            return;
        }
        if (f.memberId() == s.selfId()) {
            if (f.incarnation() != s.incarnation()) {
                counters.increment(Counter.FRAMES_DROPPED_DUPLICATE_MEMBER);
                log.warn("another agent announces this node's name ({}); node names must be unique", s.nodeName());
            }
            return;
        }
        long now = clockMs.getAsLong();
        if (membership.onFrame(f.memberId(), f.incarnation(), now) == MembershipChange.STALE) {
            return;
        }
        counters.increment(Counter.FRAMES_RECEIVED);
        try {
            switch (f.type()) {
                case HEARTBEAT -> onHeartbeat(f, Heartbeat.parseFrom(f.body()), now);
                case LEAVE -> onLeave(f);
                case DATA -> receive.onData(f, now);
                case NAK -> send.onNak(f.memberId(), Nak.parseFrom(f.body()));
                case GONE -> receive.onGone(f, Gone.parseFrom(f.body()));
                case ACK -> onAck(f, Ack.parseFrom(f.body()));
            }
        } catch (InvalidProtocolBufferException e) {
            counters.increment(Counter.FRAMES_DROPPED_MALFORMED);
            log.debug("dropped {} from {}: unparsable body", f.type(), Long.toHexString(f.memberId()));
        }
    }

    private void onHeartbeat(Frame f, Heartbeat hb, long now) {
        MembershipChange change = membership.onHeartbeat(f.memberId(), f.incarnation(), hb, now);
        if (change == MembershipChange.STALE) {
            return;
        }
        receive.onHeartbeat(f, hb, now);
        send.onDigests(f.memberId(), hb.getReceivedList());
        Member m = membership.get(f.memberId());
        switch (change) {
            case JOINED, RESTARTED -> {
                counters.increment(Counter.VIEW_CHANGES);
                log.info("member {} {} ({}), view {}", m, change == MembershipChange.JOINED ? "joined" : "restarted",
                        hb.getState(), membership.viewId());
                // A newcomer that heard this member only at its next heartbeat would spend up to an
                // interval of its join-wait in silence, or pass it and start a table of its own.
                heartbeats.send(now);
                if (m.isReady()) {
                    antiEntropy.request(m);
                }
            }
            case BECAME_READY, REPLICATION_RESUMED -> antiEntropy.request(m);
            default -> antiEntropy.onHeartbeat(m, now);
        }
    }

    /**
     * An ACK counts for sync writes and stability; the sessions it names a replica could not
     * apply are re-sent whole at once, which it takes on any base.
     */
    private void onAck(Frame f, Ack ack) {
        send.onAck(f, ack);
        if (ack.getTargetMember() != s.selfId() || ack.getTargetIncarnation() != s.incarnation()) {
            return;
        }
        for (String id : ack.getUnappliedList()) {
            if (table.resendWhole(id, send::resend)) {
                counters.increment(Counter.DELTAS_RESENT_WHOLE);
            }
        }
    }

    private void onLeave(Frame f) {
        Member m = membership.onLeave(f.memberId(), f.incarnation());
        if (m != null) {
            counters.increment(Counter.MEMBERS_LEFT);
            counters.increment(Counter.VIEW_CHANGES);
            log.info("member {} left, view {}", m, membership.viewId());
            forget(m);
        }
    }

    // ---------------------------------------------------------------- timers

    private void tick() {
        long now = clockMs.getAsLong();
        if (heartbeats.due(now)) {
            heartbeats.send(now);
            send.releaseStable();
        }
        for (Member m : membership.detectFailures(now)) {
            counters.increment(Counter.MEMBERS_SUSPECTED);
            counters.increment(Counter.VIEW_CHANGES);
            log.warn("member {} silent for more than {} ms: dropped, view {}", m, s.failureTimeoutMs(),
                    membership.viewId());
            forget(m);
        }
        receive.sendAcks(false);
        receive.sendNaks(now);
        send.completeWaiters(now);
        if (local.isJoining()) {
            join.advance(now);
        }
        if (now - lastTouchFlushMs >= s.accessFlushIntervalMs()) {
            lastTouchFlushMs = now;
            send.flushTouches();
        }
        if (now - lastExpiryMs >= s.expiryScanIntervalMs()) {
            lastExpiryMs = now;
            counters.add(Counter.SESSIONS_EXPIRED, table.expire(now));
        }
        if (s.antiEntropyIntervalMs() > 0 && now - lastAntiEntropyMs >= s.antiEntropyIntervalMs()) {
            lastAntiEntropyMs = now;
            antiEntropy.requestWhereTablesDiffer();
        }
        antiEntropy.retryDue(now);
        repairs.start();
        settleCatchUps(now);
    }

    /** A member left the view: its stream and acks go; repairs it owed are routed to another member. */
    private void forget(Member m) {
        receive.forget(m.id());
        send.forget(m.id());
        antiEntropy.forget(m.id());
        if (!m.peerAddress().isEmpty()) {
            String address = m.peerAddress();
            peerIo.execute(() -> peers.forget(address));
        }
    }

    // ---------------------------------------------------------------- operator view and control

    /** The current view, computed on the protocol thread. */
    public View view() {
        return call(() -> membership.snapshot(clockMs.getAsLong()));
    }

    /**
     * What the metrics read of the protocol state, taken in one visit to the protocol thread.
     *
     * @param unackedAgeMs how long the oldest change this agent sent has waited for a ready replica's
     *                     acknowledgement (0 when none waits)
     */
    public record Sample(View view, int retransmitFrames, long retransmitBytes, long unackedAgeMs) {
    }

    /** The view, the retransmit buffer's fill and the unacknowledged age, computed on the protocol thread. */
    public Sample sample() {
        return call(() -> {
            long now = clockMs.getAsLong();
            return new Sample(membership.snapshot(now), send.retransmitFrames(), send.retransmitBytes(),
                    send.unackedAgeMs(now));
        });
    }

    /**
     * Switches replication. Switching it off stops sending and applying deltas (heartbeats go on,
     * carrying the flag); switching it on resynchronises both ways: this agent pulls from every
     * ready member by anti-entropy, and they, seeing the flag flip in its heartbeat, pull from it.
     */
    public void setReplicationEnabled(boolean enabled) {
        run(() -> {
            if (local.replicationEnabled() == enabled) {
                return;
            }
            local.setReplicationEnabled(enabled);
            log.info("replication switched {}", enabled ? "on" : "off");
            heartbeats.send(clockMs.getAsLong());
            if (enabled) {
                receive.startApplying(clockMs.getAsLong());
                membership.members().stream().filter(Member::isReady).forEach(antiEntropy::request);
            }
        });
    }

    /** Ready members other than this one, for callers outside the loop. */
    public List<MemberSnapshot> readyMembers() {
        return view().members().stream().filter(m -> m.state() == MemberState.MEMBER_STATE_READY).toList();
    }

    private <T> T call(java.util.concurrent.Callable<T> task) {
        try {
            return loop.submit(() -> {
                try {
                    return task.call();
                } catch (RuntimeException e) {
                    // The caller hears of it too, but only as "did not answer".
                    errors.report("answering a call from outside the protocol thread", "", e);
                    throw e;
                }
            }).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (Exception e) {
            throw new IllegalStateException("protocol loop did not answer: " + e, e);
        }
    }

    private void run(Runnable task) {
        call(() -> {
            task.run();
            return null;
        });
    }

    /**
     * Leaves in order: sends what is queued, announces the leave, stops the timers. Writes
     * still waiting for acknowledgements are answered at once.
     */
    @Override
    public void close() {
        try {
            run(() -> {
                if (local.isLeaving()) {
                    // Left already (drained): the leave is not announced twice.
                    return;
                }
                local.leave();
                send.flush();
                send.flushTouches();
                byte[] leave = codec.encode(FrameType.LEAVE, s.selfId(), s.incarnation(),
                        Leave.getDefaultInstance().toByteArray());
                // Twice: a lost leave only costs the others the failure timeout, but it is cheap to avoid.
                transport.send(leave);
                transport.send(leave);
                send.abandonWaiters();
                catchUps.forEach(c -> c.done().complete(false));
                catchUps.clear();
            });
        } catch (IllegalStateException e) {
            log.warn("orderly leave incomplete: {}", e.getMessage());
        }
        timers.forEach(t -> t.cancel(false));
    }
}
