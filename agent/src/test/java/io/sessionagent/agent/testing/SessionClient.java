package io.sessionagent.agent.testing;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.ClusterViewRequest;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.WriteRequest;
import io.sessionagent.proto.v1.WriteResponse;

import java.util.concurrent.TimeUnit;

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
        long now = System.currentTimeMillis();
        return stub().writeDelta(WriteRequest.newBuilder()
                .setDurability(durability)
                .setChange(SessionChange.newBuilder()
                        .setId(id)
                        .setBaseVersion(baseVersion)
                        .setCreationTimeMs(now)
                        .setAccessTimeMs(now)
                        .setMaxInactiveSeconds(1800)
                        .addSet(Attribute.newBuilder().setName(name).setValue(ByteString.copyFrom(value))))
                .build());
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
