package io.sessionagent.filter.core.agent;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.core.session.SessionData;
import io.grpc.Status;
import io.sessionagent.proto.v1.ChangeResult;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;
import io.sessionagent.proto.v1.WriteOutcome;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * The filter's writes to its agent: one long-lived stream of batches, with flow control instead
 * of shedding.
 *
 * <ul>
 *   <li><b>Coalescing.</b> A request hands its session's changes over with {@link #submit}; if that
 *   session already has a write waiting to leave, the changes merge into it. Pending work is
 *   bounded by the number of sessions, not of requests, and a backlog shrinks under pressure.</li>
 *   <li><b>Batching.</b> Every waiting write (up to {@link #MAX_BATCH_BYTES}) leaves in one
 *   message, when the stream is ready and fewer than {@link #MAX_IN_FLIGHT} batches (one in async
 *   mode, whose requests wait for the agent) wait for the agent's first answer, and fewer than
 *   {@link #MAX_UNREPLICATED} for their last. A new write is
 *   sent at once, by the request that made it, only when no batch waits for a first answer;
 *   otherwise the next answer sends it, with everything that arrived meanwhile.</li>
 *   <li><b>Bounded lag.</b> Every batch is answered once the replicas acknowledged it (async mode asks
 *   for every ready replica, sync mode for one). A request in async mode does not wait for its
 *   replicas, only for its agent to hold its write: such batches are answered a first time once
 *   applied at the agent ({@link #awaitReceipt}), so a write answered to the client outlives the
 *   app server. It also waits, at most {@code agent-timeout}, while a write older than
 *   {@code max-replication-lag} is still unanswered: a slow agent or replica slows requests down,
 *   it never switches replication off.</li>
 *   <li><b>Really gone.</b> Only a stream that ends (connection refused or broken, agent process
 *   dead) puts the filter into local serving: the writes in flight and waiting are counted as not
 *   replicated, their sessions go whole to the agent once it answers again, and the stream is
 *   reopened after a backoff (see {@link AgentHealth}).</li>
 * </ul>
 *
 * <p>Threads: request threads call {@link #submit} and the waits, and send a batch when the
 * pipeline is idle; the transport's thread delivers answers, calls {@link Outcomes} and sends the
 * batches that waited for room, with no thread of the pipeline's own in between; the scheduler
 * reopens the stream after the agent was gone. One lock guards the queue and the batches in
 * flight; nothing is serialized while it is held (attribute values arrive serialized, batches are
 * encoded outside it), and one thread at a time sends, so batches leave in the order they were
 * taken.
 */
public final class WritePipeline implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WritePipeline.class.getName());
    /** Attribute bytes per batch at most (a single larger write travels alone). */
    static final int MAX_BATCH_BYTES = 512 * 1024;
    /** Batches sent and not answered, at most: enough to keep the agent busy during a round trip. */
    public static final int MAX_IN_FLIGHT = 4;
    /**
     * Async mode: batches the agent holds and its replicas have not all acknowledged, at most. The
     * lag bound keeps them far fewer; this bounds the filter's memory should it be set high.
     */
    static final int MAX_UNREPLICATED = 1024;
    private static final long NONE = Long.MAX_VALUE;

    /** What became of each write; called on the transport's thread, must not block. */
    public interface Outcomes {
        void applied(PendingWrite w, long version);

        void refused(PendingWrite w, AgentClient.AgentException e);

        /**
         * The stream ended before an answer (whether the agent applied it is unknown), or an
         * invalidation of its session took its place before it left.
         */
        void lost(PendingWrite w);
    }

    /** A batch sent and not answered yet. */
    private static final class Batch {
        final long id;
        final List<PendingWrite> writes = new ArrayList<>();
        int changes;
        /** The agent's interim answer came: it holds the writes, its replicas are awaited. */
        boolean received;

        Batch(long id) {
            this.id = id;
        }
    }

    private final WriteTransport transport;
    private final AgentHealth health;
    private final FilterCounters counters;
    private final Durability durability;
    /** Async mode: batches ask for a first answer once the agent applied them. */
    private final boolean answerWhenApplied;
    private final int receiptWindow;
    private final int syncTimeoutMs;
    private final long maxLagNanos;
    private final Outcomes outcomes;
    private final ScheduledExecutorService scheduler;

    private final ReentrantLock lock = new ReentrantLock();
    /** Requests behind the lag bound, and a closing filter, wait on it for answers. */
    private final Condition answered = lock.newCondition();
    // Guarded by lock.
    private final LinkedHashMap<String, PendingWrite> queued = new LinkedHashMap<>();
    private final ArrayDeque<Batch> inFlight = new ArrayDeque<>();
    /** Batches in flight without an answer of any kind: what {@code receiptWindow} bounds. */
    private int unreceived;
    private Call current;
    /** An {@link #open} is posted for writes that found no stream; guarded by lock. */
    private boolean openRequested;
    private long nextBatchId = 1;
    private boolean closing;
    /** A thread is encoding and sending a batch: the others leave the sending to it. */
    private boolean sending;
    /** Writes queued or in flight. */
    private volatile int pending;
    /** When the oldest write queued or in flight was made; {@link #NONE} when there is none. */
    private volatile long oldestNanos = NONE;

    /**
     * @param maxLagMs     async mode: how old an unanswered write may get before requests wait for it;
     *                     0 for sync mode, where each request waits for its own
     * @param waitForAgent async mode: requests wait until the agent holds their writes (batches ask
     *                     for a first answer once applied)
     */
    public WritePipeline(WriteTransport transport, AgentHealth health, FilterCounters counters, ReplicationMode mode,
                  boolean waitForAgent, long syncTimeoutMs, long maxLagMs, Outcomes outcomes,
                  ScheduledExecutorService scheduler) {
        this.transport = transport;
        this.health = health;
        this.counters = counters;
        // Async mode asks every ready replica: the lag bound is about the slowest of them.
        this.durability = mode == ReplicationMode.SYNC ? Durability.DURABILITY_SYNC_ONE
                : Durability.DURABILITY_SYNC_ALL;
        this.answerWhenApplied = mode != ReplicationMode.SYNC && waitForAgent;
        // Each request waits for a round trip to the agent: one batch on its way at a time makes
        // the others wait for it together and leave together (a group commit), which costs less
        // than a message per request.
        this.receiptWindow = answerWhenApplied ? 1 : MAX_IN_FLIGHT;
        this.syncTimeoutMs = (int) Math.min(Integer.MAX_VALUE, syncTimeoutMs);
        this.maxLagNanos = TimeUnit.MILLISECONDS.toNanos(maxLagMs);
        this.outcomes = outcomes;
        this.scheduler = scheduler;
        open();
    }

    /**
     * Hands a session's changes over: merged into its waiting write if it has one, else queued as
     * a new write based on the session's version. Never blocks on the agent.
     *
     * @param retiredId an id given up by changeSessionId, invalidated at the agent once this applies
     * @return the write now carrying the changes
     * @throws AgentClient.AgentException the agent is gone (the filter serves locally) or the filter closes:
     *                                    nothing was handed over, the change is counted as not replicated
     */
    public PendingWrite submit(SessionData s, SessionData.Delta d, String retiredId) throws AgentClient.AgentException {
        long now = System.nanoTime();
        boolean idle = false;
        PendingWrite w;
        lock.lock();
        try {
            if (health.isDown() || closing) {
                counters.increment(FilterCounter.WRITES_NOT_REPLICATED);
                throw new AgentClient.AgentException(Status.Code.UNAVAILABLE, "session agent at " + health.target()
                        + (closing ? ": the filter is closing" : " is unreachable: serving locally"), null);
            }
            String id = s.id();
            w = queued.get(id);
            if (w != null && w.invalidation) {
                // Ids are never reused and an invalidated session takes no writes.
                throw new IllegalStateException("session " + id + " is being invalidated");
            }
            if (w != null && w.session == s && !d.full) {
                s.handedOff(d, false);
                counters.increment(FilterCounter.WRITES_COALESCED);
            } else {
                if (w != null) {
                    // A whole write waits for the session's earlier writes to be answered first.
                    throw new IllegalStateException("session " + id + " already has a write waiting");
                }
                w = new PendingWrite(s, s.handedOff(d, true), d.full, now);
                queued.put(id, w);
                pending++;
                if (oldestNanos == NONE) {
                    oldestNanos = now;
                }
                // With a batch in flight its answer sends this one, with everything that arrives
                // meanwhile: one hand-off per batch, not per request.
                idle = unreceived == 0;
            }
            w.merge(d, s.thisAccessedTime(), s.maxInactiveSeconds());
            if (retiredId != null) {
                w.retiredId = retiredId;
            }
        } finally {
            lock.unlock();
        }
        if (idle) {
            send(false);
        }
        openIfNone();
        return w;
    }

    /**
     * Async mode: returns at once while replication keeps within max-replication-lag; else waits
     * until the writes older than that are answered, at most {@code timeoutMs}.
     */
    public void awaitLag(long timeoutMs) {
        long oldest = oldestNanos;
        if (oldest == NONE || System.nanoTime() - oldest <= maxLagNanos) {
            return;
        }
        counters.increment(FilterCounter.BACKPRESSURE_WAITS);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        lock.lock();
        try {
            while (true) {
                long now = System.nanoTime();
                oldest = oldestNanos;
                if (oldest == NONE || now - oldest <= maxLagNanos || health.isDown()) {
                    return;
                }
                if (now - deadline >= 0) {
                    counters.increment(FilterCounter.BACKPRESSURE_TIMEOUTS);
                    return;
                }
                answered.awaitNanos(deadline - now);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for the agent's answer to a write, at most {@code timeoutMs}; past it the request goes
     * on, counted, and the write stays in flight: a slow agent is never given up on.
     *
     * @return whether the answer came
     */
    public boolean awaitAnswer(PendingWrite w, long timeoutMs) {
        return await(w, timeoutMs, false);
    }

    /**
     * Async mode: waits until the agent holds a write (applied there, its replicas not awaited),
     * at most {@code timeoutMs}; past it the request goes on, counted, as with {@link #awaitAnswer}.
     *
     * @return whether the agent answered
     */
    public boolean awaitReceipt(PendingWrite w, long timeoutMs) {
        return await(w, timeoutMs, true);
    }

    private boolean await(PendingWrite w, long timeoutMs, boolean receipt) {
        try {
            if (w.await(timeoutMs, receipt)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        counters.increment(FilterCounter.BACKPRESSURE_TIMEOUTS);
        return false;
    }

    /**
     * Hands an invalidation of {@code id} over: it leaves behind every write of that id already
     * taken from the queue, so the agent applies it after them, and takes the place of the write
     * still waiting (its changes count as coalesced into the invalidation; its session learns that
     * it was not applied). Never blocks on the agent.
     *
     * @param session the session it ends, or null
     * @throws AgentClient.AgentException the agent is gone or the filter closes: nothing was handed over,
     *                                    counted as not replicated
     */
    public PendingWrite invalidate(String id, SessionData session, int maxInactiveSeconds)
            throws AgentClient.AgentException {
        long now = System.nanoTime();
        PendingWrite w;
        PendingWrite replaced;
        boolean idle;
        lock.lock();
        try {
            if (health.isDown() || closing) {
                counters.increment(FilterCounter.WRITES_NOT_REPLICATED);
                throw new AgentClient.AgentException(Status.Code.UNAVAILABLE, "session agent at " + health.target()
                        + (closing ? ": the filter is closing" : " is unreachable: serving locally"), null);
            }
            replaced = queued.get(id);
            if (replaced != null && replaced.invalidation) {
                return replaced;
            }
            w = new PendingWrite(id, session, maxInactiveSeconds, replaced == null ? now : replaced.sinceNanos);
            // A LinkedHashMap keeps the place in line of a key put again.
            queued.put(id, w);
            if (replaced == null) {
                pending++;
                if (oldestNanos == NONE) {
                    oldestNanos = now;
                }
            } else {
                counters.add(FilterCounter.WRITES_COALESCED, replaced.changes());
            }
            idle = unreceived == 0;
        } finally {
            lock.unlock();
        }
        if (replaced != null) {
            outcomes.lost(replaced);
            replaced.failed(new AgentClient.AgentException(Status.Code.CANCELLED, "session " + id
                    + " invalidated before this write left", null));
        }
        if (idle) {
            send(false);
        }
        openIfNone();
        return w;
    }

    /** Writes queued or in flight. */
    public int pendingWrites() {
        return pending;
    }

    /** How long the oldest unanswered write has waited, in ms; 0 when none waits. */
    public long lagMs() {
        long oldest = oldestNanos;
        return oldest == NONE ? 0 : Math.max(0, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - oldest));
    }

    // ---------------------------------------------------------------- sending

    /**
     * Sends the waiting writes while the stream is ready: when {@code window}, up to
     * {@link #MAX_IN_FLIGHT} batches unanswered (after an answer, or once the stream became
     * ready); else only while none is (a new write on an idle pipeline). One thread at a time:
     * another that finds a send under way leaves it to that one, or to the next answer.
     */
    private void send(boolean window) {
        while (true) {
            Call call;
            Batch batch;
            lock.lock();
            try {
                call = current;
                if (sending || call == null || call.stream == null || queued.isEmpty()
                        || unreceived >= (window ? receiptWindow : 1) || inFlight.size() >= MAX_UNREPLICATED
                        || !call.stream.isReady()) {
                    return;
                }
                sending = true;
                batch = take();
            } finally {
                lock.unlock();
            }
            try {
                call.stream.send(encode(batch));
            } catch (RuntimeException e) {
                // The call ended under us; its end is reported on the transport's thread as well.
                ended(call, Status.fromThrowable(e));
            } finally {
                lock.lock();
                try {
                    sending = false;
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Opens a stream: at start, after the backoff once the agent was gone, and when writes wait for one. */
    private void open() {
        lock.lock();
        try {
            openRequested = false;
        } finally {
            lock.unlock();
        }
        if (!health.mayCall()) {
            reopenLater();
            return;
        }
        Call call = new Call();
        lock.lock();
        try {
            if (closing || current != null) {
                return;
            }
            current = call;
        } finally {
            lock.unlock();
        }
        // Outside the lock: a channel that is shut down fails the call on this thread.
        WriteTransport.Stream stream = transport.open(call);
        lock.lock();
        try {
            call.stream = stream;
        } finally {
            lock.unlock();
        }
        send(true);
    }

    /**
     * A write was queued while no stream is open: the agent answered again (a unary call found it
     * back, or health says it may be called) before the reopen scheduled at the last failure's
     * backoff. Open now rather than let the writes wait for that.
     */
    private void openIfNone() {
        lock.lock();
        try {
            if (current != null || closing || openRequested) {
                return;
            }
            openRequested = true;
        } finally {
            lock.unlock();
        }
        try {
            scheduler.execute(this::open);
        } catch (RejectedExecutionException e) {
            // The filter is closing: no stream to open.
        }
    }

    private void reopenLater() {
        try {
            scheduler.schedule(this::open, Math.max(1, health.untilProbeMs()), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // The filter is closing: no stream to reopen.
        }
    }

    /** Under the lock: the waiting writes, oldest first, up to the batch size. */
    private Batch take() {
        Batch b = new Batch(nextBatchId++);
        int bytes = 0;
        for (Iterator<PendingWrite> it = queued.values().iterator(); it.hasNext(); ) {
            PendingWrite w = it.next();
            if (!b.writes.isEmpty() && bytes + w.bytes() > MAX_BATCH_BYTES) {
                break;
            }
            it.remove();
            b.writes.add(w);
            b.changes += w.changes();
            bytes += w.bytes();
        }
        inFlight.add(b);
        unreceived++;
        return b;
    }

    /** Outside the lock: the writes of a batch taken from the queue are not touched by anyone else. */
    private WriteBatch encode(Batch b) {
        WriteBatch.Builder m = WriteBatch.newBuilder().setBatchId(b.id).setDurability(durability)
                .setSyncTimeoutMs(syncTimeoutMs).setAnswerWhenApplied(answerWhenApplied);
        for (PendingWrite w : b.writes) {
            m.addChanges(w.takeChange());
        }
        return m.build();
    }

    /** Under the lock, after the queue or the batches in flight changed. */
    private void recount() {
        int n = 0;
        long oldest = NONE;
        for (Batch b : inFlight) {
            n += b.writes.size();
            if (oldest == NONE) {
                oldest = b.writes.get(0).sinceNanos;
            }
        }
        n += queued.size();
        if (oldest == NONE && !queued.isEmpty()) {
            oldest = queued.values().iterator().next().sinceNanos;
        }
        pending = n;
        oldestNanos = oldest;
    }

    // ---------------------------------------------------------------- transport thread

    /** One stream; events of a stream that is no longer the current one are ignored. */
    private final class Call implements WriteTransport.Listener {
        /** Set once {@link WriteTransport#open} returned; guarded by lock. */
        WriteTransport.Stream stream;

        @Override
        public void onReady() {
            lock.lock();
            try {
                if (current != this) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            health.answered();
            send(true);
        }

        @Override
        public void onResult(WriteBatchResult r) {
            if (r.getInterim()) {
                onInterim(r);
                return;
            }
            Batch b;
            lock.lock();
            try {
                if (current != this) {
                    return;
                }
                b = inFlight.peek();
                if (b == null || b.id != r.getBatchId() || r.getResultsCount() != b.writes.size()) {
                    // The agent answers in order, one result per change: without that nothing can be matched.
                    LOG.severe("session agent answered batch " + r.getBatchId() + " with " + r.getResultsCount()
                            + " results, expected " + (b == null ? "none" : "batch " + b.id + " with "
                            + b.writes.size()));
                    b = null;
                } else {
                    inFlight.poll();
                    if (!b.received) {
                        unreceived--;
                    }
                    recount();
                    answered.signalAll();
                }
            } finally {
                lock.unlock();
            }
            if (b == null) {
                stream.finish();
                ended(this, Status.INTERNAL.withDescription("answers out of order"));
                return;
            }
            health.answered();
            if (r.getOutcome() == WriteOutcome.WRITE_OUTCOME_SYNC_TIMEOUT) {
                counters.add(FilterCounter.WRITES_UNCONFIRMED, b.changes);
            }
            for (int i = 0; i < b.writes.size(); i++) {
                PendingWrite w = b.writes.get(i);
                ChangeResult c = r.getResults(i);
                if (c.getErrorCode() == 0) {
                    outcomes.applied(w, c.getVersion());
                    w.succeeded(c.getVersion());
                } else {
                    Status.Code code = Status.fromCodeValue(c.getErrorCode()).getCode();
                    AgentClient.AgentException e = new AgentClient.AgentException(code, "WriteBatches " + w.id + ": "
                            + code + " " + c.getErrorMessage(), null);
                    outcomes.refused(w, e);
                    w.failed(e);
                }
            }
            // On the transport's thread, with no hand-off: what waited for this answer leaves now.
            send(true);
        }

        /** The agent holds a batch's writes: the requests waiting for that go on; it stays in flight. */
        private void onInterim(WriteBatchResult r) {
            Batch b = null;
            lock.lock();
            try {
                if (current != this) {
                    return;
                }
                for (Batch f : inFlight) {
                    if (f.id == r.getBatchId() && !f.received && r.getResultsCount() == f.writes.size()) {
                        b = f;
                        b.received = true;
                        unreceived--;
                        break;
                    }
                }
            } finally {
                lock.unlock();
            }
            if (b == null) {
                LOG.severe("session agent answered batch " + r.getBatchId() + " first with " + r.getResultsCount()
                        + " results; no batch with that many waits for a first answer");
                stream.finish();
                ended(this, Status.INTERNAL.withDescription("interim answer to an unknown batch"));
                return;
            }
            health.answered();
            for (PendingWrite w : b.writes) {
                w.received();
            }
            // The window has room again: what waited leaves on this thread, as after a final answer.
            send(true);
        }

        @Override
        public void onClosed(Status status) {
            ended(this, status);
        }
    }

    /** A stream ended: what it carried, and what waited, is not replicated; the agent counts as gone. */
    private void ended(Call call, Status status) {
        List<PendingWrite> lost = new ArrayList<>();
        boolean failure;
        lock.lock();
        try {
            if (current != call) {
                return;
            }
            current = null;
            failure = !closing || !status.isOk();
            for (Batch b : inFlight) {
                lost.addAll(b.writes);
            }
            inFlight.clear();
            unreceived = 0;
            if (!closing) {
                lost.addAll(queued.values());
                queued.clear();
            }
            recount();
            if (failure) {
                counters.increment(FilterCounter.STREAM_FAILURES);
                if (!closing) {
                    health.gone("WriteBatches", status);
                }
            }
            answered.signalAll();
        } finally {
            lock.unlock();
        }
        lose(lost, status);
        if (!closing) {
            reopenLater();
        }
    }

    /** Outside the lock: writes that will not reach the agent are counted and their sessions told. */
    private void lose(List<PendingWrite> writes, Status why) {
        AgentClient.AgentException e = new AgentClient.AgentException(why.getCode(), "WriteBatches: " + why,
                why.getCause());
        for (PendingWrite w : writes) {
            counters.add(FilterCounter.WRITES_NOT_REPLICATED, w.changes());
            outcomes.lost(w);
            w.failed(e);
        }
    }

    /**
     * Sends what is waiting, waits (at most {@code timeoutMs}) for the agent to answer it and what
     * is in flight, then ends the stream. Writes that could not be sent count as not replicated.
     */
    void close(long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        lock.lock();
        try {
            closing = true;
        } finally {
            lock.unlock();
        }
        send(true);
        Call call;
        List<PendingWrite> unsent;
        lock.lock();
        try {
            while (current != null && (!inFlight.isEmpty() || !queued.isEmpty())) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                answered.awaitNanos(left);
            }
            call = current;
            unsent = new ArrayList<>(queued.values());
            queued.clear();
            recount();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } finally {
            lock.unlock();
        }
        if (call != null && call.stream != null) {
            call.stream.finish();
        }
        lose(unsent, Status.CANCELLED.withDescription("the filter closed before these reached the agent"));
    }

    @Override
    public void close() {
        close(2_000);
    }
}
