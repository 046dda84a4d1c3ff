package io.sessionagent.agent;

import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.grpc.ServerServiceDefinition;
import io.sessionagent.agent.api.ApiToken;
import io.sessionagent.agent.api.DrainGate;
import io.sessionagent.agent.api.HealthReporter;
import io.sessionagent.agent.api.PeerServiceImpl;
import io.sessionagent.agent.api.SessionServiceImpl;
import io.sessionagent.agent.api.UnparsableRequests;
import io.sessionagent.agent.auth.ClusterKeys;
import io.sessionagent.agent.auth.FrameSealer;
import io.sessionagent.agent.auth.KeyFileException;
import io.sessionagent.agent.auth.PeerSealing;
import io.sessionagent.agent.auth.PeerTls;
import io.sessionagent.agent.cli.ViewJson;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.config.TokenFile;
import io.sessionagent.agent.http.AdminAccess;
import io.sessionagent.agent.http.AdminActions;
import io.sessionagent.agent.http.AdminEndpoints;
import io.sessionagent.agent.http.MetricsEndpoints;
import io.sessionagent.agent.http.OperatorHttpServer;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.CounterMeters;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.metrics.GrpcServerMeters;
import io.sessionagent.agent.metrics.Histograms;
import io.sessionagent.agent.metrics.JvmMeters;
import io.sessionagent.agent.metrics.PrometheusUnits;
import io.sessionagent.agent.monitoring.AgentGauges;
import io.sessionagent.agent.replication.PeerClients;
import io.sessionagent.agent.replication.ReplicationSettings;
import io.sessionagent.agent.replication.Replicator;
import io.sessionagent.agent.store.Hashing;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.MulticastTransport;
import io.sessionagent.agent.transport.Transport;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * One agent: wires the parts together, starts them in order and stops them in the reverse
 * order. Holds no logic of its own.
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    /**
     * Room above the largest session for the rest of a gRPC message: a peer's record chunk holds
     * up to 1 MiB of records plus one more record.
     */
    private static final int MESSAGE_SLACK_BYTES = (1 << 20) + 64 * 1024;
    /**
     * Largest request the PeerService takes: at most 10,000 ids of at most 128 characters, or
     * 65,536 bucket ids. Every byte of an inbound message is buffered (off-heap) before it is
     * parsed, and concurrent calls each buffer theirs, so no port takes more than its callers need.
     */
    private static final int PEER_REQUEST_BYTES = 2 << 20;
    /** Room above the largest session in a SessionService request: id, names, removals, a touch batch. */
    private static final int REQUEST_SLACK_BYTES = 64 * 1024;
    /** A SessionService request may always be this large (touch batches, listings), whatever the session limit. */
    private static final int MIN_REQUEST_BYTES = 1 << 20;
    /** How long a drain or a stop lets SessionService calls in flight finish before the leave. */
    private static final long IN_FLIGHT_GRACE_MS = 2_000;
    /** How often the key file is checked for a change; a rotation step takes effect within it. */
    private static final long KEY_FILE_CHECK_MS = 2_000;

    private final AgentConfig config;
    private final LongSupplier clockMs;
    private final Function<AgentConfig, Transport> transportFactory;
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final Counters counters = new Counters();
    /** This agent's meters; one registry per agent, so agents in one JVM never mix. */
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private JvmMeters jvmMeters;
    private final HealthReporter health = new HealthReporter();
    private final DrainGate drainGate = new DrainGate(SessionServiceGrpc.SERVICE_NAME);
    private final long memberId;
    private final long incarnation;
    private SessionTable table;
    private Transport transport;
    private Replicator replicator;
    private PeerClients peers;
    private ClusterKeys keys;
    private Server peerServer;
    private Server sessionServer;
    private ScheduledExecutorService loop;
    private ExecutorService peerIo;
    private OperatorHttpServer operator;
    private volatile boolean closed;
    private volatile boolean drained;

    public Agent(AgentConfig config) {
        this(config, System::currentTimeMillis, null);
    }

    /**
     * @param transportFactory the datagram transport, or null for UDP multicast as configured; tests
     *                         pass an in-process one with faults
     */
    public Agent(AgentConfig config, LongSupplier clockMs, Function<AgentConfig, Transport> transportFactory) {
        this.config = config;
        this.clockMs = clockMs;
        this.transportFactory = transportFactory != null ? transportFactory : this::multicast;
        this.memberId = memberIdOf(config.nodeName());
        // A restart must raise the incarnation so that peers tell the new run from the old one.
        this.incarnation = System.currentTimeMillis() * 1000 + (System.nanoTime() / 1000) % 1000;
        // Before any meter exists: the convention names each meter as it is registered.
        registry.config().namingConvention(new PrometheusUnits());
    }

    /** The member id of a node name: stable across restarts, so a restart is recognised as one. */
    public static long memberIdOf(String nodeName) {
        return Hashing.hash64("member:" + nodeName);
    }

    /** The cluster id carried by every datagram: agents of other clusters drop each other's frames. */
    public static long clusterIdOf(String clusterName) {
        return Hashing.hash64("cluster:" + clusterName);
    }

    private Transport multicast(AgentConfig c) {
        try {
            return new MulticastTransport(c.multicastGroup(), c.multicastPort(), c.multicastInterface(),
                    c.multicastTtl(), (int) Math.min(Integer.MAX_VALUE, c.socketReceiveBuffer()),
                    () -> counters.increment(Counter.SEND_ERRORS));
        } catch (SocketException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public void start() throws Exception {
        long graceMs = 2 * config.accessFlushInterval().toMillis() + config.failureTimeout().toMillis();
        table = new SessionTable(new Limits(config.maxSessionBytes(), config.maxAttributes(), config.maxSessions(),
                config.maxTotalBytes()), clockMs, graceMs, config.tombstoneTtl().toMillis(), config.maxTombstones(),
                counters);
        // What a peer answers (record chunks) is sized by the sessions; what anyone asks is sized by
        // what a legitimate caller sends, so that a few hostile near-limit requests at once cannot
        // exhaust the agent's buffer memory.
        int maxMessage = (int) Math.min(Integer.MAX_VALUE - MESSAGE_SLACK_BYTES, Math.max(config.maxSessionBytes(),
                4 << 20)) + MESSAGE_SLACK_BYTES;
        int maxRequest = (int) Math.min(Integer.MAX_VALUE - REQUEST_SLACK_BYTES, Math.max(config.maxSessionBytes(),
                MIN_REQUEST_BYTES)) + REQUEST_SLACK_BYTES;

        CounterMeters.bind(counters, registry);
        jvmMeters = new JvmMeters(registry);
        Histograms histograms = new Histograms(registry);
        ServerInterceptor grpcMetrics = GrpcServerMeters.interceptor(registry);

        String peerHost = config.peerAddress().orElseGet(() -> interfaceAddress(config.multicastInterface()));
        keys = loadKeys(peerHost);
        // Read before any socket opens: a token file that cannot be used stops the start.
        AdminAccess adminAccess = AdminAccess.of(config.adminTokenFile(), config.metricsAddress());
        ApiToken apiToken = apiToken();
        PeerTls tls = PeerTls.of(config.peerTlsCertFile(), config.peerTlsKeyFile(), config.peerTlsCaFile())
                .orElse(null);
        PeerSealing sealing = keys == null ? null
                : new PeerSealing(keys, () -> counters.increment(Counter.PEER_AUTH_FAILURES));
        ServerServiceDefinition peerService = UnparsableRequests.refused(
                new PeerServiceImpl(table, counters, config.clusterName()), () -> {
                });
        NettyServerBuilder peerServerBuilder = NettyServerBuilder
                .forAddress(new InetSocketAddress(peerHost, config.peerPort()))
                .addService(sealing == null ? peerService : sealing.seal(peerService))
                .intercept(grpcMetrics)
                .maxInboundMessageSize(PEER_REQUEST_BYTES);
        if (tls != null) {
            peerServerBuilder.sslContext(tls.server());
        }
        peerServer = peerServerBuilder.build().start();
        String peerAddress = hostPort(peerHost, peerServer.getPort());

        transport = transportFactory.apply(config);
        // The protocol runs on the multicast socket's own thread where the transport offers it: no
        // hand-off between reading a frame and handling it, nor between making a datagram and writing it.
        loop = transport.ioLoop().orElseGet(() -> Executors.newSingleThreadScheduledExecutor(named("sa-protocol")));
        peerIo = Executors.newFixedThreadPool(2, named("sa-peer-io"));
        peers = new PeerClients(config.clusterName(), memberId, maxMessage, sealing, tls == null ? null : tls.client());
        int datagramBytes = config.maxDatagramBytes().orElseGet(() -> datagramBytesFor(config.multicastInterface()));
        FrameCodec codec = new FrameCodec(clusterIdOf(config.clusterName()), datagramBytes,
                keys == null ? null : new FrameSealer(keys, new SecureRandom().nextLong()));
        if (keys != null && keys.file() != null) {
            loop.scheduleWithFixedDelay(this::reloadKeys, KEY_FILE_CHECK_MS, KEY_FILE_CHECK_MS, TimeUnit.MILLISECONDS);
        }
        replicator = new Replicator(ReplicationSettings.from(config, memberId, incarnation, peerAddress), codec, transport, table, peers, counters, histograms, clockMs, loop, peerIo);
        transport.start(replicator);
        replicator.start();

        SessionServiceImpl.Identity self = new SessionServiceImpl.Identity(config.clusterName(), config.nodeName(),
                memberId, incarnation, peerAddress);
        SessionServiceImpl sessions = new SessionServiceImpl(table, replicator, counters, clockMs,
                config.syncTimeout().toMillis(), config.failoverReadWait().toMillis(), self);
        // The last interceptor added runs first: calls the drain gate or the token check refuses
        // are timed too.
        NettyServerBuilder sessionServerBuilder = NettyServerBuilder
                .forAddress(new InetSocketAddress(config.grpcAddress(), config.grpcPort()))
                .callExecutor(Agent::writesInline)
                .addService(UnparsableRequests.refused(sessions,
                        () -> counters.increment(Counter.GRPC_INVALID_ARGUMENT)))
                .addService(health.service())
                .intercept(drainGate);
        if (apiToken != null) {
            sessionServerBuilder.intercept(apiToken);
        }
        sessionServer = sessionServerBuilder
                .intercept(grpcMetrics)
                .maxInboundMessageSize(maxRequest)
                .build()
                .start();

        operator = new OperatorHttpServer();
        new MetricsEndpoints(registry, new AgentGauges(registry, replicator, table, memberId), replicator::state)
                .addTo(operator);
        new AdminEndpoints(adminActions(sessions), adminAccess, counters).addTo(operator);
        try {
            operator.start(config.metricsAddress(), config.metricsPort());
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + hostPort(config.metricsAddress(), config.metricsPort())
                    + " (metrics-address, metrics-port): " + e.getMessage(), e);
        }
        log.info("agent {} (member {}) of cluster '{}': SessionService on {}, PeerService on {}, metrics and admin"
                        + " on {}, datagrams of at most {} bytes", config.nodeName(), Long.toHexString(memberId),
                config.clusterName(), hostPort(config.grpcAddress(), grpcPort()), peerAddress,
                hostPort(config.metricsAddress(), metricsPort()), datagramBytes);
        replicator.ready().thenRun(() -> {
            health.ready();
            log.info("agent {} is ready: {} sessions held", config.nodeName(), table.liveCount());
        });
    }

    /**
     * WriteBatches runs on the gRPC event loop that read the batch: it only applies changes to the
     * table and queues them, never blocks, and a hop to an executor thread and back per batch costs
     * more than the work. Every other call keeps gRPC's executor (the cluster view waits for the
     * protocol thread).
     */
    private static <ReqT, RespT> java.util.concurrent.Executor writesInline(io.grpc.ServerCall<ReqT, RespT> call,
                                                                           io.grpc.Metadata headers) {
        return call.getMethodDescriptor().getFullMethodName().equals(
                SessionServiceGrpc.getWriteBatchesMethod().getFullMethodName()) ? Runnable::run : null;
    }

    private AdminActions adminActions(SessionServiceImpl sessions) {
        return new AdminActions() {
            @Override
            public boolean drained() {
                return Agent.this.drained();
            }

            @Override
            public boolean drain() throws InterruptedException {
                return Agent.this.drain();
            }

            @Override
            public void setReplicationEnabled(boolean enabled) {
                replicator.setReplicationEnabled(enabled);
            }

            @Override
            public String viewJson() {
                return ViewJson.format(sessions.clusterView());
            }
        };
    }

    /**
     * The SessionService's token, or null when it answers everyone who reaches it: allowed only on
     * a loopback address, where reaching it takes a login on this host.
     */
    private ApiToken apiToken() throws IOException {
        if (config.apiTokenFile().isPresent()) {
            return new ApiToken(TokenFile.read(config.apiTokenFile().get(), "api-token-file"),
                    () -> counters.increment(Counter.GRPC_UNAUTHENTICATED));
        }
        if (!InetAddress.getByName(config.grpcAddress()).isLoopbackAddress()) {
            throw new IOException("grpc-address " + config.grpcAddress() + " is not a loopback address and no"
                    + " api-token-file is set: anyone who reaches it could read and write every session. Make a"
                    + " token with 'head -c 32 /dev/urandom | base64 > api.token', set api-token-file on the agent"
                    + " and agent-token-file on the filter to it, or bind grpc-address to 127.0.0.1");
        }
        return null;
    }

    private ClusterKeys loadKeys(String peerHost) throws KeyFileException {
        if (config.clusterKeyFile().isEmpty()) {
            String reach = beyondThisHost(config.multicastInterface(), peerHost);
            boolean required = switch (config.requireClusterKey()) {
                case "true" -> true;
                case "false" -> false;
                default -> reach != null;
            };
            if (required) {
                throw new KeyFileException("no cluster-key-file, and "
                        + (reach != null ? reach : "require-cluster-key is true")
                        + ": anyone who can reach multicast group " + config.multicastGroup().getHostAddress() + ":"
                        + config.multicastPort() + " or the peer port could read and change every session. Make"
                        + " a key once with 'java -jar session-agent.jar keygen --id 1 > cluster.keys', chmod 600 it,"
                        + " give every node the same file and set cluster-key-file to it (or set"
                        + " require-cluster-key=false to run open on purpose)");
            }
            log.warn("no cluster-key-file: datagrams and peer messages travel unauthenticated and in clear; anyone"
                    + " who can reach multicast group {}:{} or peer port {} can read and change sessions",
                    config.multicastGroup().getHostAddress(), config.multicastPort(), config.peerPort());
            return null;
        }
        Path file = config.clusterKeyFile().get();
        ClusterKeys loaded = ClusterKeys.load(file);
        if (loaded.fileOpenToOthers()) {
            log.warn("cluster key file {} can be read or written by users other than its owner; chmod 600 it", file);
        }
        log.info("cluster key file {}: {}; datagrams and peer messages are sealed with AES-GCM", file,
                loaded.current());
        return loaded;
    }

    private void reloadKeys() {
        try {
            if (keys.reloadIfChanged()) {
                counters.increment(Counter.KEY_RELOADS);
                log.info("cluster key file {} changed: now {}", keys.file(), keys.current());
            }
        } catch (KeyFileException | RuntimeException e) {
            // Never fatal: the agent goes on with the keys it has, and the file is tried again when it changes.
            counters.increment(Counter.KEY_RELOAD_FAILURES);
            log.error("{}; keeping {}", e.getMessage(), keys.current());
        }
    }

    /**
     * Why packets of this agent could leave the host (a non-loopback multicast interface or peer
     * address), or null when every one stays on it.
     */
    static String beyondThisHost(String interfaceName, String peerHost) {
        try {
            NetworkInterface ni = NetworkInterface.getByName(interfaceName);
            if (ni == null || !ni.isLoopback()) {
                return "multicast-interface " + interfaceName + " is not a loopback interface";
            }
            InetAddress peer = InetAddress.getByName(peerHost);
            if (!peer.isLoopbackAddress()) {
                return "the peer address " + peerHost + " is not a loopback address";
            }
            return null;
        } catch (IOException e) {
            return "multicast-interface " + interfaceName + " cannot be read (" + e.getMessage() + ")";
        }
    }

    private static String interfaceAddress(String name) {
        try {
            NetworkInterface ni = NetworkInterface.getByName(name);
            if (ni != null) {
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        return a.getHostAddress();
                    }
                }
            }
        } catch (SocketException e) {
            throw new IllegalStateException("cannot read interface " + name + ": " + e.getMessage(), e);
        }
        throw new IllegalStateException("interface " + name + " has no IPv4 address; set peer-address");
    }

    /**
     * The largest datagram the interface carries whole: its MTU less the IPv4 (20) and UDP (8)
     * headers, at most 65000. Datagrams that large cut per-datagram costs (a 1 KB delta each at a
     * 1500-byte MTU, dozens per datagram on lo) without ever relying on IP fragmentation, where one
     * lost fragment loses the whole datagram.
     */
    static int datagramBytesFor(String interfaceName) {
        try {
            NetworkInterface ni = NetworkInterface.getByName(interfaceName);
            int mtu = ni == null ? -1 : ni.getMTU();
            if (mtu <= 0) {
                log.warn("the MTU of {} is unknown: datagrams of at most 1400 bytes; set max-datagram-bytes",
                        interfaceName);
                return 1400;
            }
            return Math.max(512, Math.min(65_000, mtu - 28));
        } catch (SocketException e) {
            throw new IllegalStateException("cannot read interface " + interfaceName + ": " + e.getMessage(), e);
        }
    }

    private static String hostPort(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static java.util.concurrent.ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    public int grpcPort() {
        return sessionServer.getPort();
    }

    public int peerPort() {
        return peerServer.getPort();
    }

    /** Port of /metrics, /health, /ready and the admin endpoints. */
    public int metricsPort() {
        return operator.port();
    }

    /** This agent's meters, as /metrics shows them. */
    public PrometheusMeterRegistry meterRegistry() {
        return registry;
    }

    public long memberId() {
        return memberId;
    }

    public SessionTable table() {
        return table;
    }

    public Counters counters() {
        return counters;
    }

    public Replicator replicator() {
        return replicator;
    }

    public long counter(Counter c) {
        return counters.get(c);
    }

    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /**
     * Leaves the cluster but keeps the process: SessionService calls are refused with
     * UNAVAILABLE, calls in flight finish (for up to 2 s), queued changes are sent, the leave is
     * announced, readiness and gRPC health report not serving. /metrics, /health and the admin
     * view keep answering until the agent is stopped, which the operator does after stopping the
     * app server that used it.
     *
     * @return false when the agent had drained or stopped already
     */
    public synchronized boolean drain() throws InterruptedException {
        if (closed || drained) {
            return false;
        }
        drained = true;
        log.info("agent {} draining: refusing new calls, then leaving the cluster", config.nodeName());
        health.leaving();
        drainGate.close();
        if (!drainGate.awaitIdle(IN_FLIGHT_GRACE_MS)) {
            log.warn("calls still open after {} ms; leaving anyway", IN_FLIGHT_GRACE_MS);
        }
        replicator.close();
        log.info("agent {} drained: left the cluster; stop the app server, then this agent", config.nodeName());
        return true;
    }

    /** True once {@link #drain} ran. */
    public boolean drained() {
        return drained;
    }

    /** Leaves the cluster in order, then stops serving. Safe to call more than once. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        log.info("agent {} leaving the cluster", config.nodeName());
        health.leaving();
        // New calls are refused first; calls in flight (sync writes waiting for acks) finish
        // while the protocol still runs; only then is the leave announced.
        if (sessionServer != null) {
            sessionServer.shutdown();
            awaitServer(sessionServer);
        }
        if (replicator != null) {
            replicator.close();
        }
        if (transport != null) {
            transport.close();
        }
        if (peerServer != null) {
            peerServer.shutdown();
        }
        awaitServer(peerServer);
        if (operator != null) {
            operator.close();
        }
        if (loop != null) {
            loop.shutdownNow();
        }
        if (peerIo != null) {
            peerIo.shutdownNow();
        }
        if (peers != null) {
            peers.close();
        }
        if (jvmMeters != null) {
            jvmMeters.close();
        }
        terminated.countDown();
    }

    private static void awaitServer(Server server) {
        if (server == null) {
            return;
        }
        try {
            if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }
}
