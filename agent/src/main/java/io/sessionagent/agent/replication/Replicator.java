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
import io.sessionagent.agent.metrics.SyncOutcome;
import io.sessionagent.agent.store.ApplyOutcome;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.transport.DropReason;
import io.sessionagent.agent.transport.Frame;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameException;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.agent.transport.Fragments;
import io.sessionagent.agent.transport.Transport;
import io.sessionagent.proto.v1.Access;
import io.sessionagent.proto.v1.Ack;
import io.sessionagent.proto.v1.DataBatch;
import io.sessionagent.proto.v1.DataEntry;
import io.sessionagent.proto.v1.Gone;
import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.Leave;
import io.sessionagent.proto.v1.MemberState;
import io.sessionagent.proto.v1.Nak;
import io.sessionagent.proto.v1.ReceiveDigest;
import io.sessionagent.proto.v1.ReplicatedDelta;
import io.sessionagent.proto.v1.SeqRange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The replication protocol of one agent: sends local changes to the group in sequence, delivers
 * other members' changes in order (NAK-based repair, as JGroups NAKACK2 and Aeron do), keeps the
 * view, joins by state transfer and heals divergence by anti-entropy.
 *
 * <p>Every piece of protocol state is confined to one thread, the protocol loop; other threads
 * only enqueue work for it. Blocking calls to peers run on a separate executor and post their
 * results back to the loop.
 */
public final class Replicator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Replicator.class);
    private static final int MAX_NAK_RANGES = 64;
    /** Bytes of one encoded SeqRange at most (two 10-byte varints, tags and length). */
    private static final int NAK_RANGE_BYTES = 24;
    private static final int MAX_RETRANSMITS_PER_NAK = 1024;
    private static final int REPAIR_BATCH = 500;
    private static final int MAX_JOIN_BUFFER = 100_000;
    private static final int MAX_INBOUND_QUEUE = 50_000;
    private static final long PEER_CALL_TIMEOUT_MS = 30_000;

    private final ReplicationSettings s;
    private final FrameCodec codec;
    private final Transport transport;
    private final SessionTable table;
    private final Membership membership;
    private final PeerClients peers;
    private final Counters counters;
    private final Histograms histograms;
    private final LongSupplier clockMs;
    private final ScheduledExecutorService loop;
    private final ExecutorService peerIo;
    private final AntiEntropy antiEntropy;

    // Sending side.
    private final ConcurrentLinkedQueue<Outgoing> outgoing = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final AtomicInteger inbound = new AtomicInteger();
    private final ConcurrentHashMap<String, Long> pendingTouches = new ConcurrentHashMap<>();
    private final RetransmitBuffer sent;
    private final Map<Long, Long> ackedThrough = new HashMap<>();
    private final ArrayDeque<SyncWaiter> waiters = new ArrayDeque<>();
    private final List<SyncWaiter> unsentWaiters = new ArrayList<>();

    // Receiving side.
    private final Map<Long, Stream> streams = new HashMap<>();
    private final List<DataBatch> joinBuffer = new ArrayList<>();
    /** Something was lost while joining: at READY, anti-entropy runs with the transfer source too. */
    private boolean joinLostData;
    private final Map<Long, Set<String>> repairs = new HashMap<>();
    private final Set<Long> repairsInFlight = new HashSet<>();
    private final Set<Long> antiEntropyInFlight = new HashSet<>();

    // Join.
    private volatile MemberState state = MemberState.MEMBER_STATE_JOINING;
    private volatile boolean replicationEnabled;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final Set<Long> transferTried = new HashSet<>();
    private long joinStartedMs;
    private boolean transferRunning;
    private long transferSource;

    private long lastHeartbeatMs;
    private int heartbeatRotation;
    private long lastTouchFlushMs;
    private long lastExpiryMs;
    private long lastAntiEntropyMs;
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();

    /** The reliable stream from one incarnation of one member, and its fragment joiner. */
    private static final class Stream {
        final long incarnation;
        final ReceiveWindow window;
        final Fragments.Joiner joiner = new Fragments.Joiner();

        Stream(long incarnation, ReceiveWindow window) {
            this.incarnation = incarnation;
            this.window = window;
        }
    }

    private record Outgoing(DataEntry entry, SyncWaiter waiter) {
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
        this.histograms = histograms;
        this.clockMs = clockMs;
        this.loop = loop;
        this.peerIo = peerIo;
        this.sent = new RetransmitBuffer(settings.retransmitBufferFrames(), settings.retransmitBufferBytes());
        this.replicationEnabled = settings.replicationEnabled();
        this.antiEntropy = new AntiEntropy(table, peers, counters, PEER_CALL_TIMEOUT_MS);
    }

    /** Starts the timers and the join; the transport must already deliver to {@link #onDatagram}. */
    public void start() {
        loop.execute(() -> {
            long now = clockMs.getAsLong();
            joinStartedMs = now;
            lastTouchFlushMs = now;
            lastExpiryMs = now;
            lastAntiEntropyMs = now;
            sendHeartbeat(now);
        });
        timers.add(loop.scheduleWithFixedDelay(this::tick, s.tickMs(), s.tickMs(), TimeUnit.MILLISECONDS));
    }

    /** Completes when this agent holds the replicated table (or gave up waiting for it). */
    public CompletableFuture<Void> ready() {
        return ready;
    }

    public MemberState state() {
        return state;
    }

    public boolean replicationEnabled() {
        return replicationEnabled;
    }

    // ---------------------------------------------------------------- local changes (any thread)

    /**
     * Queues a committed local delta for the group. Called inside the table's critical section for
     * the session, so deltas of one session are queued in version order.
     */
    public void replicate(ReplicatedDelta delta, SyncWaiter waiter) {
        outgoing.add(new Outgoing(DataEntry.newBuilder().setDelta(delta).build(), waiter));
        scheduleFlush();
    }

    /** Notes a pure access; all accesses of a session within access-flush-interval travel as one. */
    public void touch(String id, long accessMs) {
        pendingTouches.merge(id, accessMs, Math::max);
    }

    private void scheduleFlush() {
        if (flushScheduled.compareAndSet(false, true)) {
            loop.execute(this::flush);
        }
    }

    // ---------------------------------------------------------------- inbound (transport thread)

    /** Entry point for every datagram received; decodes here and hands the frame to the loop. */
    public void onDatagram(byte[] datagram) {
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
        if (inbound.incrementAndGet() > MAX_INBOUND_QUEUE) {
            // The protocol thread is behind by more than any burst the windows could absorb; what is
            // dropped here is repaired like any loss, and the memory stays bounded under a flood.
            inbound.decrementAndGet();
            counters.increment(Counter.FRAMES_DROPPED_OVERLOAD);
            return;
        }
        loop.execute(() -> {
            inbound.decrementAndGet();
            onFrame(f);
        });
    }

    private void countDrop(DropReason reason) {
        counters.increment(switch (reason) {
            case MALFORMED -> Counter.FRAMES_DROPPED_MALFORMED;
            case VERSION -> Counter.FRAMES_DROPPED_VERSION;
            case FOREIGN_CLUSTER -> Counter.FRAMES_DROPPED_FOREIGN_CLUSTER;
            case OVERSIZED -> Counter.FRAMES_DROPPED_OVERSIZED;
        });
    }

    // ---------------------------------------------------------------- protocol loop

    private void onFrame(Frame f) {
        if (state == MemberState.MEMBER_STATE_LEAVING) {
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
                case DATA -> onData(f, now);
                case NAK -> onNak(f.memberId(), Nak.parseFrom(f.body()));
                case GONE -> onGone(f, Gone.parseFrom(f.body()));
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
        Stream st = streamFor(f.memberId(), f.incarnation(), hb.getHighestSent() + 1);
        if (st != null) {
            st.window.noteHighestSent(hb.getHighestSent(), now);
            skipGone(f.memberId(), st, hb.getLowestRetained());
        }
        for (ReceiveDigest d : hb.getReceivedList()) {
            if (d.getMemberId() == s.selfId() && d.getIncarnation() == s.incarnation()) {
                ackedThrough.merge(f.memberId(), d.getDeliveredThrough(), Math::max);
            }
        }
        Member m = membership.get(f.memberId());
        switch (change) {
            case JOINED, RESTARTED -> {
                counters.increment(Counter.VIEW_CHANGES);
                log.info("member {} {} ({}), view {}", m, change == MembershipChange.JOINED ? "joined" : "restarted",
                        hb.getState(), membership.viewId());
                if (m.isReady()) {
                    requestAntiEntropy(m);
                }
            }
            case BECAME_READY, REPLICATION_RESUMED -> requestAntiEntropy(m);
            default -> {
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
        st = new Stream(incarnation, new ReceiveWindow(Math.max(1, firstSequence), s.receiveBufferFrames()));
        streams.put(memberId, st);
        return st;
    }

    private void onData(Frame f, long now) {
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
        boolean ackWanted = false;
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
            ackWanted |= batch.getAckRequested();
            if (state == MemberState.MEMBER_STATE_JOINING) {
                if (joinBuffer.size() < MAX_JOIN_BUFFER) {
                    joinBuffer.add(batch);
                } else {
                    // What does not fit is pulled from every member once the join is done.
                    joinLostData = true;
                }
            } else if (replicationEnabled) {
                apply(sender, batch);
            }
        }
        if (ackWanted && state == MemberState.MEMBER_STATE_READY && replicationEnabled) {
            sendControl(FrameType.ACK, Ack.newBuilder().setTargetMember(sender).setTargetIncarnation(st.incarnation)
                    .setDeliveredThrough(st.window.deliveredThrough()).build().toByteArray());
            counters.increment(Counter.ACKS_SENT);
        }
    }

    private void apply(long sender, DataBatch batch) {
        long now = clockMs.getAsLong();
        for (DataEntry e : batch.getEntriesList()) {
            if (e.hasDelta()) {
                ReplicatedDelta d = e.getDelta();
                counters.increment(Counter.DELTAS_RECEIVED);
                ApplyOutcome outcome = table.applyReplicated(d);
                switch (outcome) {
                    case APPLIED -> {
                        counters.increment(Counter.DELTAS_APPLIED);
                        if (d.getWrittenAtMs() > 0) {
                            histograms.replicationLag(now - d.getWrittenAtMs());
                        }
                    }
                    case DUPLICATE -> counters.increment(Counter.DELTAS_DUPLICATE);
                    case GAP -> counters.increment(Counter.DELTAS_OUT_OF_ORDER);
                    case CONFLICT_LOCAL_WINS, CONFLICT_REMOTE_WINS -> counters.increment(Counter.CONFLICTS);
                }
                if (outcome.needsFetch()) {
                    repairs.computeIfAbsent(d.getWriter() != 0 ? d.getWriter() : sender, k -> new LinkedHashSet<>())
                            .add(d.getId());
                }
            } else if (e.hasTouch()) {
                counters.increment(Counter.TOUCHES_RECEIVED);
                table.touch(e.getTouch().getId(), e.getTouch().getAccessTimeMs());
            }
        }
    }

    private void onNak(long requester, Nak nak) {
        if (nak.getTargetMember() != s.selfId() || nak.getTargetIncarnation() != s.incarnation()) {
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
                transport.send(raw);
                counters.increment(Counter.RETRANSMITS_SENT);
                counters.increment(Counter.FRAMES_SENT);
                budget--;
            }
        }
        if (gone) {
            // Every receiver that misses the same range skips it; it is multicast for that reason.
            sendControl(FrameType.GONE, Gone.newBuilder().setRequester(requester).setLowestRetained(
                    sent.lowestRetained()).build().toByteArray());
            counters.increment(Counter.GONE_SENT);
        }
    }

    private void onGone(Frame f, Gone gone) {
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
        long skipped = st.window.skipTo(lowestRetained, deliverable);
        counters.add(Counter.GAPS_UNRECOVERABLE, skipped);
        log.info("{} sequences from {} are gone from its buffer; repairing by anti-entropy", skipped,
                Long.toHexString(sender));
        deliver(sender, st, deliverable);
        if (state == MemberState.MEMBER_STATE_JOINING) {
            // Anti-entropy waits for READY; then it must include every member, the source too.
            joinLostData = true;
        }
        Member m = membership.get(sender);
        if (m != null) {
            requestAntiEntropy(m);
        }
    }

    private void onAck(Frame f, Ack ack) {
        if (ack.getTargetMember() != s.selfId() || ack.getTargetIncarnation() != s.incarnation()) {
            return;
        }
        ackedThrough.merge(f.memberId(), ack.getDeliveredThrough(), Math::max);
        completeWaiters(clockMs.getAsLong());
    }

    // ---------------------------------------------------------------- sending

    private void flush() {
        flushScheduled.set(false);
        // Two bytes stay free for the ack_requested flag.
        int budget = codec.maxBodyBytes() - 2;
        DataBatch.Builder batch = DataBatch.newBuilder();
        int size = 0;
        Outgoing o;
        while ((o = outgoing.poll()) != null) {
            int entrySize = o.entry.getSerializedSize();
            int framed = 1 + com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(entrySize) + entrySize;
            if (size > 0 && size + framed > budget) {
                sendBatch(batch);
                batch = DataBatch.newBuilder();
                size = 0;
            }
            batch.addEntries(o.entry);
            size += framed;
            if (o.waiter != null) {
                batch.setAckRequested(true);
                unsentWaiters.add(o.waiter);
            }
        }
        if (batch.getEntriesCount() > 0) {
            sendBatch(batch);
        }
    }

    private void sendBatch(DataBatch.Builder batch) {
        long now = clockMs.getAsLong();
        if (!replicationEnabled) {
            for (SyncWaiter w : unsentWaiters) {
                w.complete(0, false, true);
            }
            unsentWaiters.clear();
            return;
        }
        byte[] payload = batch.build().toByteArray();
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
            byte[] raw = codec.encode(FrameType.DATA, s.selfId(), s.incarnation(), seq, i, ranges.size(), payload,
                    ranges.get(i)[0], ranges.get(i)[1]);
            sent.add(seq, raw);
            transport.send(raw);
            counters.increment(Counter.FRAMES_SENT);
        }
        counters.increment(Counter.BATCHES_SENT);
        if (ranges.size() > 1) {
            counters.increment(Counter.FRAGMENTED_BATCHES_SENT);
        }
        for (DataEntry e : batch.getEntriesList()) {
            counters.increment(e.hasDelta() ? Counter.DELTAS_SENT : Counter.TOUCHES_SENT);
        }
        for (SyncWaiter w : unsentWaiters) {
            w.sequence = sent.highestSent();
            w.sentAtMs = now;
            waiters.add(w);
        }
        unsentWaiters.clear();
        completeWaiters(now);
    }

    private void sendControl(FrameType type, byte[] body) {
        if (body.length > codec.maxBodyBytes()) {
            // Callers size their bodies to fit; this guards the protocol thread against a bug there.
            log.error("{} of {} bytes does not fit max-datagram-bytes; not sent", type, body.length);
            return;
        }
        transport.send(codec.encode(type, s.selfId(), s.incarnation(), body));
        counters.increment(Counter.FRAMES_SENT);
    }

    private void sendHeartbeat(long now) {
        Heartbeat.Builder hb = Heartbeat.newBuilder()
                .setNodeName(s.nodeName())
                .setPeerAddress(s.peerAddress())
                .setState(state)
                .setHighestSent(sent.highestSent())
                .setLowestRetained(sent.lowestRetained())
                .setSessionCount(table.liveCount())
                .setTableHash(table.tableHash())
                .setReplicationEnabled(replicationEnabled);
        // In a cluster too large for every digest to fit one datagram, successive heartbeats carry
        // successive slices, so each sender still hears from every receiver.
        List<Map.Entry<Long, Stream>> all = new ArrayList<>(streams.entrySet());
        int budget = codec.maxBodyBytes() - hb.build().getSerializedSize();
        for (int i = 0; i < all.size(); i++) {
            Map.Entry<Long, Stream> e = all.get((heartbeatRotation + i) % all.size());
            ReceiveDigest d = ReceiveDigest.newBuilder().setMemberId(e.getKey())
                    .setIncarnation(e.getValue().incarnation)
                    .setDeliveredThrough(e.getValue().window.deliveredThrough()).build();
            budget -= d.getSerializedSize() + 2;
            if (budget < 0) {
                heartbeatRotation += i;
                break;
            }
            hb.addReceived(d);
        }
        sendControl(FrameType.HEARTBEAT, hb.build().toByteArray());
        lastHeartbeatMs = now;
    }

    // ---------------------------------------------------------------- timers

    private void tick() {
        try {
            long now = clockMs.getAsLong();
            if (now - lastHeartbeatMs >= s.heartbeatIntervalMs()) {
                sendHeartbeat(now);
                releaseStable();
            }
            for (Member m : membership.detectFailures(now)) {
                counters.increment(Counter.MEMBERS_SUSPECTED);
                counters.increment(Counter.VIEW_CHANGES);
                log.warn("member {} silent for more than {} ms: dropped, view {}", m, s.failureTimeoutMs(),
                        membership.viewId());
                forget(m);
            }
            sendNaks(now);
            completeWaiters(now);
            if (state == MemberState.MEMBER_STATE_JOINING) {
                advanceJoin(now);
            }
            if (now - lastTouchFlushMs >= s.accessFlushIntervalMs()) {
                lastTouchFlushMs = now;
                flushTouches();
            }
            if (now - lastExpiryMs >= s.expiryScanIntervalMs()) {
                lastExpiryMs = now;
                counters.add(Counter.SESSIONS_EXPIRED, table.expire(now));
            }
            if (s.antiEntropyIntervalMs() > 0 && now - lastAntiEntropyMs >= s.antiEntropyIntervalMs()) {
                lastAntiEntropyMs = now;
                long mine = table.tableHash();
                membership.members().stream().filter(m -> m.isReady() && m.tableHash() != mine)
                        .forEach(this::requestAntiEntropy);
            }
            startRepairs();
        } catch (RuntimeException e) {
            log.error("protocol tick failed", e);
        }
    }

    /** A member left the view: its stream and acks go; repairs it owed are routed to another member. */
    private void forget(Member m) {
        streams.remove(m.id());
        ackedThrough.remove(m.id());
        completeWaiters(clockMs.getAsLong());
        if (!m.peerAddress().isEmpty()) {
            String address = m.peerAddress();
            peerIo.execute(() -> peers.forget(address));
        }
    }

    private void sendNaks(long now) {
        for (Map.Entry<Long, Stream> e : streams.entrySet()) {
            ReceiveWindow w = e.getValue().window;
            if (w.nakDue(now, s.tickMs(), s.nakIntervalMs())) {
                List<SeqRange> missing = w.missing(Math.min(MAX_NAK_RANGES,
                        (codec.maxBodyBytes() - 2 * NAK_RANGE_BYTES) / NAK_RANGE_BYTES));
                if (missing.isEmpty()) {
                    continue;
                }
                sendControl(FrameType.NAK, Nak.newBuilder().setTargetMember(e.getKey())
                        .setTargetIncarnation(e.getValue().incarnation).addAllMissing(missing).build().toByteArray());
                w.nakSent(now);
                counters.increment(Counter.NAKS_SENT);
            }
        }
    }

    /** Frees what every member in the view has delivered. */
    private void releaseStable() {
        long stable = sent.highestSent();
        for (Member m : membership.members()) {
            stable = Math.min(stable, ackedThrough.getOrDefault(m.id(), 0L));
        }
        sent.releaseThrough(stable);
    }

    private void completeWaiters(long now) {
        Iterator<SyncWaiter> it = waiters.iterator();
        while (it.hasNext()) {
            SyncWaiter w = it.next();
            int readyMembers = 0;
            int acks = 0;
            for (Member m : membership.members()) {
                if (m.isReady() && m.replicationEnabled()) {
                    readyMembers++;
                    if (ackedThrough.getOrDefault(m.id(), 0L) >= w.sequence) {
                        acks++;
                    }
                }
            }
            if (readyMembers == 0) {
                w.complete(0, false, true);
                histograms.syncAck(SyncOutcome.NO_REPLICAS, now - w.sentAtMs);
                it.remove();
            } else if (acks >= (w.all ? readyMembers : 1)) {
                w.complete(acks, false, false);
                histograms.syncAck(SyncOutcome.REPLICATED, now - w.sentAtMs);
                it.remove();
            } else if (now >= w.deadlineMs) {
                counters.increment(Counter.SYNC_TIMEOUTS);
                w.complete(acks, true, false);
                histograms.syncAck(SyncOutcome.TIMEOUT, now - w.sentAtMs);
                it.remove();
            }
        }
    }

    private void flushTouches() {
        if (pendingTouches.isEmpty()) {
            return;
        }
        for (String id : List.copyOf(pendingTouches.keySet())) {
            Long at = pendingTouches.remove(id);
            if (at != null) {
                outgoing.add(new Outgoing(DataEntry.newBuilder()
                        .setTouch(Access.newBuilder().setId(id).setAccessTimeMs(at)).build(), null));
            }
        }
        flush();
    }

    // ---------------------------------------------------------------- join and state transfer

    private void advanceJoin(long now) {
        if (now - joinStartedMs >= s.stateTransferTimeoutMs()) {
            counters.increment(Counter.STATE_TRANSFER_TIMEOUTS);
            log.warn("no complete state transfer within {} ms; reporting ready with what arrived",
                    s.stateTransferTimeoutMs());
            becomeReady(now);
            return;
        }
        if (transferRunning) {
            return;
        }
        Member source = null;
        for (Member m : membership.members()) {
            if (m.isReady() && m.replicationEnabled() && !m.peerAddress().isEmpty()
                    && !transferTried.contains(m.id())) {
                source = m;
                break;
            }
        }
        if (source != null) {
            startTransfer(source);
        } else if (now - joinStartedMs >= s.joinWaitMs()) {
            if (!transferTried.isEmpty()) {
                counters.increment(Counter.STATE_TRANSFER_TIMEOUTS);
                log.warn("every state transfer source failed; reporting ready with what arrived");
            } else {
                log.info("no ready member within {} ms: this agent starts the cluster's table", s.joinWaitMs());
            }
            becomeReady(now);
        }
    }

    private void startTransfer(Member source) {
        transferRunning = true;
        transferTried.add(source.id());
        String address = source.peerAddress();
        String name = source.nodeName();
        long started = clockMs.getAsLong();
        log.info("state transfer from {} at {}", name, address);
        peerIo.execute(() -> {
            long[] bytes = new long[1];
            try {
                long n = peers.snapshot(address, s.stateTransferTimeoutMs(), r -> {
                    table.merge(r);
                    bytes[0] += r.getSerializedSize();
                });
                loop.execute(() -> transferDone(source.id(), n, bytes[0], started));
            } catch (RuntimeException e) {
                log.warn("state transfer from {} failed: {}", name, e.toString());
                loop.execute(() -> transferRunning = false);
            }
        });
    }

    private void transferDone(long sourceId, long records, long bytes, long startedMs) {
        transferRunning = false;
        transferSource = sourceId;
        if (state != MemberState.MEMBER_STATE_JOINING) {
            return;
        }
        counters.increment(Counter.STATE_TRANSFERS);
        counters.add(Counter.STATE_TRANSFER_RECORDS, records);
        counters.add(Counter.STATE_TRANSFER_BYTES, bytes);
        long now = clockMs.getAsLong();
        histograms.stateTransfer(now - startedMs);
        log.info("state transfer done: {} records, {} bytes in {} ms", records, bytes, now - startedMs);
        becomeReady(now);
    }

    private void becomeReady(long now) {
        if (replicationEnabled) {
            for (DataBatch b : joinBuffer) {
                // The sender is only needed to route repairs; the delta's writer serves for that.
                apply(0, b);
            }
        }
        joinBuffer.clear();
        state = MemberState.MEMBER_STATE_READY;
        sendHeartbeat(now);
        ready.complete(null);
        // Writes in flight while the snapshot was cut may have reached neither it nor this agent.
        for (Member m : membership.members()) {
            if (m.isReady() && (m.id() != transferSource || joinLostData)) {
                requestAntiEntropy(m);
            }
        }
    }

    // ---------------------------------------------------------------- repair and anti-entropy

    private void requestAntiEntropy(Member m) {
        // A member with replication off serves its own node only: nothing is pulled from it.
        if (state != MemberState.MEMBER_STATE_READY || !replicationEnabled || !m.replicationEnabled()
                || m.peerAddress().isEmpty() || !antiEntropyInFlight.add(m.id())) {
            return;
        }
        long id = m.id();
        String address = m.peerAddress();
        long peerCount = m.sessionCount();
        peerIo.execute(() -> {
            try {
                antiEntropy.pullFrom(address, peerCount);
            } catch (RuntimeException e) {
                counters.increment(Counter.ANTI_ENTROPY_FAILURES);
                log.warn("anti-entropy with {} failed: {}", address, e.toString());
            } finally {
                loop.execute(() -> antiEntropyInFlight.remove(id));
            }
        });
    }

    private void startRepairs() {
        if (repairs.isEmpty() || state != MemberState.MEMBER_STATE_READY) {
            return;
        }
        Iterator<Map.Entry<Long, Set<String>>> it = repairs.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Set<String>> e = it.next();
            long writer = e.getKey();
            if (repairsInFlight.contains(writer)) {
                continue;
            }
            Member source = membership.get(writer);
            if (source == null || source.peerAddress().isEmpty()) {
                source = membership.members().stream().filter(m -> m.isReady() && !m.peerAddress().isEmpty())
                        .findFirst().orElse(null);
            }
            if (source == null) {
                it.remove();
                continue;
            }
            List<String> ids = new ArrayList<>(REPAIR_BATCH);
            Iterator<String> idIt = e.getValue().iterator();
            while (idIt.hasNext() && ids.size() < REPAIR_BATCH) {
                ids.add(idIt.next());
                idIt.remove();
            }
            if (e.getValue().isEmpty()) {
                it.remove();
            }
            repairsInFlight.add(writer);
            String address = source.peerAddress();
            Member fallback = source;
            peerIo.execute(() -> {
                try {
                    peers.fetch(address, ids, PEER_CALL_TIMEOUT_MS, r -> {
                        if (table.merge(r)) {
                            counters.increment(Counter.SESSION_REPAIRS);
                        }
                    });
                } catch (RuntimeException ex) {
                    log.warn("repair of {} sessions from {} failed: {}", ids.size(), address, ex.toString());
                    loop.execute(() -> requestAntiEntropy(fallback));
                } finally {
                    loop.execute(() -> repairsInFlight.remove(writer));
                }
            });
        }
    }

    // ---------------------------------------------------------------- operator view and control

    /** The current view, computed on the protocol thread. */
    public View view() {
        return call(() -> membership.snapshot(clockMs.getAsLong()));
    }

    /** What the metrics read of the protocol state, taken in one visit to the protocol thread. */
    public record Sample(View view, int retransmitFrames, long retransmitBytes) {
    }

    /** The view and the retransmit buffer's fill, computed on the protocol thread. */
    public Sample sample() {
        return call(() -> new Sample(membership.snapshot(clockMs.getAsLong()), sent.size(), sent.bytes()));
    }

    /**
     * Switches replication. Switching it off stops sending and applying deltas (heartbeats go on,
     * carrying the flag); switching it on resynchronises both ways: this agent pulls from every
     * ready member by anti-entropy, and they, seeing the flag flip in its heartbeat, pull from it.
     */
    public void setReplicationEnabled(boolean enabled) {
        run(() -> {
            if (replicationEnabled == enabled) {
                return;
            }
            replicationEnabled = enabled;
            log.info("replication switched {}", enabled ? "on" : "off");
            sendHeartbeat(clockMs.getAsLong());
            if (enabled) {
                membership.members().stream().filter(Member::isReady).forEach(this::requestAntiEntropy);
            }
        });
    }

    /** Ready members other than this one, for callers outside the loop. */
    public List<MemberSnapshot> readyMembers() {
        return view().members().stream().filter(m -> m.state() == MemberState.MEMBER_STATE_READY).toList();
    }

    private <T> T call(java.util.concurrent.Callable<T> task) {
        try {
            return loop.submit(task).get(5, TimeUnit.SECONDS);
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
                if (state == MemberState.MEMBER_STATE_LEAVING) {
                    // Left already (drained): the leave is not announced twice.
                    return;
                }
                state = MemberState.MEMBER_STATE_LEAVING;
                flush();
                flushTouches();
                byte[] leave = codec.encode(FrameType.LEAVE, s.selfId(), s.incarnation(),
                        Leave.getDefaultInstance().toByteArray());
                // Twice: a lost leave only costs the others the failure timeout, but it is cheap to avoid.
                transport.send(leave);
                transport.send(leave);
                for (SyncWaiter w : waiters) {
                    w.complete(0, true, false);
                }
                waiters.clear();
            });
        } catch (IllegalStateException e) {
            log.warn("orderly leave incomplete: {}", e.getMessage());
        }
        timers.forEach(t -> t.cancel(false));
    }
}
