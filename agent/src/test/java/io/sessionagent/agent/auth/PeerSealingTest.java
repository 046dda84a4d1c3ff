package io.sessionagent.agent.auth;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.sessionagent.agent.api.PeerServiceImpl;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.replication.PeerClients;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.PeerCaller;
import io.sessionagent.proto.v1.PeerServiceGrpc;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SnapshotRequest;
import io.sessionagent.agent.grpc.RawBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The PeerService over real gRPC on loopback with sealed messages: who can call it and who cannot. */
class PeerSealingTest {
    private static final ClusterKey K1 = Keys.key(1, 1);
    private static final ClusterKey K2 = Keys.key(2, 1);
    private static final int MAX_MESSAGE = 8 << 20;

    private final SessionTable table = new SessionTable(Limits.unlimited(), System::currentTimeMillis, 0, 60_000);
    private final AtomicInteger serverFailures = new AtomicInteger();
    private final AtomicInteger clientFailures = new AtomicInteger();
    private final List<AutoCloseable> open = new ArrayList<>();
    private Server server;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (server != null) {
            server.shutdownNow().awaitTermination();
        }
    }

    private String serve(ClusterKeys keys) throws Exception {
        long now = System.currentTimeMillis();
        for (int i = 0; i < 500; i++) {
            table.writeLocal(SessionChange.newBuilder().setId("s" + i).setAccessTimeMs(now).setMaxInactiveSeconds(600)
                    .addSet(Attribute.newBuilder().setName("cart").setValue(ByteString.copyFrom(
                            ("secret-cart-" + i).getBytes(StandardCharsets.UTF_8))))
                    .build(), 1, d -> {
                    });
        }
        ServerServiceDefinition service = new PeerServiceImpl(table, new Counters(), "shop").bindService();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(keys == null ? service : new PeerSealing(keys, serverFailures::incrementAndGet)
                        .seal(service))
                .build().start();
        return "127.0.0.1:" + server.getPort();
    }

    private PeerClients client(ClusterKeys keys) {
        PeerClients c = new PeerClients("shop", 7, MAX_MESSAGE,
                keys == null ? null : new PeerSealing(keys, clientFailures::incrementAndGet));
        open.add(c);
        return c;
    }

    private static List<SessionRecord> snapshot(PeerClients c, String address) {
        List<SessionRecord> records = new ArrayList<>();
        c.snapshot(address, 5_000, records::add);
        return records;
    }

    private static void assertRefused(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(e.getStatus().getDescription()).contains("peer message refused");
        });
    }

    @Test
    void anAgentWithTheKeyReadsEverything() throws Exception {
        String address = serve(Keys.fixed(K1));
        PeerClients c = client(Keys.fixed(K1));
        assertThat(snapshot(c, address)).hasSize(500);
        assertThat(c.digest(address, 64, 5_000)).hasSize(64);
        List<SessionRecord> fetched = new ArrayList<>();
        c.fetch(address, List.of("s1", "s2"), 5_000, fetched::add);
        assertThat(fetched).extracting(SessionRecord::getId).containsExactlyInAnyOrder("s1", "s2");
        assertThat(serverFailures).hasValue(0);
    }

    @Test
    void anAgentWithAnotherKeyOrNoKeyIsRefusedEveryCall() throws Exception {
        String address = serve(Keys.fixed(K1));
        for (PeerClients c : List.of(client(Keys.fixed(Keys.key(1, 2))), client(Keys.fixed(K2)), client(null))) {
            assertRefused(() -> snapshot(c, address));
            assertRefused(() -> c.digest(address, 64, 5_000));
            assertRefused(() -> c.bucketEntries(address, 64, List.of(1, 2), 5_000));
            assertRefused(() -> c.fetch(address, List.of("s1"), 5_000, r -> { }));
        }
        assertThat(serverFailures).hasValue(12);
    }

    @Test
    void aKeyedAgentReadsNothingFromAnUnkeyedPeer() throws Exception {
        String address = serve(null);
        PeerClients c = client(Keys.fixed(K1));
        assertThatThrownBy(() -> snapshot(c, address)).isInstanceOf(StatusRuntimeException.class);
    }

    @Test
    void duringARotationBothKeysAreAccepted() throws Exception {
        String address = serve(Keys.fixed(K2, K1));
        // Still sending with the old key, holding the new one: the step before the switch.
        assertThat(snapshot(client(Keys.fixed(K1, K2)), address)).hasSize(500);
        assertThat(snapshot(client(Keys.fixed(K2)), address)).hasSize(500);
        assertThat(serverFailures).hasValue(0);
    }

    @Test
    void sealedMessagesCarryNoSessionDataInClear() throws Exception {
        PeerSealing sealing = new PeerSealing(Keys.fixed(K1), () -> { });
        var method = sealing.sealForCall(PeerServiceGrpc.getStreamSnapshotMethod());
        SnapshotRequest request = SnapshotRequest.newBuilder()
                .setCaller(PeerCaller.newBuilder().setClusterName("very-visible-cluster-name").setMemberId(7)).build();
        byte[] wire = method.getRequestMarshaller().stream(request).readAllBytes();
        assertThat(new String(wire, StandardCharsets.ISO_8859_1)).doesNotContain("very-visible");
        // A request's bytes are no response: direction and method are authenticated too.
        assertThatThrownBy(() -> method.getResponseMarshaller().parse(new java.io.ByteArrayInputStream(wire)))
                .isInstanceOf(StatusRuntimeException.class);
    }

    /**
     * Someone on the path between two agents: passes each call on to the real PeerService and
     * hands back what {@code tamper} makes of its sealed answers (it cannot open them).
     */
    private String proxy(String target, UnaryOperator<List<byte[]>> tamper) throws Exception {
        ManagedChannel ch = NettyChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(MAX_MESSAGE)
                .build();
        open.add(ch::shutdownNow);
        ServerServiceDefinition.Builder service = ServerServiceDefinition.builder(PeerServiceGrpc.SERVICE_NAME);
        for (MethodDescriptor<?, ?> m : List.of(PeerServiceGrpc.getGetDigestMethod(),
                PeerServiceGrpc.getFetchRecordsMethod())) {
            MethodDescriptor<byte[], byte[]> wire = RawBytes.of(m);
            service.addMethod(wire, ServerCalls.asyncServerStreamingCall((byte[] request, StreamObserver<byte[]> out) -> {
                List<byte[]> answers = new ArrayList<>();
                ClientCalls.blockingServerStreamingCall(ch, wire, CallOptions.DEFAULT, request)
                        .forEachRemaining(answers::add);
                tamper.apply(answers).forEach(out::onNext);
                out.onCompleted();
            }));
        }
        Server p = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service.build())
                .maxInboundMessageSize(MAX_MESSAGE).build().start();
        open.add(() -> p.shutdownNow().awaitTermination());
        return "127.0.0.1:" + p.getPort();
    }

    @Test
    void anAnswerRecordedOnTheWireIsRefusedAsTheAnswerToAnotherCall() throws Exception {
        String address = serve(Keys.fixed(K1));
        List<byte[]> recorded = new ArrayList<>();
        String proxy = proxy(address, answers -> {
            if (recorded.isEmpty()) {
                recorded.addAll(answers);
                return answers;
            }
            return recorded;
        });
        PeerClients c = client(Keys.fixed(K1));
        assertThat(c.digest(proxy, 64, 5_000)).hasSize(64);
        // The same question again, answered with the first call's genuine, sealed answer.
        assertRefused(() -> c.digest(proxy, 64, 5_000));
        assertThat(clientFailures).hasValue(1);
        assertThat(c.digest(address, 64, 5_000)).hasSize(64);
    }

    @Test
    void answersOfOneCallMovedWithinItsStreamAreRefused() throws Exception {
        long now = System.currentTimeMillis();
        // Large sessions, so that the fetch answers in several chunks.
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            ids.add("big" + i);
            table.writeLocal(SessionChange.newBuilder().setId("big" + i).setAccessTimeMs(now).setMaxInactiveSeconds(600)
                    .addSet(Attribute.newBuilder().setName("blob").setValue(ByteString.copyFrom(new byte[8192])))
                    .build(), 1, d -> {
                    });
        }
        String address = serve(Keys.fixed(K1));
        List<Integer> chunks = new ArrayList<>();
        String proxy = proxy(address, answers -> {
            chunks.add(answers.size());
            List<byte[]> swapped = new ArrayList<>(answers);
            Collections.reverse(swapped);
            return swapped;
        });
        PeerClients c = client(Keys.fixed(K1));
        assertRefused(() -> c.fetch(proxy, ids, 5_000, r -> { }));
        assertThat(chunks.get(0)).isGreaterThan(1);
        List<SessionRecord> direct = new ArrayList<>();
        c.fetch(address, ids, 5_000, direct::add);
        assertThat(direct).hasSize(300);
    }

    @Test
    void garbageOnTheSealedPortIsRefused() throws Exception {
        String address = serve(Keys.fixed(K1));
        ManagedChannel ch = NettyChannelBuilder.forTarget(address).usePlaintext().build();
        open.add(ch::shutdownNow);
        var raw = PeerServiceGrpc.newBlockingStub(ch);
        assertThatThrownBy(() -> raw.getDigest(io.sessionagent.proto.v1.DigestRequest.newBuilder().setBuckets(64)
                .setCaller(PeerCaller.newBuilder().setClusterName("shop")).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        assertThat(serverFailures).hasValue(1);
        // The server goes on serving those who hold the key.
        assertThat(snapshot(client(Keys.fixed(K1)), address)).hasSize(500);
    }
}
