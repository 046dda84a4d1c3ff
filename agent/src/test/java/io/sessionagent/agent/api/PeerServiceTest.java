package io.sessionagent.agent.api;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.BucketEntriesRequest;
import io.sessionagent.proto.v1.DigestRequest;
import io.sessionagent.proto.v1.FetchRecordsRequest;
import io.sessionagent.proto.v1.PeerCaller;
import io.sessionagent.proto.v1.PeerServiceGrpc;
import io.sessionagent.proto.v1.RecordChunk;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SnapshotRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The PeerService over in-process gRPC: what another agent may ask, and what it may not. */
class PeerServiceTest {
    private static final PeerCaller US = PeerCaller.newBuilder().setClusterName("shop").setMemberId(2).build();
    private final SessionTable table = new SessionTable(Limits.unlimited(), System::currentTimeMillis, 0, 60_000);
    private final Counters counters = new Counters();
    private Server server;
    private ManagedChannel channel;
    private PeerServiceGrpc.PeerServiceBlockingStub stub;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(new PeerServiceImpl(table, counters, "shop")).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = PeerServiceGrpc.newBlockingStub(channel);
        long now = System.currentTimeMillis();
        for (int i = 0; i < 3_000; i++) {
            table.writeLocal(SessionChange.newBuilder().setId("s" + i).setAccessTimeMs(now).setMaxInactiveSeconds(600)
                    .addSet(Attribute.newBuilder().setName("v").setValue(ByteString.copyFrom(new byte[1000])))
                    .build(), 1, d -> {
                    });
        }
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
    }

    private static void expect(Status.Code code, String part, Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(part);
        });
    }

    private static void drain(Iterator<RecordChunk> it, Consumer<RecordChunk> sink) {
        while (it.hasNext()) {
            sink.accept(it.next());
        }
    }

    @Test
    void anAgentOfAnotherClusterIsRefusedEverything() {
        PeerCaller stranger = PeerCaller.newBuilder().setClusterName("other").setMemberId(9).build();
        expect(Status.Code.PERMISSION_DENIED, "serves cluster 'shop'", () -> drain(stub.streamSnapshot(
                SnapshotRequest.newBuilder().setCaller(stranger).build()), c -> {
                }));
        expect(Status.Code.PERMISSION_DENIED, "not 'other'", () -> stub.getDigest(DigestRequest.newBuilder()
                .setCaller(stranger).setBuckets(16).build()));
        expect(Status.Code.PERMISSION_DENIED, "", () -> drain(stub.fetchRecords(FetchRecordsRequest.newBuilder()
                .setCaller(stranger).addIds("s1").build()), c -> {
                }));
    }

    @Test
    void badBucketCountsAndTooManyIdsAreInvalid() {
        for (int buckets : new int[] {0, 3, 131_072}) {
            expect(Status.Code.INVALID_ARGUMENT, "power of two", () -> stub.getDigest(DigestRequest.newBuilder()
                    .setCaller(US).setBuckets(buckets).build()));
            expect(Status.Code.INVALID_ARGUMENT, "power of two", () -> stub.getBucketEntries(BucketEntriesRequest
                    .newBuilder().setCaller(US).setBuckets(buckets).build()));
        }
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10_001; i++) {
            ids.add("x" + i);
        }
        expect(Status.Code.INVALID_ARGUMENT, "at most 10000", () -> drain(stub.fetchRecords(FetchRecordsRequest
                .newBuilder().setCaller(US).addAllIds(ids).build()), c -> {
                }));
    }

    @Test
    void aSnapshotStreamsEveryRecordInChunksUnderAMegabyte() {
        List<RecordChunk> chunks = new ArrayList<>();
        drain(stub.streamSnapshot(SnapshotRequest.newBuilder().setCaller(US).build()), chunks::add);
        assertThat(chunks.stream().mapToInt(RecordChunk::getRecordsCount).sum()).isEqualTo(3_000);
        assertThat(chunks).hasSizeGreaterThan(2);
        assertThat(chunks).allSatisfy(c -> assertThat(c.getSerializedSize()).isLessThan((1 << 20) + 2_000));
        assertThat(counters.get(Counter.SNAPSHOTS_SERVED)).isEqualTo(1);
    }

    @Test
    void digestsEntriesAndFetchesDescribeTheSameTable() {
        List<Long> hashes = stub.getDigest(DigestRequest.newBuilder().setCaller(US).setBuckets(64).build())
                .getHashesList();
        assertThat(hashes).hasSize(64);
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            all.add(i);
        }
        assertThat(stub.getBucketEntries(BucketEntriesRequest.newBuilder().setCaller(US).setBuckets(64)
                .addAllBucketIds(all).build()).getEntriesCount()).isEqualTo(3_000);
        List<RecordChunk> fetched = new ArrayList<>();
        drain(stub.fetchRecords(FetchRecordsRequest.newBuilder().setCaller(US).addIds("s7").addIds("missing")
                .build()), fetched::add);
        assertThat(fetched.stream().flatMap(c -> c.getRecordsList().stream()).map(r -> r.getId()))
                .containsExactly("s7");
    }
}
