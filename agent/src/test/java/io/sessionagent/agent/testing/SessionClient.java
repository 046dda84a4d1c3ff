package io.sessionagent.agent.testing;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ChangeResult;
import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.ClusterViewRequest;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;
import io.sessionagent.proto.v1.WriteRequest;
import io.sessionagent.proto.v1.WriteResponse;

import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/** A gRPC client of one agent's SessionService, as the filter would use it. */
public final class SessionClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final SessionServiceGrpc.SessionServiceBlockingStub stub;

    public SessionClient(int port) {
        this("127.0.0.1:" + port);
    }

    public SessionClient(String target) {
        channel = NettyChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(64 << 20).build();
        stub = SessionServiceGrpc.newBlockingStub(channel);
    }

    public SessionServiceGrpc.SessionServiceBlockingStub stub() {
        return stub.withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    public ManagedChannel channel() {
        return channel;
    }

    /** Sets one attribute on top of {@code baseVersion}; returns the new version. */
    public long put(String id, long baseVersion, String name, byte[] value) {
        return write(id, baseVersion, name, value, Durability.DURABILITY_ASYNC).getVersion();
    }

    public WriteResponse write(String id, long baseVersion, String name, byte[] value, Durability durability) {
        return stub().writeDelta(WriteRequest.newBuilder()
                .setDurability(durability)
                .setChange(change(id, baseVersion, name, value, System.currentTimeMillis()))
                .build());
    }

    private static SessionChange.Builder change(String id, long baseVersion, String name, byte[] value, long now) {
        return SessionChange.newBuilder()
                .setId(id)
                .setBaseVersion(baseVersion)
                .setCreationTimeMs(now)
                .setAccessTimeMs(now)
                .setMaxInactiveSeconds(1800)
                .addSet(Attribute.newBuilder().setName(name).setValue(ByteString.copyFrom(value)));
    }

    /** Opens a WriteBatches stream, as the filter keeps one open. */
    public BatchStream writeBatches() {
        return new BatchStream(channel);
    }

    /**
     * Creates {@code count} sessions, one attribute each, on one WriteBatches stream in batches of
     * 100 changes, as the filter sends them: a table filled in a fraction of the time one call per
     * session takes. Returns once every change was answered; fails if one was refused.
     */
    public void createAll(int count, IntFunction<String> id, String name, IntFunction<byte[]> value) throws Exception {
        BatchStream stream = writeBatches();
        long now = System.currentTimeMillis();
        WriteBatch.Builder batch = WriteBatch.newBuilder().setDurability(Durability.DURABILITY_ASYNC);
        for (int i = 0; i < count; i++) {
            batch.addChanges(change(id.apply(i), 0, name, value.apply(i), now));
            if (batch.getChangesCount() == 100 || i == count - 1) {
                stream.batches.onNext(batch.setBatchId(i).build());
                batch = WriteBatch.newBuilder().setDurability(Durability.DURABILITY_ASYNC);
            }
        }
        stream.batches.onCompleted();
        stream.done.get(60, TimeUnit.SECONDS);
        long answered = 0;
        for (WriteBatchResult r : stream.results) {
            for (ChangeResult c : r.getResultsList()) {
                if (c.getErrorCode() != 0) {
                    throw new AssertionError("batch " + r.getBatchId() + " refused a change: " + c);
                }
            }
            answered += r.getResultsCount();
        }
        if (answered != count) {
            throw new AssertionError(answered + " of " + count + " changes answered");
        }
    }

    public GetSessionResponse get(String id) {
        return stub().getSession(GetSessionRequest.newBuilder().setId(id).build());
    }

    public ClusterView view() {
        return stub().getClusterView(ClusterViewRequest.getDefaultInstance());
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
