package io.sessionagent.agent.api;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.proto.v1.BucketEntriesRequest;
import io.sessionagent.proto.v1.BucketEntriesResponse;
import io.sessionagent.proto.v1.DigestRequest;
import io.sessionagent.proto.v1.DigestResponse;
import io.sessionagent.proto.v1.FetchRecordsRequest;
import io.sessionagent.proto.v1.PeerCaller;
import io.sessionagent.proto.v1.PeerServiceGrpc;
import io.sessionagent.proto.v1.RecordChunk;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SnapshotRequest;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * What other agents of the cluster may ask of this one: a snapshot for a joiner, digests and
 * records for anti-entropy and repair. Agents of another cluster are refused.
 */
public final class PeerServiceImpl extends PeerServiceGrpc.PeerServiceImplBase {
    /** Records per chunk stay well under the peer channel's message limit. */
    private static final int CHUNK_BYTES = 1 << 20;
    private static final int MAX_IDS = 10_000;

    private final SessionTable table;
    private final Counters counters;
    private final String clusterName;

    public PeerServiceImpl(SessionTable table, Counters counters, String clusterName) {
        this.table = table;
        this.counters = counters;
        this.clusterName = clusterName;
    }

    private boolean admitted(PeerCaller caller, StreamObserver<?> out) {
        if (!clusterName.equals(caller.getClusterName())) {
            out.onError(Status.PERMISSION_DENIED.withDescription("this agent serves cluster '" + clusterName
                    + "', not '" + caller.getClusterName() + "'").asRuntimeException());
            return false;
        }
        return true;
    }

    @Override
    public void streamSnapshot(SnapshotRequest request, StreamObserver<RecordChunk> out) {
        if (!admitted(request.getCaller(), out)) {
            return;
        }
        counters.increment(Counter.SNAPSHOTS_SERVED);
        List<String> ids = new ArrayList<>();
        table.forEachRecord(r -> ids.add(r.getId()));
        streamRecords(ids.iterator(), (ServerCallStreamObserver<RecordChunk>) out);
    }

    @Override
    public void fetchRecords(FetchRecordsRequest request, StreamObserver<RecordChunk> out) {
        if (!admitted(request.getCaller(), out)) {
            return;
        }
        if (request.getIdsCount() > MAX_IDS) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(request.getIdsCount() + " ids asked; at most "
                    + MAX_IDS + " per call").asRuntimeException());
            return;
        }
        streamRecords(request.getIdsList().iterator(), (ServerCallStreamObserver<RecordChunk>) out);
    }

    /**
     * Streams records as the client takes them (gRPC flow control), so a snapshot of the whole
     * table never sits in memory twice.
     */
    private void streamRecords(Iterator<String> ids, ServerCallStreamObserver<RecordChunk> out) {
        boolean[] done = new boolean[1];
        Runnable pump = () -> {
            synchronized (done) {
                while (!done[0] && out.isReady()) {
                    RecordChunk.Builder chunk = RecordChunk.newBuilder();
                    int bytes = 0;
                    while (ids.hasNext() && bytes < CHUNK_BYTES) {
                        SessionRecord r = table.getForPeer(ids.next()).orElse(null);
                        if (r != null) {
                            chunk.addRecords(r);
                            bytes += r.getSerializedSize() + 5; // with its tag and length
                        }
                    }
                    if (chunk.getRecordsCount() > 0) {
                        out.onNext(chunk.build());
                    }
                    if (!ids.hasNext()) {
                        done[0] = true;
                        out.onCompleted();
                    }
                }
            }
        };
        out.setOnCancelHandler(() -> {
            synchronized (done) {
                done[0] = true;
            }
        });
        out.setOnReadyHandler(pump);
        pump.run();
    }

    private static boolean validBuckets(int buckets, StreamObserver<?> out) {
        if (buckets < 1 || buckets > 65_536 || Integer.bitCount(buckets) != 1) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("buckets must be a power of two in 1..65536, not "
                    + buckets).asRuntimeException());
            return false;
        }
        return true;
    }

    @Override
    public void getDigest(DigestRequest request, StreamObserver<DigestResponse> out) {
        if (!admitted(request.getCaller(), out)) {
            return;
        }
        int buckets = request.getBuckets();
        if (!validBuckets(buckets, out)) {
            return;
        }
        DigestResponse.Builder b = DigestResponse.newBuilder();
        for (long h : table.digest(buckets)) {
            b.addHashes(h);
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void getBucketEntries(BucketEntriesRequest request, StreamObserver<BucketEntriesResponse> out) {
        if (!admitted(request.getCaller(), out)) {
            return;
        }
        int buckets = request.getBuckets();
        if (!validBuckets(buckets, out)) {
            return;
        }
        out.onNext(BucketEntriesResponse.newBuilder()
                .addAllEntries(table.bucketEntries(buckets, request.getBucketIdsList())).build());
        out.onCompleted();
    }
}
