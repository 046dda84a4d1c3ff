package io.sessionagent.agent.replication;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.sessionagent.agent.api.SessionServiceImpl;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.SessionRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static io.sessionagent.agent.replication.ReplicatorHarness.delta;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A read of a session (the filter's failover lookup) is answered only once this agent has applied
 * what it received of the session's writes: never with the older version it holds while newer
 * frames wait behind a gap, are announced but missing, or wait for a repair.
 */
@Execution(ExecutionMode.CONCURRENT)
class FailoverReadCatchUpTest {
    private static final long PEER = 2;

    private static long versionOf(ReplicatorHarness h, String id) {
        return h.table.get(id).map(SessionRecord::getVersion).orElse(0L);
    }

    private static long in(long ms) {
        return System.currentTimeMillis() + ms;
    }

    @Test
    void aReadDuringCatchUpWaitsAndThenServesTheNewestVersion() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(10_000).startAlone()) {
            h.heartbeat(PEER, 0);
            h.data(PEER, 1, delta("s", PEER, 0, 1).build());
            Eventually.await(Duration.ofSeconds(5), () -> versionOf(h, "s") == 1, () -> "sequence 1 applied");
            // Sequence 2 is late; 3 waits behind it.
            h.data(PEER, 3, delta("s", PEER, 2, 3).build());

            CompletableFuture<Long> served = h.replicator.awaitCaughtUp("s", in(30_000))
                    .thenApply(caughtUp -> caughtUp ? versionOf(h, "s") : -1);
            Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.READS_WAITED) == 1,
                    () -> "the read waits");
            assertThat(served).isNotDone();

            h.data(PEER, 2, delta("s", PEER, 1, 2).build());
            assertThat(served.get(5, TimeUnit.SECONDS)).isEqualTo(3);
        }
    }

    @Test
    void aReadWithNothingOutstandingIsAnsweredAtOnce() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(10_000).startAlone()) {
            h.heartbeat(PEER, 0);
            h.data(PEER, 1, delta("s", PEER, 0, 1).build());
            assertThat(h.replicator.awaitCaughtUp("s", in(30_000)).get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(h.replicator.awaitCaughtUp("unknown", in(30_000)).get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(versionOf(h, "s")).isEqualTo(1);
            assertThat(h.counters.get(Counter.READS_WAITED)).isZero();
        }
    }

    @Test
    void aLostTailHoldsTheReadUntilItsDeadlineAndTheSendersDeathEndsTheWait() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(1_500).startAlone()) {
            h.heartbeat(PEER, 0);
            h.data(PEER, 1, delta("s", PEER, 0, 1).build());
            Eventually.await(Duration.ofSeconds(5), () -> versionOf(h, "s") == 1, () -> "sequence 1 applied");
            // The sender announces sequence 2, which never arrives: the read cannot know what it held.
            h.heartbeat(PEER, 2);
            assertThat(h.replicator.awaitCaughtUp("s", in(200)).get(5, TimeUnit.SECONDS)).isFalse();

            // Once failure detection dropped the sender, nothing more can come: the read is answered.
            Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.MEMBERS_SUSPECTED) == 1,
                    () -> "the silent sender dropped");
            assertThat(h.replicator.awaitCaughtUp("s", in(30_000)).get(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void withReplicationOffAReadIsAnsweredFromTheTableAtOnce() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(10_000).startAlone()) {
            h.heartbeat(PEER, 0);
            h.replicator.setReplicationEnabled(false);
            // Received and dropped while replication is off: there is nothing to catch up with.
            h.data(PEER, 1, delta("s", PEER, 0, 1).build());
            h.heartbeat(PEER, 3);
            assertThat(h.replicator.awaitCaughtUp("s", in(30_000)).get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(h.counters.get(Counter.READS_WAITED)).isZero();
        }
    }

    @Test
    void aDeltaWaitingForItsBaseHoldsReadsOfItsSessionOnly() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(10_000).startAlone()) {
            h.heartbeat(PEER, 0);
            // A delta on a base this table never saw: not applied, repaired from a peer that cannot answer.
            h.data(PEER, 1, delta("s", PEER, 5, 6).build(), delta("other", PEER, 0, 1).build());
            Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.DELTAS_OUT_OF_ORDER) == 1,
                    () -> "the delta found its base missing");

            assertThat(h.replicator.awaitCaughtUp("other", in(30_000)).get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(h.replicator.awaitCaughtUp("s", in(200)).get(5, TimeUnit.SECONDS)).isFalse();

            // The writer re-sends it whole, as it does when an ACK names the session.
            h.data(PEER, 2, delta("s", PEER, 6, 7).setWhole(true).build());
            assertThat(h.replicator.awaitCaughtUp("s", in(30_000)).get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(versionOf(h, "s")).isEqualTo(7);
        }
    }

    @Test
    void theServiceAnswersUnavailableBeforeTheCallersDeadlineNeverAnOlderVersion() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(10_000).startAlone()) {
            SessionServiceImpl service = new SessionServiceImpl(h.table, h.replicator, h.counters,
                    System::currentTimeMillis, 1_000, 60_000,
                    new SessionServiceImpl.Identity("c", "self", ReplicatorHarness.SELF, 1, ""));
            h.heartbeat(PEER, 0);
            h.data(PEER, 1, delta("s", PEER, 0, 1).build());
            Eventually.await(Duration.ofSeconds(5), () -> versionOf(h, "s") == 1, () -> "sequence 1 applied");
            h.heartbeat(PEER, 2);

            // failover-read-wait is a minute here: the caller's 500 ms deadline bounds the wait.
            CompletableFuture<GetSessionResponse> answer = new CompletableFuture<>();
            ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor();
            try {
                Context.current().withDeadlineAfter(500, TimeUnit.MILLISECONDS, deadlines).run(() ->
                        service.getSession(GetSessionRequest.newBuilder().setId("s").build(), observer(answer)));
                assertThat(answer).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(Exception.class)
                        .havingCause().isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                            assertThat(e.getStatus().getDescription()).contains("retry shortly");
                        });
            } finally {
                deadlines.shutdownNow();
            }
            assertThat(h.counters.get(Counter.READS_UNAVAILABLE)).isEqualTo(1);

            // The missing frame arrives: the same read now finds the newest version.
            h.data(PEER, 2, delta("s", PEER, 1, 2).build());
            CompletableFuture<GetSessionResponse> retry = new CompletableFuture<>();
            service.getSession(GetSessionRequest.newBuilder().setId("s").build(), observer(retry));
            assertThat(retry.get(5, TimeUnit.SECONDS).getSession().getVersion()).isEqualTo(2);
        }
    }

    private static StreamObserver<GetSessionResponse> observer(CompletableFuture<GetSessionResponse> answer) {
        return new StreamObserver<>() {
            @Override
            public void onNext(GetSessionResponse value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        };
    }
}
