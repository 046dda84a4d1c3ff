package io.sessionagent.agent.fuzz;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.auth.ClusterKey;
import io.sessionagent.agent.auth.Keys;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.agent.testing.OperatorClient;
import io.sessionagent.agent.testing.SessionClient;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.MulticastTransport;
import io.sessionagent.agent.transport.Transport;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.ListSessionsRequest;
import io.sessionagent.proto.v1.ListSessionsResponse;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SessionSummary;
import io.sessionagent.proto.v1.WriteOutcome;
import io.sessionagent.proto.v1.WriteResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fuzz campaign against live agents: 300,000 broken datagrams on the multicast group (eight
 * kinds, paced so that the kernel's socket buffer does not drop them unseen), then random and
 * mutated calls to every PeerService and SessionService method and junk on both TCP ports, all
 * while a legitimate client makes acknowledged sync writes through the other agent. Afterwards
 * both agents must serve, hold exactly the acknowledged writes, and have dropped every broken
 * datagram under the reason the codec or the protocol gives.
 *
 * <p>{@code -Dfuzz.datagrams=N} changes the number of datagrams (default 300,000: the smallest kind
 * still gets 15,000, and every kind's drop counts are checked exactly), {@code -Dfuzz.keyed-datagrams=N}
 * those of the keyed campaign (default 100,000), {@code -Dfuzz.seed=S} the seed; a longer campaign
 * is {@code -Dfuzz.datagrams=1000000 -Dfuzz.keyed-datagrams=250000}. One {@code FUZZ} line per kind is printed for the record.
 */
class FrameFuzzIT {
    private static final int DATAGRAMS = Integer.getInteger("fuzz.datagrams", 300_000);
    /** The keyed campaign adds forged frames that only the key stops; the kinds it shares are run above. */
    private static final int KEYED_DATAGRAMS = Integer.getInteger("fuzz.keyed-datagrams", 100_000);
    private static final long SEED = Long.getLong("fuzz.seed", 20261126L);
    private static final int BURST = 200;
    private static final int MAX_DATAGRAM = 1400;
    private static final int LEGIT_SESSIONS = 40;
    private static final int PEER_CALLS = 3000;
    private static final int SESSION_CALLS = 3000;
    /** Share of the datagrams per kind, in thousandths. */
    private static final Map<DatagramFuzzer.Kind, Integer> SHARE = new EnumMap<>(Map.of(
            DatagramFuzzer.Kind.RANDOM_BYTES, 150,
            DatagramFuzzer.Kind.TRUNCATED, 125,
            DatagramFuzzer.Kind.OVERSIZED, 50,
            DatagramFuzzer.Kind.FOREIGN_CLUSTER, 125,
            DatagramFuzzer.Kind.WRONG_VERSION, 125,
            DatagramFuzzer.Kind.BIT_FLIPS, 200,
            DatagramFuzzer.Kind.CORRUPT_BODY, 125,
            DatagramFuzzer.Kind.REPLAY, 100));
    /** Against agents with a cluster key: every forged frame sealed with a key they do not hold. */
    private static final Map<DatagramFuzzer.Kind, Integer> SHARE_KEYED = new EnumMap<>(Map.of(
            DatagramFuzzer.Kind.RANDOM_BYTES, 100,
            DatagramFuzzer.Kind.TRUNCATED, 75,
            DatagramFuzzer.Kind.OVERSIZED, 25,
            DatagramFuzzer.Kind.FOREIGN_CLUSTER, 50,
            DatagramFuzzer.Kind.WRONG_VERSION, 50,
            DatagramFuzzer.Kind.BIT_FLIPS, 150,
            DatagramFuzzer.Kind.CORRUPT_BODY, 150,
            DatagramFuzzer.Kind.REPLAY, 150,
            DatagramFuzzer.Kind.FORGED, 250));
    private static final ClusterKey CLUSTER_KEY = Keys.key(1, 20261126);
    /** The attacker's key: the same id, other material. */
    private static final ClusterKey ATTACKER_KEY = Keys.key(1, 666);
    private static final Counter[] DROPS = {Counter.FRAMES_DROPPED_MALFORMED, Counter.FRAMES_DROPPED_VERSION,
            Counter.FRAMES_DROPPED_FOREIGN_CLUSTER, Counter.FRAMES_DROPPED_OVERSIZED,
            Counter.FRAMES_DROPPED_UNKNOWN_MEMBER, Counter.FRAMES_DROPPED_WINDOW_FULL,
            Counter.FRAMES_DROPPED_OVERLOAD, Counter.FRAMES_DROPPED_DUPLICATE_MEMBER, Counter.FRAMES_DROPPED_AUTH,
            Counter.FRAMES_DROPPED_REPLAY};
    private static final Set<Counter> CODEC_DROPS = Set.of(Counter.FRAMES_DROPPED_MALFORMED,
            Counter.FRAMES_DROPPED_VERSION, Counter.FRAMES_DROPPED_FOREIGN_CLUSTER, Counter.FRAMES_DROPPED_OVERSIZED,
            Counter.FRAMES_DROPPED_AUTH, Counter.FRAMES_DROPPED_REPLAY);

    @TempDir
    Path dir;

    private final Map<String, CountingTransport> transports = new ConcurrentHashMap<>();
    private final List<Throwable> uncaught = new CopyOnWriteArrayList<>();
    private final List<String> severe = new CopyOnWriteArrayList<>();
    private final Map<String, String> settings = Networks.loopbackCluster("fuzz-" + System.nanoTime());
    private TestCluster cluster;

    /** Counts what the real multicast transport hands to the agent and what the agent sends. */
    private static final class CountingTransport implements Transport {
        private final Transport delegate;
        final AtomicLong received = new AtomicLong();
        final AtomicLong sent = new AtomicLong();

        CountingTransport(Transport delegate) {
            this.delegate = delegate;
        }

        @Override
        public void start(Receiver receiver) throws Exception {
            delegate.start(new Receiver() {
                @Override
                public void datagram(byte[] d) {
                    received.incrementAndGet();
                    receiver.datagram(d);
                }

                @Override
                public void burstEnd() {
                    receiver.burstEnd();
                }
            });
        }

        @Override
        public java.util.Optional<java.util.concurrent.ScheduledExecutorService> ioLoop() {
            return delegate.ioLoop();
        }

        @Override
        public void send(byte[] datagram) {
            sent.incrementAndGet();
            delegate.send(datagram);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    private Transport counted(AgentConfig c) {
        try {
            CountingTransport t = new CountingTransport(new MulticastTransport(c.multicastGroup(), c.multicastPort(),
                    c.multicastInterface(), c.multicastTtl(), 4 << 20, () -> {
                    }));
            transports.put(c.nodeName(), t);
            return t;
        } catch (SocketException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The legitimate client: sync writes through one agent, remembering what was acknowledged. */
    private static final class LegitWriter implements Runnable {
        record Expected(long version, Map<String, ByteString> attributes) {
        }

        final Map<String, Expected> acked = new ConcurrentHashMap<>();
        final Map<WriteOutcome, Long> outcomes = new ConcurrentHashMap<>();
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        private final SessionClient client;
        private final Random random = new Random(SEED + 1);
        private volatile boolean stop;

        LegitWriter(SessionClient client) {
            this.client = client;
        }

        static String id(int i) {
            return String.format("legit%019d", i);
        }

        @Override
        public void run() {
            for (long n = 0; !stop; n++) {
                String id = id((int) (n % LEGIT_SESSIONS));
                Expected before = acked.get(id);
                byte[] value = new byte[16 + random.nextInt(400)];
                random.nextBytes(value);
                String name = "attr" + random.nextInt(4);
                try {
                    WriteResponse r = client.write(id, before == null ? 0 : before.version(), name, value,
                            Durability.DURABILITY_SYNC_ALL);
                    Map<String, ByteString> attributes = new HashMap<>(before == null ? Map.of()
                            : before.attributes());
                    attributes.put(name, ByteString.copyFrom(value));
                    acked.put(id, new Expected(r.getVersion(), attributes));
                    outcomes.merge(r.getOutcome(), 1L, Long::sum);
                } catch (RuntimeException e) {
                    failures.add(e);
                    return;
                }
                LockSupport.parkNanos(2_000_000);
            }
        }

        long writes() {
            return outcomes.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    @Test
    void hostileInputOnEveryPortLeavesTheAgentsServingAndTheTableExact() throws Exception {
        watched(false);
    }

    /**
     * The same against agents with a cluster key, plus forged frames that parse and carry a real
     * agent's member id and incarnation: all refused as unauthentic, replayed control frames as
     * replays, and the view and the table untouched.
     */
    @Test
    void withAClusterKeyForgedAndReplayedFramesAreRefusedToo() throws Exception {
        watched(true);
    }

    private void watched(boolean keyed) throws Exception {
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(e));
        // gRPC reports an exception escaping a service method as SEVERE on java.util.logging.
        Logger grpcLog = Logger.getLogger("io.grpc");
        Handler severeRecords = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    severe.add(r.getMessage() + (r.getThrown() == null ? "" : ": " + r.getThrown()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        grpcLog.addHandler(severeRecords);
        try {
            campaign(keyed);
        } finally {
            grpcLog.removeHandler(severeRecords);
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
    }

    private void campaign(boolean keyed) throws Exception {
        long started = System.nanoTime();
        Map<String, String> limits = Map.of("max-session-bytes", "64KiB", "max-attributes", "16",
                "max-sessions", "5000", "max-total-bytes", "64MiB", "sync-timeout", "5s");
        settings.putAll(limits);
        // The datagram limit of an agent on a 1500-byte Ethernet, so that oversized datagrams still fit UDP.
        settings.put("max-datagram-bytes", Integer.toString(MAX_DATAGRAM));
        if (keyed) {
            Path keys = dir.resolve("cluster.keys");
            Files.writeString(keys, Keys.fileText(CLUSTER_KEY));
            settings.put("cluster-key-file", keys.toString());
        }
        int datagrams = keyed ? KEYED_DATAGRAMS : DATAGRAMS;
        Map<DatagramFuzzer.Kind, Integer> share = keyed ? SHARE_KEYED : SHARE;
        List<DatagramFuzzer.Kind> kinds = List.copyOf(share.keySet());
        cluster = new TestCluster(settings, this::counted);
        Agent a = cluster.start("node-a");
        Agent b = cluster.start("node-b");
        a.replicator().ready().get();
        b.replicator().ready().get();
        AgentConfig config = AgentConfig.fromMap(settings);
        InetSocketAddress group = new InetSocketAddress(config.multicastGroup(), config.multicastPort());
        long clusterId = Agent.clusterIdOf(config.clusterName());

        LegitWriter writer = new LegitWriter(new SessionClient(b.grpcPort()));
        Thread writerThread = new Thread(writer, "legit-writer");
        writerThread.start();
        List<byte[]> captured = capture(config, Duration.ofSeconds(3), 2000);
        assertThat(captured).as("frames heard from the agents to replay").hasSizeGreaterThan(50);
        long replayableDataFromB = captured.stream().filter(f -> f[3] == 3 && member(f) == b.memberId()).count();

        MemoryUse heapBefore = MemoryUse.now();
        Set<String> threadsBefore = agentThreads();
        CountingTransport ta = transports.get("node-a");
        CountingTransport tb = transports.get("node-b");
        long[] base = {ta.received.get(), tb.received.get(), legitSent()};
        AtomicLong fuzzSent = new AtomicLong();

        DatagramFuzzer fuzzer = new DatagramFuzzer(SEED, clusterId, MAX_DATAGRAM,
                keyed ? FrameEncoder.sealedWith(Keys.fixed(ATTACKER_KEY)) : FrameEncoder::codec, captured);
        Map<DatagramFuzzer.Kind, Map<Counter, Long>> dropsByKind = new EnumMap<>(DatagramFuzzer.Kind.class);
        Map<DatagramFuzzer.Kind, long[]> rows = new EnumMap<>(DatagramFuzzer.Kind.class);
        long stalls = 0;
        long multicastStart = System.nanoTime();
        try (DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET)) {
            ch.setOption(StandardSocketOptions.IP_MULTICAST_IF, NetworkInterface.getByName("lo"));
            ch.setOption(StandardSocketOptions.IP_MULTICAST_TTL, 0);
            ch.setOption(StandardSocketOptions.SO_SNDBUF, 1 << 20);
            for (DatagramFuzzer.Kind kind : kinds) {
                long n = (long) datagrams * share.get(kind) / 1000;
                Map<Counter, Long> before = a.counters().snapshot();
                long seenBefore = fuzzSeen(ta, base[0], base[2]);
                long sentBBefore = tb.sent.get();
                long kindStart = System.nanoTime();
                long replayedDataFromB = 0;
                for (long i = 0; i < n; i++) {
                    byte[] d = fuzzer.next(kind);
                    if (kind == DatagramFuzzer.Kind.REPLAY && d[3] == 3 && member(d) == b.memberId()) {
                        replayedDataFromB++;
                    }
                    ch.send(ByteBuffer.wrap(d), group);
                    fuzzSent.incrementAndGet();
                    if (i % BURST == BURST - 1 && !await(fuzzSent.get() - BURST, ta, tb, base, 2_000)) {
                        stalls++;
                    }
                }
                await(fuzzSent.get(), ta, tb, base, 5_000);
                // The protocol thread counts after the transport hands over: a view is computed behind
                // every frame queued before it, so once it returns the kind is counted.
                a.replicator().view();
                Map<Counter, Long> after = a.counters().snapshot();
                Map<Counter, Long> drops = new EnumMap<>(Counter.class);
                for (Counter c : DROPS) {
                    long d = after.getOrDefault(c, 0L) - before.getOrDefault(c, 0L);
                    if (d > 0) {
                        drops.put(c, d);
                    }
                }
                dropsByKind.put(kind, drops);
                long passedCodec = after.get(Counter.FRAMES_RECEIVED) - before.get(Counter.FRAMES_RECEIVED)
                        - (tb.sent.get() - sentBBefore);
                long duplicates = after.get(Counter.FRAMES_DUPLICATE) - before.get(Counter.FRAMES_DUPLICATE);
                rows.put(kind, new long[] {n, fuzzSeen(ta, base[0], base[2]) - seenBefore, passedCodec, duplicates,
                        (System.nanoTime() - kindStart) / 1_000_000, replayedDataFromB});
            }
        }
        long multicastMs = (System.nanoTime() - multicastStart) / 1_000_000;

        // ---------------------------------------------------------------- gRPC
        long grpcStart = System.nanoTime();
        int junkConnections;
        Map<String, Map<Status.Code, Long>> grpcOutcomes;
        Set<String> fuzzIds;
        try (GrpcFuzzer grpc = new GrpcFuzzer(SEED + 2, config.clusterName(), config.maxSessionBytes(),
                a.grpcPort(), a.peerPort())) {
            for (int i = 0; i < PEER_CALLS; i++) {
                grpc.peerCall();
            }
            for (int i = 0; i < SESSION_CALLS; i++) {
                grpc.sessionCall();
            }
            for (int size : new int[] {6 << 20, 8 << 20, 16 << 20}) {
                grpc.oversizedCall(size);
            }
            junkConnections = grpc.tcpJunk(a.peerPort(), 100) + grpc.tcpJunk(a.grpcPort(), 100);
            grpcOutcomes = grpc.outcomes();
            fuzzIds = grpc.namedIds();
        }
        long grpcMs = (System.nanoTime() - grpcStart) / 1_000_000;

        writer.stop = true;
        writerThread.join(30_000);
        // Closed here, not left to the collector: a channel collected unclosed is reported SEVERE
        // by gRPC, which the next campaign in this JVM would take for one of its own.
        writer.client.close();

        // ---------------------------------------------------------------- the record
        long totalSent = rows.values().stream().mapToLong(r -> r[0]).sum();
        long totalSeen = rows.values().stream().mapToLong(r -> r[1]).sum();
        System.out.printf("FUZZ %s%n", keyed ? "with a cluster key (forged frames sealed with another key)"
                : "without a cluster key");
        System.out.printf("FUZZ %-15s %9s %9s %-60s %12s %10s %8s%n", "kind", "sent", "seen", "dropped(reason)",
                "passed-codec", "duplicate", "ms");
        for (DatagramFuzzer.Kind kind : kinds) {
            long[] r = rows.get(kind);
            System.out.printf("FUZZ %-15s %9d %9d %-60s %12d %10d %8d%n", kind, r[0], r[1],
                    describe(dropsByKind.get(kind)), r[2], r[3], r[4]);
        }
        System.out.println("FUZZ (seen: datagrams node-a's transport handed over less those the agents sent;"
                + " passed-codec: rise of frames.received less node-b's datagrams meanwhile; both exact up to the"
                + " legitimate frames in flight at a kind's start and end)");
        System.out.printf("FUZZ total %d datagrams sent, %d seen by node-a (%.4f%%), %d bursts waited >2 s; "
                        + "multicast %d ms (%.0f datagrams/s); node-b dropped %s%n", totalSent, totalSeen,
                100.0 * totalSeen / totalSent, stalls, multicastMs, totalSent * 1000.0 / multicastMs,
                describe(dropTotals(b)));
        for (Map.Entry<String, Map<Status.Code, Long>> e : grpcOutcomes.entrySet()) {
            System.out.printf("FUZZ grpc %-18s %s%n", e.getKey(), e.getValue());
        }
        System.out.printf("FUZZ grpc %d calls, %d junk TCP connections in %d ms%n",
                grpcOutcomes.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum(),
                junkConnections, grpcMs);
        System.out.printf("FUZZ legit writer: %d sync writes %s, %d failures%n", writer.writes(), writer.outcomes,
                writer.failures.size());

        // ---------------------------------------------------------------- verdict
        assertThat(writer.failures).as("legitimate writes that failed").isEmpty();
        assertThat(uncaught).as("uncaught exceptions").isEmpty();
        assertThat(totalSeen).as("datagrams the agent saw (the rest the kernel dropped)")
                .isGreaterThanOrEqualTo(totalSent * 999 / 1000);
        for (DatagramFuzzer.Kind kind : kinds) {
            long[] r = rows.get(kind);
            Map<Counter, Long> drops = dropsByKind.get(kind);
            long codecDrops = drops.entrySet().stream().filter(e -> CODEC_DROPS.contains(e.getKey()))
                    .mapToLong(Map.Entry::getValue).sum();
            long allDrops = drops.values().stream().mapToLong(Long::longValue).sum();
            long authDrops = drops.getOrDefault(Counter.FRAMES_DROPPED_AUTH, 0L);
            if (keyed && (kind == DatagramFuzzer.Kind.CORRUPT_BODY || kind == DatagramFuzzer.Kind.FORGED)) {
                // Sealed with the attacker's key, valid CRC: the tag is what refuses them.
                assertThat(authDrops).as(kind + " refused as unauthentic").isBetween(r[1] * 999 / 1000, r[0]);
                assertThat(allDrops).as(kind + " dropped for other reasons").isEqualTo(authDrops);
                assertThat(r[2]).as(kind + " passed the codec").isLessThanOrEqualTo(r[0] / 1000);
                continue;
            }
            if (keyed && kind == DatagramFuzzer.Kind.REPLAY) {
                // Data frames come again as duplicates of their sequence; control frames are refused.
                assertThat(allDrops).as("replays dropped for other reasons")
                        .isEqualTo(drops.getOrDefault(Counter.FRAMES_DROPPED_REPLAY, 0L));
                assertThat(drops.getOrDefault(Counter.FRAMES_DROPPED_REPLAY, 0L)).as("control replays refused")
                        .isPositive();
                assertThat(r[3]).as("replayed data counted as duplicate").isGreaterThanOrEqualTo(r[5] * 99 / 100);
                continue;
            }
            switch (kind) {
                case CORRUPT_BODY -> {
                    // Past the codec (valid CRC), then refused: unparsable body, or data from no member.
                    assertThat(drops.getOrDefault(Counter.FRAMES_DROPPED_MALFORMED, 0L)
                            + drops.getOrDefault(Counter.FRAMES_DROPPED_UNKNOWN_MEMBER, 0L)).as(kind.name())
                            .isBetween(r[1] * 999 / 1000, r[0]);
                    assertThat(drops.getOrDefault(Counter.FRAMES_DROPPED_UNKNOWN_MEMBER, 0L)).as(kind.name())
                            .isPositive();
                }
                case REPLAY -> {
                    assertThat(allDrops).as("replays dropped").isZero();
                    assertThat(r[3]).as("replayed data counted as duplicate").isGreaterThanOrEqualTo(r[5] * 99 / 100);
                }
                default -> {
                    assertThat(codecDrops).as(kind + " dropped by the codec").isBetween(r[1] * 999 / 1000, r[0]);
                    assertThat(allDrops).as(kind + " dropped for other reasons").isEqualTo(codecDrops);
                }
            }
        }
        assertThat(replayableDataFromB).isPositive();
        Map<Status.Code, Long> statuses = new EnumMap<>(Status.Code.class);
        grpcOutcomes.values().forEach(m -> m.forEach((k, v) -> statuses.merge(k, v, Long::sum)));
        assertThat(statuses.keySet()).as("no call may fail for a reason the server did not choose")
                .doesNotContain(Status.Code.UNKNOWN, Status.Code.INTERNAL, Status.Code.DATA_LOSS,
                        Status.Code.UNAVAILABLE);
        assertThat(severe).as("SEVERE records logged by gRPC").isEmpty();
        // With a key every unsealed peer call is refused before the service sees it.
        assertThat(statuses).containsKeys(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
                Status.Code.RESOURCE_EXHAUSTED, keyed ? Status.Code.UNAUTHENTICATED : Status.Code.PERMISSION_DENIED);

        for (Agent x : List.of(a, b)) {
            assertThat(x.replicator().view().members()).as("view of " + x.memberId()).extracting(m -> m.id())
                    .containsExactly(x == a ? b.memberId() : a.memberId());
            SessionClient c = cluster.client(x);
            assertThat(OperatorClient.health(c, "")).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            String id = "afterFuzz" + (x == a ? "A" : "B") + "000000000000";
            assertThat(c.put(id, 0, "k", new byte[] {7})).isEqualTo(1);
            assertThat(c.get(id).getSession().getAttributes(0).getValue().byteAt(0)).isEqualTo((byte) 7);
        }
        assertThat(agentThreads()).as("agent threads alive").containsAll(threadsBefore);
        MemoryUse heapAfter = MemoryUse.now();
        System.out.printf("FUZZ heap after GC: %d MiB before, %d MiB after; run %d s%n", heapBefore.mib(),
                heapAfter.mib(), (System.nanoTime() - started) / 1_000_000_000);
        assertThat(heapAfter.mib() - heapBefore.mib()).as("heap growth in MiB").isLessThan(64);

        // Every acknowledged write, at its version and with its values, on both agents; nothing else
        // but what a fuzzed SessionService call named.
        for (Agent x : List.of(a, b)) {
            SessionClient c = cluster.client(x);
            Eventually.await(Duration.ofSeconds(30), () -> writer.acked.entrySet().stream().allMatch(e ->
                    c.get(e.getKey()).getSession().getVersion() == e.getValue().version()),
                    () -> "acknowledged versions on " + x.memberId());
            for (Map.Entry<String, LegitWriter.Expected> e : writer.acked.entrySet()) {
                GetSessionResponse got = c.get(e.getKey());
                SessionRecord r = got.getSession();
                assertThat(r.getVersion()).as(e.getKey()).isEqualTo(e.getValue().version());
                Map<String, ByteString> attributes = new HashMap<>();
                for (Attribute at : r.getAttributesList()) {
                    attributes.put(at.getName(), at.getValue());
                }
                assertThat(attributes).as(e.getKey()).isEqualTo(e.getValue().attributes());
            }
            Set<String> unexpected = new HashSet<>(ids(c));
            unexpected.removeAll(writer.acked.keySet());
            unexpected.removeAll(fuzzIds);
            unexpected.removeIf(id -> id.startsWith("afterFuzz"));
            assertThat(unexpected).as("sessions nobody wrote, on " + x.memberId()).isEmpty();
        }
        Eventually.await(Duration.ofSeconds(30), () -> a.table().tableHash() == b.table().tableHash(),
                () -> "both tables equal");
    }

    private static List<String> ids(SessionClient c) {
        List<String> ids = new ArrayList<>();
        String token = "";
        while (true) {
            ListSessionsResponse page = c.stub().listSessions(ListSessionsRequest.newBuilder().setPageSize(1000)
                    .setPageToken(token).build());
            page.getSessionsList().stream().map(SessionSummary::getId).forEach(ids::add);
            if (page.getNextPageToken().isEmpty()) {
                return ids;
            }
            token = page.getNextPageToken();
        }
    }

    private long legitSent() {
        return transports.values().stream().mapToLong(t -> t.sent.get()).sum();
    }

    /** Datagrams an agent received since the campaign began that no agent sent: the fuzzer's. */
    private long fuzzSeen(CountingTransport t, long receivedBase, long legitBase) {
        return (t.received.get() - receivedBase) - (legitSent() - legitBase);
    }

    /** Waits until both agents saw {@code target} fuzzed datagrams; false if they did not in time. */
    private boolean await(long target, CountingTransport ta, CountingTransport tb,
                          long[] base, long timeoutMs) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (fuzzSeen(ta, base[0], base[2]) < target || fuzzSeen(tb, base[1], base[2]) < target) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            LockSupport.parkNanos(100_000);
        }
        return true;
    }

    private static long member(byte[] frame) {
        return frame.length >= FrameCodec.HEADER_BYTES ? ByteBuffer.wrap(frame).getLong(14) : 0;
    }

    private static Map<Counter, Long> dropTotals(Agent x) {
        Map<Counter, Long> m = new EnumMap<>(Counter.class);
        for (Counter c : DROPS) {
            if (x.counter(c) > 0) {
                m.put(c, x.counter(c));
            }
        }
        return m;
    }

    private static String describe(Map<Counter, Long> drops) {
        StringBuilder s = new StringBuilder();
        drops.forEach((c, n) -> s.append(s.length() == 0 ? "" : ",")
                .append(c.metricName().substring("frames.dropped.".length())).append('=').append(n));
        return s.length() == 0 ? "-" : s.toString();
    }

    private static Set<String> agentThreads() {
        Set<String> names = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("sa-")) {
                names.add(t.getName());
            }
        }
        return names;
    }

    /** Frames the agents send to the group, heard for a while: replayed later as they are. */
    private static List<byte[]> capture(AgentConfig config, Duration time, int max) throws IOException {
        List<byte[]> frames = new ArrayList<>();
        try (MulticastSocket s = new MulticastSocket(new InetSocketAddress(config.multicastGroup(),
                config.multicastPort()))) {
            NetworkInterface lo = NetworkInterface.getByName("lo");
            s.setNetworkInterface(lo);
            s.joinGroup(new InetSocketAddress(config.multicastGroup(), config.multicastPort()), lo);
            s.setSoTimeout(100);
            long end = System.nanoTime() + time.toNanos();
            byte[] buf = new byte[DatagramFuzzer.MAX_UDP_PAYLOAD];
            while (System.nanoTime() < end && frames.size() < max) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                frames.add(Arrays.copyOf(p.getData(), p.getLength()));
            }
        }
        return frames;
    }

    /** Heap in use after a full collection. */
    private record MemoryUse(long bytes) {
        static MemoryUse now() {
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            return new MemoryUse(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }

        long mib() {
            return bytes >> 20;
        }
    }
}
