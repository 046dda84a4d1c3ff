package io.sessionagent.filter.core;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
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
import io.sessionagent.proto.v1.WriteRequest;
import io.sessionagent.proto.v1.WriteResponse;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The local agent, over gRPC. Every call has a deadline. After a transport failure the client
 * stops calling for a backoff period that doubles up to {@link #MAX_BACKOFF_MS}, so that a dead
 * agent costs each request nothing; the first call after the period probes the agent again.
 */
public final class AgentClient implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AgentClient.class.getName());
    static final long INITIAL_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 5_000;
    private static final long WARM_UP_TIMEOUT_MS = 10_000;

    private final ManagedChannel channel;
    private final SessionServiceGrpc.SessionServiceBlockingStub stub;
    private final long timeoutMs;
    private final FilterCounters counters;
    private final LongSupplier clockMs;
    private final String target;

    // Guarded by this.
    private long backoffMs;
    private long retryAtMs;
    private boolean down;

    public AgentClient(String host, int port, long timeoutMs, FilterCounters counters, LongSupplier clockMs) {
        this.target = host + ":" + port;
        this.channel = NettyChannelBuilder.forAddress(new InetSocketAddress(host, port))
                .usePlaintext()
                // The agent is on this host; a large message is a large session.
                .maxInboundMessageSize(64 << 20)
                .build();
        this.stub = SessionServiceGrpc.newBlockingStub(channel);
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

    /** @return the session's version after the write */
    public long write(SessionChange change, ReplicationMode mode, long syncTimeoutMs) throws AgentException {
        WriteRequest.Builder req = WriteRequest.newBuilder().setChange(change);
        long deadline = timeoutMs;
        if (mode == ReplicationMode.SYNC) {
            req.setDurability(Durability.DURABILITY_SYNC_ONE).setSyncTimeoutMs((int) Math.min(syncTimeoutMs,
                    Integer.MAX_VALUE));
            // The agent answers by itself after the sync timeout; the deadline only covers a hung agent.
            deadline += syncTimeoutMs;
        } else {
            req.setDurability(Durability.DURABILITY_ASYNC);
        }
        beforeCall();
        try {
            WriteResponse r = stub.withDeadlineAfter(deadline, TimeUnit.MILLISECONDS).writeDelta(req.build());
            succeeded();
            return r.getVersion();
        } catch (StatusRuntimeException e) {
            throw failed("WriteDelta " + change.getId(), e);
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
        synchronized (this) {
            if (down) {
                LOG.info("session agent at " + target + " answers again");
            }
            down = false;
            backoffMs = 0;
        }
    }

    private AgentException failed(String call, StatusRuntimeException e) {
        Status s = e.getStatus();
        if (s.getCode() != Status.Code.ABORTED) {
            // A stale base is the protocol working, not the agent failing.
            counters.agentErrors.increment();
        }
        boolean answered = s.getCause() == null && s.getCode() != Status.Code.DEADLINE_EXCEEDED
                && s.getCode() != Status.Code.UNAVAILABLE;
        boolean joining = s.getCode() == Status.Code.UNAVAILABLE && s.getCause() == null
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
            return new AgentException(s.getCode(), call + ": " + s, e);
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
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
