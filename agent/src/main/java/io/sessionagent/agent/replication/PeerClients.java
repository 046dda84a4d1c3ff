package io.sessionagent.agent.replication;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.sessionagent.proto.v1.BucketEntriesRequest;
import io.sessionagent.proto.v1.DigestRequest;
import io.sessionagent.proto.v1.FetchRecordsRequest;
import io.sessionagent.proto.v1.PeerCaller;
import io.sessionagent.proto.v1.PeerServiceGrpc;
import io.sessionagent.proto.v1.RecordChunk;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SnapshotRequest;
import io.sessionagent.proto.v1.VersionEntry;

import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Blocking calls to other agents' PeerService, one channel per peer address, reused. Called
 * from the peer I/O executor, never from the protocol thread.
 */
public final class PeerClients implements AutoCloseable {
    private final PeerCaller caller;
    private final int maxMessageBytes;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    public PeerClients(String clusterName, long selfId, int maxMessageBytes) {
        this.caller = PeerCaller.newBuilder().setClusterName(clusterName).setMemberId(selfId).build();
        this.maxMessageBytes = maxMessageBytes;
    }

    private PeerServiceGrpc.PeerServiceBlockingStub stub(String address, long timeoutMs) {
        ManagedChannel ch = channels.computeIfAbsent(address, a -> NettyChannelBuilder.forTarget(a)
                .usePlaintext()
                .maxInboundMessageSize(maxMessageBytes)
                .build());
        return PeerServiceGrpc.newBlockingStub(ch).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** Streams the peer's whole table into {@code sink}; returns the number of records. */
    public long snapshot(String address, long timeoutMs, Consumer<SessionRecord> sink) {
        long n = 0;
        Iterator<RecordChunk> it = stub(address, timeoutMs).streamSnapshot(
                SnapshotRequest.newBuilder().setCaller(caller).build());
        while (it.hasNext()) {
            for (SessionRecord r : it.next().getRecordsList()) {
                sink.accept(r);
                n++;
            }
        }
        return n;
    }

    public List<Long> digest(String address, int buckets, long timeoutMs) {
        return stub(address, timeoutMs).getDigest(DigestRequest.newBuilder().setCaller(caller).setBuckets(buckets)
                .build()).getHashesList();
    }

    public List<VersionEntry> bucketEntries(String address, int buckets, Collection<Integer> bucketIds,
                                            long timeoutMs) {
        return stub(address, timeoutMs).getBucketEntries(BucketEntriesRequest.newBuilder().setCaller(caller)
                .setBuckets(buckets).addAllBucketIds(bucketIds).build()).getEntriesList();
    }

    /** Fetches whole records by id into {@code sink}; ids the peer lacks are left out. */
    public void fetch(String address, Collection<String> ids, long timeoutMs, Consumer<SessionRecord> sink) {
        Iterator<RecordChunk> it = stub(address, timeoutMs).fetchRecords(FetchRecordsRequest.newBuilder()
                .setCaller(caller).addAllIds(ids).build());
        while (it.hasNext()) {
            it.next().getRecordsList().forEach(sink);
        }
    }

    /** Closes the channel to a peer that left. */
    public void forget(String address) {
        ManagedChannel ch = channels.remove(address);
        if (ch != null) {
            ch.shutdownNow();
        }
    }

    @Override
    public void close() {
        for (String a : List.copyOf(channels.keySet())) {
            forget(a);
        }
    }
}
