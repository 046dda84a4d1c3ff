package io.sessionagent.agent.replication;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.netty.handler.ssl.SslContext;
import io.sessionagent.agent.auth.PeerSealing;
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
    private final PeerSealing sealing;
    private final SslContext tls;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final MethodDescriptor<SnapshotRequest, RecordChunk> snapshot;
    private final MethodDescriptor<DigestRequest, DigestResponse> digest;
    private final MethodDescriptor<BucketEntriesRequest, BucketEntriesResponse> bucketEntries;
    private final MethodDescriptor<FetchRecordsRequest, RecordChunk> fetch;

    /** @param sealing seals every message with the cluster key, or null for a cluster without one */
    public PeerClients(String clusterName, long selfId, int maxMessageBytes, PeerSealing sealing) {
        this(clusterName, selfId, maxMessageBytes, sealing, null);
    }

    /** @param tls mutual TLS to the peers (PeerTls.client()), or null for plaintext */
    public PeerClients(String clusterName, long selfId, int maxMessageBytes, PeerSealing sealing, SslContext tls) {
        this.caller = PeerCaller.newBuilder().setClusterName(clusterName).setMemberId(selfId).build();
        this.maxMessageBytes = maxMessageBytes;
        this.sealing = sealing;
        this.tls = tls;
        this.snapshot = PeerServiceGrpc.getStreamSnapshotMethod();
        this.digest = PeerServiceGrpc.getGetDigestMethod();
        this.bucketEntries = PeerServiceGrpc.getGetBucketEntriesMethod();
        this.fetch = PeerServiceGrpc.getFetchRecordsMethod();
    }

    /** The method for one call: with a key, sealed and bound to that call's request. */
    private <Q, R> MethodDescriptor<Q, R> call(MethodDescriptor<Q, R> method) {
        return sealing == null ? method : sealing.sealForCall(method);
    }

    private ManagedChannel channel(String address) {
        // Without TLS plaintext gRPC: with a cluster key the messages themselves are sealed (PeerSealing).
        return channels.computeIfAbsent(address, a -> {
            NettyChannelBuilder b = NettyChannelBuilder.forTarget(a).maxInboundMessageSize(maxMessageBytes);
            return (tls == null ? b.usePlaintext() : b.sslContext(tls)).build();
        });
    }

    private static CallOptions options(long timeoutMs) {
        return CallOptions.DEFAULT.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** Streams the peer's whole table into {@code sink}; returns the number of records. */
    public long snapshot(String address, long timeoutMs, Consumer<SessionRecord> sink) {
        try {
            long n = 0;
            Iterator<RecordChunk> it = ClientCalls.blockingServerStreamingCall(channel(address), call(snapshot),
                    options(timeoutMs), SnapshotRequest.newBuilder().setCaller(caller).build());
            while (it.hasNext()) {
                for (SessionRecord r : it.next().getRecordsList()) {
                    sink.accept(r);
                    n++;
                }
            }
            return n;
        } catch (StatusRuntimeException e) {
            throw refusalOf(e);
        }
    }

    public List<Long> digest(String address, int buckets, long timeoutMs) {
        try {
            return ClientCalls.blockingUnaryCall(channel(address), call(digest), options(timeoutMs),
                    DigestRequest.newBuilder().setCaller(caller).setBuckets(buckets).build()).getHashesList();
        } catch (StatusRuntimeException e) {
            throw refusalOf(e);
        }
    }

    public List<VersionEntry> bucketEntries(String address, int buckets, Collection<Integer> bucketIds,
                                            long timeoutMs) {
        try {
            return ClientCalls.blockingUnaryCall(channel(address), call(bucketEntries), options(timeoutMs),
                    BucketEntriesRequest.newBuilder().setCaller(caller).setBuckets(buckets).addAllBucketIds(bucketIds)
                            .build()).getEntriesList();
        } catch (StatusRuntimeException e) {
            throw refusalOf(e);
        }
    }

    /** Fetches whole records by id into {@code sink}; ids the peer lacks are left out. */
    public void fetch(String address, Collection<String> ids, long timeoutMs, Consumer<SessionRecord> sink) {
        try {
            Iterator<RecordChunk> it = ClientCalls.blockingServerStreamingCall(channel(address), call(fetch),
                    options(timeoutMs), FetchRecordsRequest.newBuilder().setCaller(caller).addAllIds(ids).build());
            while (it.hasNext()) {
                it.next().getRecordsList().forEach(sink);
            }
        } catch (StatusRuntimeException e) {
            throw refusalOf(e);
        }
    }

    /**
     * An answer this agent refused to open reaches the caller as gRPC's CANCELLED "Failed to read
     * message"; the refusal itself (UNAUTHENTICATED, and why) is what the logs must show.
     */
    private static StatusRuntimeException refusalOf(StatusRuntimeException e) {
        return e.getCause() instanceof StatusRuntimeException refused
                && refused.getStatus().getCode() == Status.Code.UNAUTHENTICATED ? refused : e;
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
