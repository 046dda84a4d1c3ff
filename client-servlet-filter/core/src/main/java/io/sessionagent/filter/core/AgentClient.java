package io.sessionagent.filter.core;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.sessionagent.proto.v1.Access;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.InvalidateRequest;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.TouchRequest;
import io.sessionagent.proto.v1.WriteOutcome;
import io.sessionagent.proto.v1.WriteRequest;
import io.sessionagent.proto.v1.WriteResponse;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The local agent, over gRPC. Writes travel over one long-lived WriteStream, in the order they
 * were handed over (one HTTP/2 stream: no call setup, headers or timer per write); the other calls
 * are unary. Every call and every write has a deadline. After a transport failure the client stops
 * calling for a backoff period that doubles up to {@link #MAX_BACKOFF_MS}, so that a dead agent
 * costs each request nothing; the first call after the period probes the agent again (for writes:
 * the first write on a new stream, which its caller waits for).
 */
public final class AgentClient implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AgentClient.class.getName());
    static final long INITIAL_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 5_000;
    private static final long WARM_UP_TIMEOUT_MS = 10_000;
    /** Writes handed to the stream and not answered yet, at most; about 1 KB each in the benchmark. */
    static final int MAX_IN_FLIGHT = 4096;

    private final ManagedChannel channel;
    private final SessionServiceGrpc.SessionServiceBlockingStub stub;
    private final SessionServiceGrpc.SessionServiceStub asyncStub;
    /** Room for unanswered writes: a request waits for it rather than queueing without bound. */
    private final Semaphore permits;
    private final int maxInFlight;
    private final Object streamLock = new Object();
    // Guarded by streamLock.
    private WriteStream stream;
    private long nextCorrelationId;
    private volatile boolean closing;
    private final long timeoutMs;
    private final FilterCounters counters;
    private final LongSupplier clockMs;
    private final String target;

    // Guarded by this; down is also read without the lock, on every call.
    private long backoffMs;
    private long retryAtMs;
    private volatile boolean down;

    public AgentClient(String host, int port, long timeoutMs, FilterCounters counters, LongSupplier clockMs) {
        this(host, port, timeoutMs, counters, clockMs, MAX_IN_FLIGHT);
    }

    AgentClient(String host, int port, long timeoutMs, FilterCounters counters, LongSupplier clockMs,
                int maxInFlight) {
        this.target = host + ":" + port;
        this.channel = NettyChannelBuilder.forAddress(new InetSocketAddress(host, port))
                .usePlaintext()
                // The agent is on this host; a large message is a large session.
                .maxInboundMessageSize(64 << 20)
                // Callbacks only hand answers over (see WriteListener); a hop to another thread per answer costs more.
                .directExecutor()
                // The stream lives as long as the filter: a retry buffer would only copy every write.
                .disableRetry()
                .build();
        this.stub = SessionServiceGrpc.newBlockingStub(channel);
        this.asyncStub = SessionServiceGrpc.newStub(channel);
        this.maxInFlight = maxInFlight;
        this.permits = new Semaphore(maxInFlight);
        this.timeoutMs = timeoutMs;
        this.counters = counters;
        this.clockMs = clockMs;
    }

    /** The agent failed, refused, or is in its backoff period. */
    public static final class AgentException extends Exception {
        private final Status.Code code;

        AgentException(Status.Code code, String message, Throwable cause) {
            super(message, cause);
            this.code = code;
        }

        public Status.Code code() {
            return code;
        }

        /** The agent answered that the caller's base version is stale. */
        public boolean isConflict() {
            return code == Status.Code.ABORTED;
        }

        /** The agent answered that it is still joining the cluster. */
        public boolean isJoining() {
            return code == Status.Code.UNAVAILABLE && getCause() == null;
        }
    }

    /** What becomes of a write handed to the stream; called once, on gRPC's network thread: must not block. */
    public interface WriteListener {
        /** @param awaited whether the thread that handed the write over waits for this answer */
        void written(long version, boolean awaited);

        /** @param awaited whether the thread that handed the write over waits for this answer */
        void failed(AgentException e, boolean awaited);
    }

    private static final WriteListener IGNORE = new WriteListener() {
        @Override
        public void written(long version, boolean awaited) {
        }

        @Override
        public void failed(AgentException e, boolean awaited) {
        }
    };

    /** A write handed to the stream; its listener runs once the agent answered or the stream failed. */
    public static final class Write {
        private final long correlationId;
        private final WriteListener listener;
        private final long deadlineNanos;
        private final boolean awaited;
        // Guarded by this.
        private boolean done;
        private long version;
        private AgentException error;

        Write(long correlationId, WriteListener listener, long deadlineNanos, boolean awaited) {
            this.correlationId = correlationId;
            this.listener = listener;
            this.deadlineNanos = deadlineNanos;
            this.awaited = awaited;
        }

        /**
         * Whether the caller must wait for the answer: a sync write, or a write on a stream that
         * has not answered yet (it probes a new connection, which may fail).
         */
        public boolean mustWait() {
            return awaited;
        }

        void succeed(long v) {
            listener.written(v, awaited);
            synchronized (this) {
                version = v;
                done = true;
                notifyAll();
            }
        }

        void fail(AgentException e) {
            listener.failed(e, awaited);
            synchronized (this) {
                error = e;
                done = true;
                notifyAll();
            }
        }

        synchronized boolean isDone() {
            return done;
        }
    }

    /**
     * Hands a change to the agent and waits for the answer whatever the mode.
     *
     * @return the session's version after the write
     */
    public long write(SessionChange change, ReplicationMode mode, long syncTimeoutMs) throws AgentException {
        Write w = write(change, mode, syncTimeoutMs, IGNORE);
        return await(w);
    }

    /**
     * Hands a change to the agent over the one write stream, in order behind every write handed
     * over before. Waits only for room when {@code maxInFlight} writes are unanswered (at most the
     * agent timeout). The listener runs exactly once if this returns, never if it throws.
     *
     * @throws AgentException the write was not handed over: the agent is in its backoff period,
     *                        or no room came free in time
     */
    public Write write(SessionChange change, ReplicationMode mode, long syncTimeoutMs, WriteListener listener)
            throws AgentException {
        WriteRequest.Builder req = WriteRequest.newBuilder().setChange(change);
        long deadlineMs = timeoutMs;
        if (mode == ReplicationMode.SYNC) {
            req.setDurability(Durability.DURABILITY_SYNC_ONE).setSyncTimeoutMs((int) Math.min(syncTimeoutMs,
                    Integer.MAX_VALUE));
            // The agent answers by itself after the sync timeout; the deadline only covers a hung agent.
            deadlineMs += syncTimeoutMs;
        } else {
            req.setDurability(Durability.DURABILITY_ASYNC);
        }
        // A hung agent is noticed by the filter's timer (checkStalled), by a writer that finds no
        // room, and by one that waits for its answer: not by a check on every write.
        beforeCall();
        boolean room;
        try {
            room = permits.tryAcquire(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            room = false;
        }
        if (!room) {
            // Not one answer in the agent timeout: the agent hangs. Counted as the stream's failure.
            giveUp(Status.DEADLINE_EXCEEDED.withDescription(maxInFlight + " writes unanswered for " + timeoutMs
                    + " ms"));
            throw new AgentException(Status.Code.DEADLINE_EXCEEDED, "WriteStream " + change.getId() + ": "
                    + maxInFlight + " writes unanswered for " + timeoutMs + " ms", new IllegalStateException("full"));
        }
        WriteStream ws;
        Write w;
        synchronized (streamLock) {
            ws = stream;
            if (ws == null || ws.ended) {
                ws = new WriteStream();
                stream = ws;
                asyncStub.writeStream(ws);
            }
            if (ws.ended) {
                // Failed as it started (the channel is shut down); the stream's failure was counted.
                permits.release();
                throw new AgentException(Status.Code.UNAVAILABLE, "WriteStream to " + target + " failed at start",
                        new IllegalStateException("stream ended"));
            }
            long id = ++nextCorrelationId;
            w = new Write(id, listener, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadlineMs),
                    mode == ReplicationMode.SYNC || !ws.confirmed);
            ws.pending.add(w);
            ws.requests.onNext(req.setCorrelationId(id).build());
        }
        return w;
    }

    /**
     * Waits for a write's answer, up to its deadline; past it, the stream is given up (every
     * write on it fails) and the client backs off, as after a call's deadline.
     *
     * @return the session's version after the write
     */
    public long await(Write w) throws AgentException {
        synchronized (w) {
            while (!w.done) {
                long left = w.deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(w, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (!w.isDone()) {
            giveUp(Status.DEADLINE_EXCEEDED.withDescription("no answer to write " + w.correlationId + " in time"));
        }
        synchronized (w) {
            // The stream's failure completes the write, on this thread or on gRPC's.
            while (!w.done) {
                try {
                    w.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AgentException(Status.Code.CANCELLED, "interrupted", e);
                }
            }
            if (w.error != null) {
                throw w.error;
            }
            return w.version;
        }
    }

    /** Gives up the stream when its oldest write is past its deadline: the agent hangs. */
    public void checkStalled() {
        synchronized (streamLock) {
            WriteStream ws = stream;
            Write head = ws == null ? null : ws.pending.peek();
            if (head != null && System.nanoTime() - head.deadlineNanos > 0) {
                cancel(ws, Status.DEADLINE_EXCEEDED.withDescription("no answer to write " + head.correlationId
                        + " in time"));
            }
        }
    }

    private void giveUp(Status why) {
        synchronized (streamLock) {
            if (stream != null) {
                cancel(stream, why);
            }
        }
    }

    // Under streamLock.
    private void cancel(WriteStream ws, Status why) {
        if (!ws.ended && ws.cancelledFor == null) {
            ws.cancelledFor = why;
            ws.requests.cancel(why.getDescription(), null);
        }
    }

    /**
     * One WriteStream call. The agent answers its writes in order, so the answer at hand belongs
     * to the oldest write not answered yet.
     */
    private final class WriteStream implements ClientResponseObserver<WriteRequest, WriteResponse> {
        // Guarded by streamLock.
        final ArrayDeque<Write> pending = new ArrayDeque<>();
        ClientCallStreamObserver<WriteRequest> requests;
        boolean ended;
        boolean confirmed;
        Status cancelledFor;

        @Override
        public void beforeStart(ClientCallStreamObserver<WriteRequest> r) {
            requests = r;
        }

        @Override
        public void onNext(WriteResponse r) {
            Write w;
            synchronized (streamLock) {
                w = pending.poll();
                confirmed = true;
            }
            if (w == null || w.correlationId != r.getCorrelationId()) {
                // The agent's order is the protocol's contract; without it no answer can be matched.
                giveUp(Status.INTERNAL.withDescription("answer " + r.getCorrelationId() + " out of order, expected "
                        + (w == null ? "none" : Long.toString(w.correlationId))));
                if (w != null) {
                    permits.release();
                    w.fail(new AgentException(Status.Code.INTERNAL, "answer out of order", null));
                }
                return;
            }
            permits.release();
            if (r.getOutcome() != WriteOutcome.WRITE_OUTCOME_REFUSED) {
                succeeded();
                w.succeed(r.getVersion());
                return;
            }
            Status.Code code = Status.fromCodeValue(r.getErrorCode()).getCode();
            if (code != Status.Code.ABORTED) {
                // A stale base is the protocol working, not the agent failing.
                counters.agentErrors.increment();
                LOG.log(Level.FINE, "session agent refused write of " + r.getCorrelationId() + ": " + code + " "
                        + r.getErrorMessage());
            }
            w.fail(new AgentException(code, "WriteStream: " + code + " " + r.getErrorMessage(), null));
        }

        @Override
        public void onError(Throwable t) {
            ended(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            ended(Status.UNAVAILABLE.withDescription("the agent ended the write stream"));
        }

        private void ended(Status status) {
            List<Write> failed;
            Status why;
            synchronized (streamLock) {
                ended = true;
                if (stream == this) {
                    stream = null;
                }
                failed = new ArrayList<>(pending);
                pending.clear();
                why = cancelledFor != null ? cancelledFor : status;
            }
            permits.release(failed.size());
            if (closing) {
                for (Write w : failed) {
                    w.fail(new AgentException(Status.Code.CANCELLED, "client closed", null));
                }
                return;
            }
            AgentException e = failed("WriteStream", why.asRuntimeException(), true);
            for (Write w : failed) {
                w.fail(e);
            }
        }
    }

    /** @return the live record, or null when the agent holds none */
    public SessionRecord get(String id) throws AgentException {
        beforeCall();
        try {
            GetSessionResponse r = stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                    .getSession(GetSessionRequest.newBuilder().setId(id).build());
            succeeded();
            return r.getFound() && !r.getSession().getInvalidated() ? r.getSession() : null;
        } catch (StatusRuntimeException e) {
            throw failed("GetSession " + id, e);
        }
    }

    public void invalidate(String id) throws AgentException {
        beforeCall();
        try {
            stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                    .invalidate(InvalidateRequest.newBuilder().setId(id).build());
            succeeded();
        } catch (StatusRuntimeException e) {
            throw failed("Invalidate " + id, e);
        }
    }

    public void touch(Map<String, Long> accesses) throws AgentException {
        TouchRequest.Builder b = TouchRequest.newBuilder();
        for (Map.Entry<String, Long> e : accesses.entrySet()) {
            b.addAccesses(Access.newBuilder().setId(e.getKey()).setAccessTimeMs(e.getValue()));
        }
        beforeCall();
        try {
            stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS).touch(b.build());
            succeeded();
        } catch (StatusRuntimeException e) {
            throw failed("Touch", e);
        }
    }

    private void beforeCall() throws AgentException {
        if (!down) {
            return;
        }
        synchronized (this) {
            if (!down) {
                return;
            }
            long now = clockMs.getAsLong();
            if (now < retryAtMs) {
                counters.agentCallsSkipped.increment();
                throw new AgentException(Status.Code.UNAVAILABLE, "agent at " + target + " failed recently; next try in "
                        + (retryAtMs - now) + " ms", new IllegalStateException("backoff"));
            }
            // This call is the probe; the others keep failing fast until it answers.
            retryAtMs = now + backoffMs;
        }
        // gRPC's own reconnect backoff grows to two minutes; the probe must really try now.
        channel.resetConnectBackoff();
    }

    private void succeeded() {
        if (!down) {
            return;
        }
        synchronized (this) {
            if (down) {
                LOG.info("session agent at " + target + " answers again");
            }
            down = false;
            backoffMs = 0;
        }
    }

    private AgentException failed(String call, StatusRuntimeException e) {
        return failed(call, e, false);
    }

    /** @param transport the failure is the connection's, whatever its code: back off */
    private AgentException failed(String call, StatusRuntimeException e, boolean transport) {
        Status s = e.getStatus();
        if (s.getCode() != Status.Code.ABORTED) {
            // A stale base is the protocol working, not the agent failing.
            counters.agentErrors.increment();
        }
        boolean answered = !transport && s.getCause() == null && s.getCode() != Status.Code.DEADLINE_EXCEEDED
                && s.getCode() != Status.Code.UNAVAILABLE;
        boolean joining = !transport && s.getCode() == Status.Code.UNAVAILABLE && s.getCause() == null
                && channel.getState(false) == ConnectivityState.READY;
        if (!answered && !joining) {
            synchronized (this) {
                boolean wasDown = down;
                backoffMs = down ? Math.min(MAX_BACKOFF_MS, backoffMs * 2) : INITIAL_BACKOFF_MS;
                retryAtMs = clockMs.getAsLong() + backoffMs;
                down = true;
                if (!wasDown) {
                    LOG.log(Level.WARNING, "session agent at " + target + " unreachable (" + call + ": " + s.getCode() + " " + s.getDescription()
                            + "); serving local sessions, retrying with backoff");
                }
            }
            return new AgentException(s.getCode(), call + ": " + s, e.getCause() != null ? e.getCause() : e);
        }
        if (!joining) {
            LOG.log(Level.FINE, "session agent refused " + call + ": " + s);
        }
        return new AgentException(s.getCode(), call + ": " + s, null);
    }

    /**
     * Connects and makes one harmless call in the background, so that the first request that
     * needs the agent (in a fresh JVM: a failover restore, say) does not spend its deadline on the
     * connection and on loading gRPC's classes. Its outcome is ignored: the backoff follows
     * requests' calls only.
     */
    public void warmUp() {
        Thread t = new Thread(() -> {
            try {
                channel.getState(true);
                stub.withDeadlineAfter(WARM_UP_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                        .getSession(GetSessionRequest.newBuilder().setId("warm-up").build());
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "warming up the connection to the session agent at " + target + ": " + e);
            }
        }, "session-agent-warm-up");
        t.setDaemon(true);
        t.start();
    }

    /** Whether the client is in a backoff period after a failure. */
    public synchronized boolean isDown() {
        return down;
    }

    synchronized long backoffMs() {
        return backoffMs;
    }

    @Override
    public void close() {
        closing = true;
        synchronized (streamLock) {
            if (stream != null && !stream.ended) {
                stream.requests.onCompleted();
            }
        }
        channel.shutdown();
        try {
            // Writes in flight are answered first: the agent applies them either way.
            if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
