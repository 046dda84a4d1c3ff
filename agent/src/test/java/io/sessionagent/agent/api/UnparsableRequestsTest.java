package io.sessionagent.agent.api;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.DigestRequest;
import io.sessionagent.proto.v1.PeerCaller;
import io.sessionagent.proto.v1.PeerServiceGrpc;
import io.sessionagent.proto.v1.RecordChunk;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SnapshotRequest;
import io.sessionagent.agent.grpc.RawBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Iterator;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Requests that do not parse are refused as INVALID_ARGUMENT; requests that do are served as before. */
class UnparsableRequestsTest {
    private static final PeerCaller US = PeerCaller.newBuilder().setClusterName("shop").setMemberId(2).build();
    private final SessionTable table = new SessionTable(Limits.unlimited(), System::currentTimeMillis, 0, 60_000);
    private final AtomicInteger refused = new AtomicInteger();
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .addService(UnparsableRequests.refused(new PeerServiceImpl(table, new Counters(), "shop"),
                        refused::incrementAndGet))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        long now = System.currentTimeMillis();
        for (int i = 0; i < 2_000; i++) {
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

    /** A length-delimited field whose length runs past the end of the message. */
    private static final byte[] TRUNCATED = {0x0a, 0x7f, 0x01};

    @Test
    void aUnaryRequestThatDoesNotParseIsAnInvalidArgument() {
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, RawBytes.of(PeerServiceGrpc.getGetDigestMethod()),
                CallOptions.DEFAULT, TRUNCATED)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("request is not a valid GetDigest message:");
                });
        assertThat(refused.get()).isEqualTo(1);
        assertThat(PeerServiceGrpc.newBlockingStub(channel).getDigest(DigestRequest.newBuilder().setCaller(US)
                .setBuckets(16).build()).getHashesCount()).isEqualTo(16);
        assertThat(refused.get()).isEqualTo(1);
    }

    @Test
    void aStreamingCallThatDoesNotParseIsAnInvalidArgumentAndAValidOneStreamsWithFlowControl() {
        Iterator<byte[]> junk = ClientCalls.blockingServerStreamingCall(channel,
                RawBytes.of(PeerServiceGrpc.getStreamSnapshotMethod()), CallOptions.DEFAULT, new byte[] {(byte) 0xff});
        assertThatThrownBy(junk::hasNext).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        int records = 0;
        Iterator<RecordChunk> it = PeerServiceGrpc.newBlockingStub(channel).streamSnapshot(
                SnapshotRequest.newBuilder().setCaller(US).build());
        while (it.hasNext()) {
            records += it.next().getRecordsCount();
        }
        assertThat(records).isEqualTo(2_000);
        assertThat(refused.get()).isEqualTo(1);
    }
}
