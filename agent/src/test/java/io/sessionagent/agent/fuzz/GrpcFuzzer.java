package io.sessionagent.agent.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.sessionagent.proto.v1.Access;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.BucketEntriesRequest;
import io.sessionagent.proto.v1.DigestRequest;
import io.sessionagent.proto.v1.FetchRecordsRequest;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.InvalidateRequest;
import io.sessionagent.proto.v1.ListSessionsRequest;
import io.sessionagent.proto.v1.PeerCaller;
import io.sessionagent.proto.v1.PeerServiceGrpc;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.SnapshotRequest;
import io.sessionagent.proto.v1.TouchRequest;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteRequest;
import io.sessionagent.agent.grpc.RawBytes;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Random and mutated requests to every method of the PeerService and the SessionService, sent as
 * raw bytes so that the servers parse what a broken or hostile client really sends, and junk on
 * the TCP ports. Tallies the status of every call per method.
 */
public final class GrpcFuzzer implements AutoCloseable {
    /** Prefix of every session id the fuzzer writes; the legitimate writer uses other ids. */
    public static final String FUZZ_ID_PREFIX = "fz";
    private static final byte[] HTTP2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Random random;
    private final String clusterName;
    private final long maxSessionBytes;
    private final ManagedChannel sessionChannel;
    private final ManagedChannel peerChannel;
    /** method -> status code -> calls. */
    private final Map<String, Map<Status.Code, Long>> outcomes = new TreeMap<>();
    /** Ids of every session a fuzzed write or invalidation named (whether or not it was refused). */
    private final Set<String> namedIds = ConcurrentHashMap.newKeySet();

    public GrpcFuzzer(long seed, String clusterName, long maxSessionBytes, int sessionPort, int peerPort) {
        this.random = new Random(seed);
        this.clusterName = clusterName;
        this.maxSessionBytes = maxSessionBytes;
        this.sessionChannel = channel(sessionPort);
        this.peerChannel = channel(peerPort);
    }

    private static ManagedChannel channel(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().maxInboundMessageSize(64 << 20)
                .build();
    }

    public Map<String, Map<Status.Code, Long>> outcomes() {
        return outcomes;
    }

    public Set<String> namedIds() {
        return namedIds;
    }

    public long calls() {
        return outcomes.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum();
    }

    private void tally(MethodDescriptor<?, ?> m, Status.Code code) {
        outcomes.computeIfAbsent(m.getBareMethodName(), k -> new TreeMap<>()).merge(code, 1L, Long::sum);
    }

    /** One call with the request's bytes, mutated one time in two. */
    private void call(ManagedChannel channel, MethodDescriptor<?, ?> m, byte[] request) {
        byte[] bytes = random.nextBoolean() ? request : ByteMutator.mutate(random, request);
        if (m.getType() == MethodDescriptor.MethodType.UNARY) {
            noteIds(m, bytes);
        }
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);
        try {
            if (m.getType() == MethodDescriptor.MethodType.UNARY) {
                ClientCalls.blockingUnaryCall(channel, RawBytes.of(m), options, bytes);
            } else {
                Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(channel, RawBytes.of(m), options, bytes);
                while (it.hasNext()) {
                    it.next();
                }
            }
            tally(m, Status.Code.OK);
        } catch (StatusRuntimeException e) {
            tally(m, e.getStatus().getCode());
        }
    }

    private void noteIds(MethodDescriptor<?, ?> m, byte[] bytes) {
        try {
            if (m == SessionServiceGrpc.getWriteDeltaMethod()) {
                namedIds.add(WriteRequest.parseFrom(bytes).getChange().getId());
            } else if (m == SessionServiceGrpc.getInvalidateMethod()) {
                namedIds.add(InvalidateRequest.parseFrom(bytes).getId());
            }
        } catch (InvalidProtocolBufferException e) {
            // The server cannot parse it either.
        }
    }

    // ------------------------------------------------------------------ values

    private String sessionId() {
        return switch (random.nextInt(10)) {
            case 0 -> "";
            case 1 -> FUZZ_ID_PREFIX + "x".repeat(127 + random.nextInt(1000));
            case 2 -> FUZZ_ID_PREFIX + random.nextInt(1000) + ".node" + random.nextInt(3);
            case 3 -> FUZZ_ID_PREFIX + " has space\u0000\u00e9\ud83d\ude00";
            case 4 -> FUZZ_ID_PREFIX + "x".repeat(126);
            default -> FUZZ_ID_PREFIX + random.nextInt(300);
        };
    }

    private long bigOrOdd() {
        return switch (random.nextInt(5)) {
            case 0 -> -1L;
            case 1 -> Long.MIN_VALUE;
            case 2 -> Long.MAX_VALUE;
            case 3 -> random.nextLong();
            default -> random.nextInt(5);
        };
    }

    private String name() {
        return switch (random.nextInt(8)) {
            case 0 -> "";
            case 1 -> "n".repeat(1000 + random.nextInt(2000));
            default -> "a" + random.nextInt(40);
        };
    }

    private WriteRequest writeRequest() {
        // Half of them well-formed apart from their sizes and versions, so that the paths past
        // validation (limits, stale bases, the apply) are fuzzed as well.
        boolean plausible = random.nextBoolean();
        long now = System.currentTimeMillis();
        SessionChange.Builder c = SessionChange.newBuilder().setId(sessionId())
                .setBaseVersion(plausible && random.nextBoolean() ? 0 : bigOrOdd())
                .setCreationTimeMs(plausible ? now : bigOrOdd()).setAccessTimeMs(plausible ? now : bigOrOdd())
                .setMaxInactiveSeconds(plausible ? 600 : random.nextInt());
        int attributes = random.nextInt(8) == 0 ? random.nextInt(60) : random.nextInt(4);
        for (int i = 0; i < attributes; i++) {
            int size = switch (random.nextInt(20)) {
                case 0 -> (int) Math.min(4 << 20, maxSessionBytes + random.nextInt(4096));
                case 1 -> (int) Math.max(0, maxSessionBytes - 200 - random.nextInt(100));
                default -> random.nextInt(300);
            };
            c.addSet(Attribute.newBuilder().setName(name()).setValue(ByteString.copyFrom(new byte[size])));
        }
        for (int i = random.nextInt(3); i > 0; i--) {
            c.addRemoved(name());
        }
        return WriteRequest.newBuilder().setCorrelationId(random.nextLong()).setChange(c)
                .setDurabilityValue(random.nextInt(8) == 0 ? random.nextInt(100) : random.nextInt(3))
                .setSyncTimeoutMs(random.nextInt(5) == 0 ? random.nextInt() : random.nextInt(500)).build();
    }

    private PeerCaller caller() {
        return PeerCaller.newBuilder().setClusterName(random.nextInt(5) == 0 ? "other-" + random.nextInt(10)
                : clusterName).setMemberId(random.nextLong()).build();
    }

    private int buckets() {
        int[] choices = {0, 1, 3, 16, 1024, 65_536, 131_072, -1};
        return random.nextInt(4) == 0 ? random.nextInt() : choices[random.nextInt(choices.length)];
    }

    // ------------------------------------------------------------------ services

    /** One call to a random SessionService method. */
    public void sessionCall() {
        ManagedChannel ch = sessionChannel;
        switch (random.nextInt(8)) {
            case 0, 1 -> call(ch, SessionServiceGrpc.getWriteDeltaMethod(), writeRequest().toByteArray());
            case 2 -> call(ch, SessionServiceGrpc.getGetSessionMethod(),
                    GetSessionRequest.newBuilder().setId(sessionId()).build().toByteArray());
            case 3 -> {
                TouchRequest.Builder t = TouchRequest.newBuilder();
                for (int i = random.nextInt(random.nextInt(10) == 0 ? 5000 : 10); i > 0; i--) {
                    t.addAccesses(Access.newBuilder().setId(sessionId()).setAccessTimeMs(bigOrOdd()));
                }
                call(ch, SessionServiceGrpc.getTouchMethod(), t.build().toByteArray());
            }
            case 4 -> call(ch, SessionServiceGrpc.getInvalidateMethod(),
                    InvalidateRequest.newBuilder().setId(sessionId()).build().toByteArray());
            case 5 -> call(ch, SessionServiceGrpc.getListSessionsMethod(), ListSessionsRequest.newBuilder()
                    .setPageSize(random.nextInt(3) == 0 ? random.nextInt() : random.nextInt(20_000))
                    .setPageToken(sessionId()).build().toByteArray());
            case 6 -> call(ch, random.nextBoolean() ? SessionServiceGrpc.getCountSessionsMethod()
                    : SessionServiceGrpc.getGetClusterViewMethod(), junk(random.nextInt(64)));
            default -> writeBatches();
        }
    }

    /** A WriteBatches stream of a few (mutated) batches; every response or the call's status is tallied. */
    private void writeBatches() {
        MethodDescriptor<?, ?> m = SessionServiceGrpc.getWriteBatchesMethod();
        CountDownLatch done = new CountDownLatch(1);
        Status.Code[] code = {Status.Code.OK};
        StreamObserver<byte[]> responses = new StreamObserver<>() {
            @Override
            public void onNext(byte[] value) {
            }

            @Override
            public void onError(Throwable t) {
                code[0] = Status.fromThrowable(t).getCode();
                done.countDown();
            }

            @Override
            public void onCompleted() {
                done.countDown();
            }
        };
        StreamObserver<byte[]> requests = ClientCalls.asyncBidiStreamingCall(sessionChannel.newCall(RawBytes.of(m),
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)), responses);
        try {
            for (int i = 1 + random.nextInt(20); i > 0; i--) {
                WriteBatch.Builder batch = WriteBatch.newBuilder().setBatchId(random.nextLong())
                        .setDurabilityValue(random.nextInt(8) == 0 ? random.nextInt(100) : random.nextInt(3))
                        .setSyncTimeoutMs(random.nextInt(5) == 0 ? random.nextInt() : random.nextInt(500));
                for (int c = random.nextInt(random.nextInt(10) == 0 ? 200 : 8); c > 0; c--) {
                    batch.addChanges(writeRequest().getChange());
                }
                byte[] bytes = batch.build().toByteArray();
                bytes = random.nextInt(3) == 0 ? ByteMutator.mutate(random, bytes) : bytes;
                try {
                    WriteBatch.parseFrom(bytes).getChangesList().forEach(c -> namedIds.add(c.getId()));
                } catch (InvalidProtocolBufferException e) {
                    // Refused by the server as well.
                }
                requests.onNext(bytes);
            }
            requests.onCompleted();
        } catch (RuntimeException e) {
            requests.onError(e);
        }
        try {
            if (!done.await(15, TimeUnit.SECONDS)) {
                code[0] = Status.Code.DEADLINE_EXCEEDED;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tally(m, code[0]);
    }

    /** One call to a random PeerService method. */
    public void peerCall() {
        ManagedChannel ch = peerChannel;
        switch (random.nextInt(4)) {
            case 0 -> call(ch, PeerServiceGrpc.getGetDigestMethod(), DigestRequest.newBuilder().setCaller(caller())
                    .setBuckets(buckets()).build().toByteArray());
            case 1 -> {
                BucketEntriesRequest.Builder b = BucketEntriesRequest.newBuilder().setCaller(caller())
                        .setBuckets(buckets());
                for (int i = random.nextInt(random.nextInt(10) == 0 ? 100_000 : 20); i > 0; i--) {
                    b.addBucketIds(random.nextInt(4) == 0 ? random.nextInt() : random.nextInt(64));
                }
                call(ch, PeerServiceGrpc.getGetBucketEntriesMethod(), b.build().toByteArray());
            }
            case 2 -> call(ch, PeerServiceGrpc.getStreamSnapshotMethod(),
                    SnapshotRequest.newBuilder().setCaller(caller()).build().toByteArray());
            default -> {
                FetchRecordsRequest.Builder f = FetchRecordsRequest.newBuilder().setCaller(caller());
                for (int i = random.nextInt(random.nextInt(10) == 0 ? 15_000 : 30); i > 0; i--) {
                    f.addIds(sessionId());
                }
                call(ch, PeerServiceGrpc.getFetchRecordsMethod(), f.build().toByteArray());
            }
        }
    }

    /** A request of {@code bytes} bytes: above the inbound message limit it is refused whole. */
    public void oversizedCall(int bytes) {
        WriteRequest w = WriteRequest.newBuilder().setChange(SessionChange.newBuilder()
                .setId(FUZZ_ID_PREFIX + "huge").addSet(Attribute.newBuilder().setName("blob")
                        .setValue(ByteString.copyFrom(new byte[bytes])))).build();
        namedIds.add(FUZZ_ID_PREFIX + "huge");
        call(sessionChannel, SessionServiceGrpc.getWriteDeltaMethod(), w.toByteArray());
        call(peerChannel, PeerServiceGrpc.getFetchRecordsMethod(), FetchRecordsRequest.newBuilder()
                .setCaller(caller()).addIds("x".repeat(bytes)).build().toByteArray());
    }

    private byte[] junk(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** Connections that send junk, or an HTTP/2 preface and then junk; returns how many were made. */
    public int tcpJunk(int port, int connections) {
        int made = 0;
        for (int i = 0; i < connections; i++) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.setSoTimeout(200);
                made++;
                OutputStream out = s.getOutputStream();
                if (random.nextBoolean()) {
                    out.write(HTTP2_PREFACE);
                }
                out.write(junk(1 + random.nextInt(8192)));
                out.flush();
                s.getInputStream().read();
            } catch (IOException expected) {
                // The server closes on junk; that is what is wanted.
            }
        }
        return made;
    }

    @Override
    public void close() {
        sessionChannel.shutdownNow();
        peerChannel.shutdownNow();
    }
}
