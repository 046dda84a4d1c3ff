package io.sessionagent.agent.process;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.sessionagent.agent.testing.AgentProcess;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.agent.testing.OperatorClient;
import io.sessionagent.agent.testing.SessionClient;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.FetchRecordsRequest;
import io.sessionagent.proto.v1.PeerCaller;
import io.sessionagent.proto.v1.PeerServiceGrpc;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;
import io.sessionagent.proto.v1.WriteRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One agent process on a 64 MiB heap that dies on OutOfMemoryError, with small limits, hammered
 * with input past every limit: messages near and above the gRPC size limit (also several at once),
 * too many attributes, sessions and bytes, oversized streams, an oversized peer request. Every
 * refusal must carry its status and a message naming the limit, {@code limits.rejected} must
 * count the limit refusals, and the process must live and serve writes afterwards.
 */
class LimitsUnderSmallHeapIT {
    private static final Path LOGS = Path.of("target", "process-logs");
    private static final long SESSION_LIMIT = 256 << 10;
    private static final int ATTRIBUTE_LIMIT = 32;
    private static final int SESSION_COUNT_LIMIT = 200;
    private static final long TOTAL_LIMIT = 8 << 20;
    /** The SessionService's request limit: max(max-session-bytes, 1 MiB) + 64 KiB (Agent). */
    private static final int GRPC_LIMIT = (1 << 20) + 64 * 1024;
    /** The PeerService's request limit (Agent). */
    private static final int PEER_LIMIT = 2 << 20;

    private AgentProcess agent;

    @AfterEach
    void stop() throws InterruptedException {
        if (agent != null) {
            agent.close();
        }
    }

    private static WriteRequest write(String id, long base, Consumer<SessionChange.Builder> edit) {
        SessionChange.Builder c = SessionChange.newBuilder().setId(id).setBaseVersion(base)
                .setAccessTimeMs(System.currentTimeMillis()).setMaxInactiveSeconds(600);
        edit.accept(c);
        return WriteRequest.newBuilder().setChange(c).build();
    }

    private static Attribute attribute(String name, int bytes) {
        return Attribute.newBuilder().setName(name).setValue(ByteString.copyFrom(new byte[bytes])).build();
    }

    private static Status refusal(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
        throw new AssertionError("the call was accepted");
    }

    private static void expect(Status.Code code, String messagePart, Runnable call) {
        Status s = refusal(call);
        assertThat(s.getCode()).as(s.toString()).isEqualTo(code);
        assertThat(s.getDescription()).as(s.toString()).contains(messagePart);
    }

    private double rejected() {
        return new OperatorClient(agent.metricsPort()).scrape().value("session_agent_limits_rejected_total");
    }

    @Test
    void everyLimitRefusesWithAReasonAndTheSmallHeapSurvives() throws Exception {
        Map<String, String> settings = Networks.loopbackCluster("small-heap-" + System.nanoTime());
        settings.put("max-session-bytes", "256KiB");
        settings.put("max-attributes", Integer.toString(ATTRIBUTE_LIMIT));
        settings.put("max-sessions", Integer.toString(SESSION_COUNT_LIMIT));
        settings.put("max-total-bytes", "8MiB");
        agent = AgentProcess.start("small-heap", settings, LOGS, AgentProcess.freePort(),
                List.of("-Xmx64m", "-XX:+ExitOnOutOfMemoryError"));
        agent.awaitReady(Duration.ofSeconds(30));
        SessionClient client = agent.client();
        SessionServiceGrpc.SessionServiceBlockingStub stub = client.stub();
        long started = System.nanoTime();
        Map<String, Long> refusals = new ConcurrentHashMap<>();

        // A session just at its limit is taken; one byte more is refused by the table.
        assertThat(client.stub().writeDelta(write("nearLimit000000000000000", 0, c -> c.addSet(
                attribute("blob", (int) SESSION_LIMIT - 1000)))).getVersion()).isEqualTo(1);
        double before = rejected();
        expect(Status.Code.RESOURCE_EXHAUSTED, "max-session-bytes is " + SESSION_LIMIT, () -> client.stub()
                .writeDelta(write("overLimit000000000000000", 0, c -> c.addSet(attribute("blob",
                        (int) SESSION_LIMIT + 1)))));
        assertThat(rejected()).isEqualTo(before + 1);

        // Messages near and above the gRPC limit, eight at a time: parsed and refused by the table
        // below it, refused by gRPC above it; none may exhaust the heap.
        int[] sizes = {GRPC_LIMIT - 64 * 1024, GRPC_LIMIT + 1024, 16 << 20, 64 << 20};
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (int size : sizes) {
                WriteRequest huge = write("huge0000000000000000000", 0, c -> c.addSet(attribute("blob", size)));
                List<Future<Status>> calls = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    calls.add(pool.submit(() -> refusal(() -> client.stub().writeDelta(huge))));
                }
                for (Future<Status> f : calls) {
                    Status s = f.get(60, TimeUnit.SECONDS);
                    assertThat(s.getCode()).as(size + " bytes: " + s).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                    assertThat(s.getDescription()).as(size + " bytes: " + s).contains(size < GRPC_LIMIT
                            ? "max-session-bytes" : "exceeds maximum");
                    refusals.merge(size < GRPC_LIMIT ? "delta near the gRPC limit" : "delta over the gRPC limit",
                            1L, Long::sum);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(rejected()).isEqualTo(before + 1 + 8);

        // Too many attributes, at once and one by one.
        expect(Status.Code.RESOURCE_EXHAUSTED, "max-attributes is " + ATTRIBUTE_LIMIT, () -> stub.writeDelta(
                write("manyAttrs000000000000000", 0, c -> {
                    for (int i = 0; i <= ATTRIBUTE_LIMIT; i++) {
                        c.addSet(attribute("a" + i, 10));
                    }
                })));
        long v = 0;
        for (int i = 0; i < ATTRIBUTE_LIMIT; i++) {
            int n = i;
            v = client.stub().writeDelta(write("growing0000000000000000", v, c -> c.addSet(attribute("a" + n, 10))))
                    .getVersion();
        }
        long full = v;
        expect(Status.Code.RESOURCE_EXHAUSTED, "would have 33 attributes", () -> client.stub().writeDelta(
                write("growing0000000000000000", full, c -> c.addSet(attribute("one-more", 10)))));
        refusals.merge("attributes", 2L, Long::sum);

        // Total bytes: sessions of 200 KiB until the table is full.
        int big = 0;
        Status totalRefusal = null;
        while (big < 100 && totalRefusal == null) {
            String id = String.format("big%021d", big);
            try {
                client.stub().writeDelta(write(id, 0, c -> c.addSet(attribute("blob", 200 << 10))));
                big++;
            } catch (StatusRuntimeException e) {
                totalRefusal = e.getStatus();
            }
        }
        assertThat(totalRefusal).as("refusal past max-total-bytes after " + big + " sessions").isNotNull();
        assertThat(totalRefusal.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(totalRefusal.getDescription()).contains("max-total-bytes is " + TOTAL_LIMIT);
        assertThat((long) big * (200 << 10)).isLessThanOrEqualTo(TOTAL_LIMIT);
        refusals.merge("total bytes", 1L, Long::sum);

        // Session count: small sessions until the table holds max-sessions.
        long live = client.stub().countSessions(io.sessionagent.proto.v1.CountSessionsRequest.getDefaultInstance())
                .getCount();
        for (long i = live; i < SESSION_COUNT_LIMIT; i++) {
            client.put(String.format("small%019d", i), 0, "k", new byte[] {1});
        }
        for (int i = 0; i < 50; i++) {
            int n = i;
            expect(Status.Code.RESOURCE_EXHAUSTED, "max-sessions is " + SESSION_COUNT_LIMIT,
                    () -> client.put(String.format("extra%019d", n), 0, "k", new byte[] {1}));
        }
        refusals.merge("sessions", 50L, Long::sum);

        // An oversized stream: 300 batches of one 300 KiB write each on one WriteBatches stream,
        // each answered as refused in order; then a message over the gRPC limit ends the stream.
        List<WriteBatchResult> answers = new ArrayList<>();
        CompletableFuture<Status> streamEnd = new CompletableFuture<>();
        CountDownLatch responses = new CountDownLatch(300);
        StreamObserver<WriteBatch> stream = SessionServiceGrpc.newStub(client.channel())
                .withDeadlineAfter(120, TimeUnit.SECONDS).writeBatches(new StreamObserver<>() {
                    @Override
                    public void onNext(WriteBatchResult r) {
                        synchronized (answers) {
                            answers.add(r);
                        }
                        responses.countDown();
                    }

                    @Override
                    public void onError(Throwable t) {
                        streamEnd.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        streamEnd.complete(Status.OK);
                    }
                });
        SessionChange oversized = write("streamed000000000000000", 0, c -> c.addSet(attribute("blob", 300 << 10)))
                .getChange();
        for (int i = 0; i < 300; i++) {
            stream.onNext(WriteBatch.newBuilder().setBatchId(i).addChanges(oversized).build());
        }
        assertThat(responses.await(60, TimeUnit.SECONDS)).as("every streamed write answered").isTrue();
        stream.onNext(WriteBatch.newBuilder().addChanges(write("streamed000000000000000", 0,
                c -> c.addSet(attribute("blob", GRPC_LIMIT))).getChange()).build());
        Status end = streamEnd.get(60, TimeUnit.SECONDS);
        // The server ends the stream with RESOURCE_EXHAUSTED and resets it while the client may still
        // be sending the rest of the message; the client then sometimes reports the reset instead.
        assertThat(end.getCode()).as(end.toString()).isIn(Status.Code.RESOURCE_EXHAUSTED, Status.Code.CANCELLED);
        synchronized (answers) {
            for (int i = 0; i < 300; i++) {
                WriteBatchResult r = answers.get(i);
                assertThat(r.getBatchId()).isEqualTo(i);
                assertThat(r.getResultsCount()).isEqualTo(1);
                assertThat(r.getResults(0).getErrorCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED.value());
                assertThat(r.getResults(0).getErrorMessage()).contains("max-session-bytes");
            }
        }
        refusals.merge("streamed writes", 300L, Long::sum);

        // The peer port takes no more than the session port.
        String peer = client.view().getSelf().getPeerAddress();
        try (SessionClient peerChannel = new SessionClient(peer)) {
            String hugeId = "x".repeat(PEER_LIMIT + 1);
            Status s = refusal(() -> PeerServiceGrpc.newBlockingStub(peerChannel.channel())
                    .withDeadlineAfter(60, TimeUnit.SECONDS).fetchRecords(FetchRecordsRequest.newBuilder()
                            .setCaller(PeerCaller.newBuilder().setClusterName(settings.get("cluster-name")))
                            .addIds(hugeId).build()).hasNext());
            assertThat(s.getCode()).as(s.toString()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            refusals.merge("peer request over the gRPC limit", 1L, Long::sum);
        }

        long limitRefusals = 1 + 8 + 2 + 1 + 50 + 300;
        assertThat(rejected()).as("limits.rejected").isEqualTo(before + limitRefusals);
        assertThat(agent.process().isAlive()).as("process alive; log:\n" + agent.logTail()).isTrue();
        assertThat(agent.log()).doesNotContain("OutOfMemoryError").doesNotContain("OutOfDirectMemory");
        // Still serving: an update of an existing session fits under every limit.
        String small = String.format("small%019d", SESSION_COUNT_LIMIT - 1);
        assertThat(client.put(small, 1, "k", new byte[] {2})).isEqualTo(2);
        assertThat(client.get(small).getSession().getVersion()).isEqualTo(2);
        System.out.printf("LIMITS refusals %s; limits.rejected %.0f; %d s on -Xmx64m%n", refusals, rejected(),
                (System.nanoTime() - started) / 1_000_000_000);
    }
}
