package io.sessionagent.agent.cluster;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.SessionClient;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameType;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.InvalidateRequest;
import io.sessionagent.proto.v1.ListSessionsRequest;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.WriteRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Garbage on every port and invalid calls: dropped or refused with a reason, and the agents keep serving. */
@Execution(ExecutionMode.CONCURRENT)
class BadInputTest {
    private final TestCluster cluster = new TestCluster("bad-input-" + System.nanoTime());
    private Agent a;
    private Agent b;

    @BeforeEach
    void start() throws Exception {
        a = cluster.start("node-a", Map.of("max-session-bytes", "64KiB", "max-total-bytes", "1MiB",
                "max-attributes", "8"));
        b = cluster.start("node-b");
        a.replicator().ready().get(10, TimeUnit.SECONDS);
        b.replicator().ready().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private void sendToGroup(byte[]... datagrams) throws Exception {
        AgentConfig c = AgentConfig.fromMap(cluster.settings());
        try (MulticastSocket s = new MulticastSocket()) {
            s.setNetworkInterface(NetworkInterface.getByName("lo"));
            s.setTimeToLive(0);
            for (byte[] d : datagrams) {
                s.send(new DatagramPacket(d, d.length, new InetSocketAddress(c.multicastGroup(), c.multicastPort())));
            }
        }
    }

    @Test
    void garbageForeignAndWrongVersionDatagramsAreDroppedAndCounted() throws Exception {
        Random random = new Random(42);
        byte[][] junk = new byte[500][];
        for (int i = 0; i < junk.length; i++) {
            junk[i] = new byte[random.nextInt(200)];
            random.nextBytes(junk[i]);
        }
        sendToGroup(junk);
        FrameCodec foreign = new FrameCodec(Agent.clusterIdOf("someone-else"), 1400);
        byte[] hb = Heartbeat.newBuilder().setNodeName("intruder").setPeerAddress("127.0.0.1:1").build().toByteArray();
        byte[] foreignFrame = foreign.encode(FrameType.HEARTBEAT, 99, 1, hb);
        FrameCodec ours = new FrameCodec(Agent.clusterIdOf(cluster.settings().get("cluster-name")), 1400);
        byte[] wrongVersion = ours.encode(FrameType.HEARTBEAT, 99, 1, hb);
        wrongVersion[2] = 9;
        // Above the 65000 bytes an agent on lo takes, within what UDP carries.
        byte[] oversized = new byte[65_001];
        byte[] badBody = ours.encode(FrameType.HEARTBEAT, 98, 1, new byte[] {(byte) 0xff, (byte) 0xff, 0x01});
        sendToGroup(foreignFrame, wrongVersion, oversized, badBody);

        for (Agent x : new Agent[] {a, b}) {
            Eventually.await(Duration.ofSeconds(5), () -> x.counter(Counter.FRAMES_DROPPED_FOREIGN_CLUSTER) >= 1
                    && x.counter(Counter.FRAMES_DROPPED_VERSION) >= 1 && x.counter(Counter.FRAMES_DROPPED_OVERSIZED) >= 1
                    && x.counter(Counter.FRAMES_DROPPED_MALFORMED) >= 490, () -> "drops counted: "
                    + x.counters().snapshotByName());
            assertThat(x.replicator().view().members()).extracting(m -> m.nodeName()).containsExactly(
                    x == a ? "node-b" : "node-a");
        }
        long v = cluster.client(a).put("stillServing0000000000000", 0, "k", new byte[] {1});
        Eventually.await(Duration.ofSeconds(5), () -> b.table().get("stillServing0000000000000").isPresent(),
                () -> "replication still works after the garbage, version " + v);
    }

    @Test
    void garbageOnTheGrpcAndPeerPortsLeavesThemServing() throws Exception {
        Random random = new Random(7);
        for (int port : new int[] {a.grpcPort(), a.peerPort()}) {
            for (int i = 0; i < 20; i++) {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    s.setSoTimeout(500);
                    byte[] junk = new byte[1 + random.nextInt(4096)];
                    random.nextBytes(junk);
                    OutputStream out = s.getOutputStream();
                    out.write(junk);
                    out.flush();
                } catch (java.io.IOException expected) {
                    // The server may close on us mid-write; that is the point.
                }
            }
        }
        assertThat(cluster.client(a).put("afterTcpJunk000000000000", 0, "k", new byte[] {1})).isEqualTo(1);
        Eventually.await(Duration.ofSeconds(5), () -> b.table().get("afterTcpJunk000000000000").isPresent(),
                () -> "peer side still replicates");
    }

    private static void expectStatus(Status.Code code, String messagePart, Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
    }

    private static WriteRequest write(String id, long base, Consumer<SessionChange.Builder> edit) {
        SessionChange.Builder c = SessionChange.newBuilder().setId(id).setBaseVersion(base).setAccessTimeMs(1);
        edit.accept(c);
        return WriteRequest.newBuilder().setChange(c).build();
    }

    @Test
    void invalidCallsGetAStatusThatSaysWhatWasWrong() {
        SessionClient client = cluster.client(a);
        expectStatus(Status.Code.INVALID_ARGUMENT, "empty", () -> client.stub().writeDelta(write("", 0, c -> {
        })));
        expectStatus(Status.Code.INVALID_ARGUMENT, "route suffix", () -> client.stub().writeDelta(
                write("abcdef0123456789.node1", 0, c -> {
                })));
        expectStatus(Status.Code.INVALID_ARGUMENT, "at most 128", () -> client.stub().writeDelta(
                write("x".repeat(129), 0, c -> {
                })));
        expectStatus(Status.Code.INVALID_ARGUMENT, "U+0020", () -> client.stub().getSession(
                io.sessionagent.proto.v1.GetSessionRequest.newBuilder().setId("has space").build()));
        expectStatus(Status.Code.INVALID_ARGUMENT, "set twice", () -> client.stub().writeDelta(
                write("dupAttr0000000000000000", 0, c -> c
                        .addSet(Attribute.newBuilder().setName("n").setValue(ByteString.copyFromUtf8("1")))
                        .addSet(Attribute.newBuilder().setName("n").setValue(ByteString.copyFromUtf8("2"))))));
        expectStatus(Status.Code.INVALID_ARGUMENT, "exceeds", () -> client.stub().listSessions(
                ListSessionsRequest.newBuilder().setPageSize(1_000_000).build()));
        expectStatus(Status.Code.INVALID_ARGUMENT, "page_size 4294967295 exceeds", () -> client.stub().listSessions(
                ListSessionsRequest.newBuilder().setPageSize(-1).build()));
        expectStatus(Status.Code.INVALID_ARGUMENT, "route suffix", () -> client.stub().invalidate(
                InvalidateRequest.newBuilder().setId("a.b").build()));

        expectStatus(Status.Code.RESOURCE_EXHAUSTED, "max-session-bytes", () -> client.stub().writeDelta(
                write("tooBig00000000000000000", 0, c -> c.addSet(Attribute.newBuilder().setName("blob")
                        .setValue(ByteString.copyFrom(new byte[100_000]))))));
        expectStatus(Status.Code.RESOURCE_EXHAUSTED, "max-attributes", () -> client.stub().writeDelta(
                write("tooMany0000000000000000", 0, c -> {
                    for (int i = 0; i < 9; i++) {
                        c.addSet(Attribute.newBuilder().setName("a" + i).setValue(ByteString.copyFromUtf8("v")));
                    }
                })));
        client.put("stale000000000000000000", 0, "k", new byte[] {1});
        expectStatus(Status.Code.ABORTED, "is at version 1", () -> client.put("stale000000000000000000", 0, "k",
                new byte[] {2}));

        assertThat(a.counter(Counter.GRPC_INVALID_ARGUMENT)).isGreaterThanOrEqualTo(7);
        assertThat(a.counter(Counter.LIMIT_REJECTIONS)).isEqualTo(2);
        assertThat(a.table().get("tooBig00000000000000000")).isEmpty();
        assertThat(client.put("fine00000000000000000000", 0, "k", new byte[] {1})).isEqualTo(1);
    }

    @Test
    void aMessageLargerThanTheGrpcLimitIsRefusedAsResourceExhausted() {
        // max-session-bytes is 64 KiB on node-a; the gRPC limit leaves room for the rest of the message only.
        byte[] huge = new byte[8 << 20];
        expectStatus(Status.Code.RESOURCE_EXHAUSTED, "", () -> cluster.client(a).stub().writeDelta(
                write("huge00000000000000000000", 0, c -> c.addSet(Attribute.newBuilder().setName("blob")
                        .setValue(ByteString.copyFrom(huge))))));
        assertThat(cluster.client(a).put("afterHuge000000000000000", 0, "k", new byte[] {1})).isEqualTo(1);
    }
}
