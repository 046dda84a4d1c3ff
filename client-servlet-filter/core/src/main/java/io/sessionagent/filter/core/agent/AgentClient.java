package io.sessionagent.filter.core.agent;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.sessionagent.proto.v1.Access;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.TouchRequest;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The connection to the local agent and its unary calls ({@code GetSession}, {@code Touch}), each
 * with the agent timeout as deadline. Writes and invalidations go over the same channel through
 * {@link WritePipeline}. A call that finds the agent gone (connection refused or broken)
 * tells {@link AgentHealth}; one that only takes too long does not: a slow agent is not a dead one.
 *
 * <p>The channel runs on an event loop of its own, which also runs its deadlines and its name
 * resolution, instead of gRPC's shared ones: {@link #close} stops it, so that a web application
 * that is stopped or redeployed leaves no thread behind (gRPC's shared pools outlive it, and keep
 * its class loader).
 */
public final class AgentClient implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AgentClient.class.getName());
    private static final long WARM_UP_TIMEOUT_MS = 10_000;

    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final EventLoopGroup eventLoop;
    private final ManagedChannel channel;
    private final SessionServiceGrpc.SessionServiceBlockingStub stub;
    private final long timeoutMs;
    private final FilterCounters counters;
    private final AgentHealth health;

    /** @param token the agent's API token, sent with every call; null for none */
    public AgentClient(String host, int port, String token, long timeoutMs, FilterCounters counters, AgentHealth health) {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.eventLoop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("session-agent-client", true), io);
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(new InetSocketAddress(host, port));
        if (token != null) {
            Metadata headers = new Metadata();
            headers.put(AUTHORIZATION, "Bearer " + token);
            builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        this.channel = builder
                .eventLoopGroup(eventLoop)
                .channelType(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .offloadExecutor(eventLoop)
                .usePlaintext()
                // The agent is on this host; a large message is a large session.
                .maxInboundMessageSize(64 << 20)
                // Callbacks only hand answers over; a hop to another thread per answer costs more.
                .directExecutor()
                // The write stream lives as long as the filter: a retry buffer would only copy every batch.
                .disableRetry()
                .build();
        this.stub = SessionServiceGrpc.newBlockingStub(channel);
        this.timeoutMs = timeoutMs;
        this.counters = counters;
        this.health = health;
    }

    public ManagedChannel channel() {
        return channel;
    }

    /** The agent failed, refused, or is gone. */
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

        /**
         * The agent answered that it cannot answer yet: it is still joining the cluster, or still
         * applying what it received of the session's writes (a member failed moments ago).
         */
        public boolean isNotYet() {
            return code == Status.Code.UNAVAILABLE && getCause() == null;
        }
    }

    /** @return the live record, or null when the agent holds none */
    public SessionRecord get(String id) throws AgentException {
        beforeCall("GetSession");
        try {
            GetSessionResponse r = stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                    .getSession(GetSessionRequest.newBuilder().setId(id).build());
            health.answered();
            return r.getFound() && !r.getSession().getInvalidated() ? r.getSession() : null;
        } catch (StatusRuntimeException e) {
            throw failed("GetSession " + id, e);
        }
    }

    public void touch(Map<String, Long> accesses) throws AgentException {
        TouchRequest.Builder b = TouchRequest.newBuilder();
        for (Map.Entry<String, Long> e : accesses.entrySet()) {
            b.addAccesses(Access.newBuilder().setId(e.getKey()).setAccessTimeMs(e.getValue()));
        }
        beforeCall("Touch");
        try {
            stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS).touch(b.build());
            health.answered();
        } catch (StatusRuntimeException e) {
            throw failed("Touch", e);
        }
    }

    private void beforeCall(String call) throws AgentException {
        if (!health.mayCall()) {
            counters.increment(FilterCounter.AGENT_CALLS_SKIPPED);
            throw new AgentException(Status.Code.UNAVAILABLE, call + ": agent at " + health.target()
                    + " is unreachable; next try in " + health.untilProbeMs() + " ms",
                    new IllegalStateException("backoff"));
        }
        if (health.isDown()) {
            // This call is the probe: gRPC's own reconnect backoff grows to two minutes.
            channel.resetConnectBackoff();
        }
    }

    private AgentException failed(String call, StatusRuntimeException e) {
        Status s = e.getStatus();
        if (s.getCode() != Status.Code.ABORTED) {
            // A stale base is the protocol working, not the agent failing.
            counters.increment(FilterCounter.AGENT_ERRORS);
        }
        if (isGone(s)) {
            health.gone(call, s);
            return new AgentException(s.getCode(), call + ": " + s, s.getCause() != null ? s.getCause() : e);
        }
        boolean notYet = s.getCode() == Status.Code.UNAVAILABLE;
        if (!notYet) {
            LOG.log(Level.FINE, "session agent refused or was slow to answer " + call + ": " + s);
        }
        return new AgentException(s.getCode(), call + ": " + s, notYet ? null : e);
    }

    /**
     * The connection failed: refused, reset, or the channel cannot connect. An UNAVAILABLE the
     * agent itself answered (still joining or catching up, draining) comes over a working connection.
     */
    private boolean isGone(Status s) {
        return s.getCode() == Status.Code.UNAVAILABLE
                && (s.getCause() != null || channel.getState(false) != ConnectivityState.READY);
    }

    /**
     * Connects and makes one harmless call in the background, so that the first request that
     * needs the agent (in a fresh JVM: a failover restore, say) does not spend its deadline on the
     * connection and on loading gRPC's classes. Its outcome is ignored.
     */
    public void warmUp() {
        channel.getState(true);
        SessionServiceGrpc.newStub(channel).withDeadlineAfter(WARM_UP_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .getSession(GetSessionRequest.newBuilder().setId("warm-up").build(),
                        new StreamObserver<GetSessionResponse>() {
                            @Override
                            public void onNext(GetSessionResponse value) {
                            }

                            @Override
                            public void onError(Throwable t) {
                                LOG.log(Level.FINE, "warming up the connection to the session agent at "
                                        + health.target() + ": " + t);
                            }

                            @Override
                            public void onCompleted() {
                            }
                        });
    }

    @Override
    public void close() {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
                channel.shutdownNow();
                channel.awaitTermination(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            channel.shutdownNow();
        }
        // No quiet period: nothing can use the channel any more.
        eventLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
