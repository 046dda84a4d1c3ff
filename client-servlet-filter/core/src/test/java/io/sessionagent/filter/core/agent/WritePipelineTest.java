package io.sessionagent.filter.core.agent;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.codec.AttributeCodec;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.core.session.LocalAttributes;
import io.sessionagent.filter.core.session.SaveMode;
import io.sessionagent.filter.core.session.SessionData;
import io.grpc.Status;
import io.sessionagent.proto.v1.ChangeResult;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;
import io.sessionagent.proto.v1.WriteOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pipeline's flow control against a fake agent that answers, stalls or breaks when the test says. */
class WritePipelineTest {
    private final FilterCounters counters = new FilterCounters();
    private final AtomicLong clock = new AtomicLong(1_000_000);
    private final AgentHealth health = new AgentHealth("fake", counters, clock::get);
    private final FakeAgent agent = new FakeAgent();
    private final List<String> outcomes = new ArrayList<>();
    private final AttributeCodec codec = new AttributeCodec(getClass().getClassLoader(), 1 << 20, counters);
    private WritePipeline pipeline;

    private ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    private WritePipeline pipeline(ReplicationMode mode, long maxLagMs) {
        pipeline = new WritePipeline(agent, health, counters, mode, true, 1_000, maxLagMs, new WritePipeline.Outcomes() {
            @Override
            public synchronized void applied(PendingWrite w, long version) {
                if (w.invalidation) {
                    outcomes.add("invalidated " + w.id);
                    return;
                }
                w.session.acknowledged(w.baseVersion, version);
                outcomes.add("applied " + w.id + " " + version);
            }

            @Override
            public synchronized void refused(PendingWrite w, AgentClient.AgentException e) {
                w.session.writeFailed();
                outcomes.add("refused " + w.id + " " + e.code());
            }

            @Override
            public synchronized void lost(PendingWrite w) {
                w.session.writeFailed();
                outcomes.add("lost " + w.id);
            }
        }, scheduler);
        return pipeline;
    }

    @AfterEach
    void close() {
        if (pipeline != null) {
            agent.ready = true;
            pipeline.close(100);
        }
        scheduler.shutdownNow();
    }

    private SessionData session(String id) {
        return new SessionData(id, 0, 0, 1800, true);
    }

    private PendingWrite change(SessionData s, String name, Object value) throws AgentClient.AgentException {
        s.setAttribute(name, value);
        return pipeline.submit(s, s.takeDelta(SaveMode.SET, codec, null, 0, LocalAttributes.NONE), null);
    }

    private static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as(what).isNegative();
            Thread.sleep(2);
        }
    }

    @Test
    void nothingLeavesWhileTheStreamIsNotReadyThenEveryWaitingSessionGoesInOneBatch() throws Exception {
        agent.ready = false;
        pipeline(ReplicationMode.ASYNC, 60_000);
        eventually(() -> agent.stream != null, "the stream is opened at start");
        List<SessionData> sessions = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            SessionData s = session("s" + i);
            sessions.add(s);
            for (int v = 0; v < 5; v++) {
                change(s, "counter", v);
            }
        }
        assertThat(agent.batches()).as("held back by the transport's flow control").isEmpty();
        assertThat(pipeline.pendingWrites()).as("one write per session, not per change").isEqualTo(100);
        assertThat(counters.get(FilterCounter.WRITES_COALESCED)).isEqualTo(400);

        agent.becomeReady();
        eventually(() -> agent.batches().size() == 1, "one batch");
        WriteBatch b = agent.batches().get(0);
        assertThat(b.getChangesCount()).isEqualTo(100);
        assertThat(b.getDurability()).as("async mode asks every ready replica").isEqualTo(Durability.DURABILITY_SYNC_ALL);
        SessionChange first = b.getChanges(0);
        assertThat(first.getId()).isEqualTo("s0");
        assertThat(first.getBaseVersion()).isZero();
        assertThat(first.getSetCount()).isEqualTo(1);
        assertThat(codec.deserialize(first.getSet(0).getValue().toByteArray())).as("the last value wins").isEqualTo(4);

        agent.answerAll();
        eventually(() -> pipeline.pendingWrites() == 0, "answered");
        for (SessionData s : sessions) {
            assertThat(s.writesInFlight()).isZero();
            assertThat(s.version()).isEqualTo(1);
            assertThat(s.needsFullSync()).isFalse();
        }
    }

    @Test
    void whileABatchIsInFlightNewWritesWaitForItsAnswerAndThenLeaveTogether() throws Exception {
        pipeline(ReplicationMode.ASYNC, 60_000);
        eventually(() -> agent.stream != null, "open");
        SessionData s = session("s");
        change(s, "v", 0);
        eventually(() -> agent.batches().size() == 1, "the first write leaves at once");
        for (int i = 0; i < 10; i++) {
            change(session("late" + i), "v", i);
            change(s, "v", 100 + i);
        }
        assertThat(agent.batches()).as("no wake-up per write while a batch is in flight").hasSize(1);
        assertThat(pipeline.pendingWrites()).isEqualTo(12);
        agent.answer(1);
        eventually(() -> agent.batches().size() == 2, "the answer sends what waited");
        WriteBatch second = agent.batches().get(1);
        assertThat(second.getChangesCount()).as("ten new sessions and s, once").isEqualTo(11);
        SessionChange ofS = second.getChangesList().stream().filter(c -> c.getId().equals("s")).findFirst()
                .orElseThrow(AssertionError::new);
        assertThat(ofS.getBaseVersion()).as("based on the write before it").isEqualTo(1);
        assertThat(codec.deserialize(ofS.getSet(0).getValue().toByteArray())).isEqualTo(109);
        agent.answerAll();
        eventually(() -> pipeline.pendingWrites() == 0, "answered");
        assertThat(s.version()).isEqualTo(2);
    }

    @Test
    void anInvalidationTakesThePlaceOfTheWriteNotSentYetAndLeavesBehindTheOnesInFlight() throws Exception {
        pipeline(ReplicationMode.ASYNC, 60_000);
        eventually(() -> agent.stream != null, "open");
        SessionData s = session("s");
        change(s, "v", 1);
        eventually(() -> agent.batches().size() == 1, "the first write leaves at once");
        PendingWrite waiting = change(s, "v", 2);
        change(s, "v", 3);
        change(session("other"), "v", 1);

        PendingWrite invalidation = pipeline.invalidate("s", s, 1800);

        assertThat(waiting.isDone()).isTrue();
        assertThat(waiting.failure().code()).isEqualTo(Status.Code.CANCELLED);
        assertThat(agent.batches()).as("nothing overtakes the batch in flight").hasSize(1);
        assertThat(pipeline.pendingWrites()).isEqualTo(3);
        agent.answer(1);
        eventually(() -> agent.batches().size() == 2, "the answer sends what waited");
        WriteBatch second = agent.batches().get(1);
        assertThat(second.getChangesList()).extracting(SessionChange::getId).as("in the replaced write's place")
                .containsExactly("s", "other");
        SessionChange ofS = second.getChanges(0);
        assertThat(ofS.getInvalidate()).isTrue();
        assertThat(ofS.getSetCount() + ofS.getRemovedCount()).isZero();
        assertThat(ofS.getMaxInactiveSeconds()).isEqualTo(1800);
        agent.answerAll();
        eventually(invalidation::isDone, "answered");
        assertThat(invalidation.failure()).isNull();
        assertThat(outcomes).containsExactly("lost s", "applied s 1", "invalidated s", "applied other 1");
        assertThat(counters.get(FilterCounter.WRITES_COALESCED)).as("v=3 into v=2, then both into the invalidation").isEqualTo(3);
        assertThat(s.writesInFlight()).isZero();
        assertThat(pipeline.pendingWrites()).isZero();
    }

    @Test
    void atMostFourBatchesAreUnansweredEvenWhenMoreWaitThanOneBatchHolds() throws Exception {
        agent.ready = false;
        pipeline(ReplicationMode.SYNC, 0);
        eventually(() -> agent.stream != null, "open");
        byte[] big = new byte[WritePipeline.MAX_BATCH_BYTES / 2 - 1024];
        for (int i = 0; i < 12; i++) {
            change(session("big" + i), "v", big);
        }
        agent.becomeReady();
        eventually(() -> agent.batches().size() == WritePipeline.MAX_IN_FLIGHT, "the window fills");
        assertThat(agent.batches()).allSatisfy(b -> assertThat(b.getChangesCount()).isEqualTo(2));
        assertThat(pipeline.pendingWrites()).isEqualTo(12);
        agent.answer(1);
        eventually(() -> agent.batches().size() == WritePipeline.MAX_IN_FLIGHT + 1, "room for one more");
        agent.answerAll();
        eventually(() -> agent.batches().size() == 6, "the rest");
        agent.answerAll();
        eventually(() -> pipeline.pendingWrites() == 0, "answered");
    }

    @Test
    void aRequestBehindTheLagBoundWaitsForTheAnswerAndNoLongerThanItsTimeout() throws Exception {
        pipeline(ReplicationMode.ASYNC, 1);
        eventually(() -> agent.stream != null, "open");
        SessionData s = session("s");
        change(s, "v", 1);
        eventually(() -> pipeline.lagMs() > 1, "older than the bound");
        Thread request = new Thread(() -> pipeline.awaitLag(60_000));
        request.start();
        eventually(() -> request.getState() == Thread.State.TIMED_WAITING, "the request waits");
        agent.answerAll();
        request.join(20_000);
        assertThat(request.isAlive()).isFalse();
        assertThat(counters.get(FilterCounter.BACKPRESSURE_WAITS)).isEqualTo(1);
        assertThat(counters.get(FilterCounter.BACKPRESSURE_TIMEOUTS)).isZero();

        change(s, "v", 2);
        eventually(() -> pipeline.lagMs() > 1, "older than the bound again");
        pipeline.awaitLag(50);
        assertThat(counters.get(FilterCounter.BACKPRESSURE_TIMEOUTS)).as("went on after its timeout").isEqualTo(1);
        assertThat(agent.cancelled).as("a slow agent is never given up").isFalse();
        assertThat(health.isDown()).isFalse();
        agent.answerAll();
        eventually(() -> pipeline.pendingWrites() == 0, "answered after all");
        assertThat(outcomes).containsExactly("applied s 1", "applied s 2");
    }

    @Test
    void anAsyncRequestGoesOnOnceTheAgentHoldsItsWriteWithoutWaitingForItsReplicas() throws Exception {
        pipeline(ReplicationMode.ASYNC, 60_000);
        eventually(() -> agent.stream != null, "open");
        PendingWrite w = change(session("s"), "v", 1);
        eventually(() -> agent.batches().size() == 1, "sent");
        assertThat(agent.batches().get(0).getAnswerWhenApplied()).isTrue();
        assertThat(pipeline.awaitReceipt(w, 50)).as("the agent has not applied it").isFalse();
        assertThat(counters.get(FilterCounter.BACKPRESSURE_TIMEOUTS)).isEqualTo(1);

        AtomicBoolean received = new AtomicBoolean();
        Thread request = new Thread(() -> received.set(pipeline.awaitReceipt(w, 60_000)));
        request.start();
        eventually(() -> request.getState() == Thread.State.TIMED_WAITING, "the request waits");
        agent.applyAll();
        request.join(20_000);
        assertThat(received).isTrue();
        assertThat(w.isDone()).as("its replicas are not awaited").isFalse();
        assertThat(pipeline.pendingWrites()).as("in flight until the final answer").isEqualTo(1);
        assertThat(outcomes).isEmpty();
        agent.answerAll();
        eventually(() -> pipeline.pendingWrites() == 0, "answered");
        assertThat(outcomes).containsExactly("applied s 1");
    }

    @Test
    void batchesTheAgentHoldsLeaveRoomForMoreUntilTheirReplicasAreTooFarBehind() throws Exception {
        pipeline(ReplicationMode.ASYNC, 60_000);
        eventually(() -> agent.stream != null, "open");
        for (int i = 0; i < WritePipeline.MAX_UNREPLICATED + 3; i++) {
            change(session("s" + i), "v", 1);
            int sent = Math.min(i + 1, WritePipeline.MAX_UNREPLICATED);
            eventually(() -> agent.batches().size() == sent, "batch " + sent);
            // Applied, never acknowledged by the replicas: only the bound on those stops sending.
            agent.applyAll();
        }
        assertThat(agent.batches()).hasSize(WritePipeline.MAX_UNREPLICATED);
        assertThat(pipeline.pendingWrites()).isEqualTo(WritePipeline.MAX_UNREPLICATED + 3);
        agent.answer(1);
        eventually(() -> agent.batches().size() == WritePipeline.MAX_UNREPLICATED + 1, "one more leaves, with all that waited");
        assertThat(agent.batches().get(WritePipeline.MAX_UNREPLICATED).getChangesCount()).isEqualTo(3);
        agent.applyAll();
        agent.answerAll();
        eventually(() -> pipeline.pendingWrites() == 0, "answered");
    }

    @Test
    void inAsyncModeTheWritesArrivingWhileABatchIsOnItsWayToTheAgentLeaveTogetherOnItsFirstAnswer()
            throws Exception {
        pipeline(ReplicationMode.ASYNC, 60_000);
        eventually(() -> agent.stream != null, "open");
        change(session("a"), "v", 1);
        eventually(() -> agent.batches().size() == 1, "sent at once");
        for (String id : List.of("b", "c", "d")) {
            change(session(id), "v", 1);
        }
        Thread.sleep(50);
        assertThat(agent.batches()).as("one batch at a time on its way").hasSize(1);
        agent.applyAll();
        eventually(() -> agent.batches().size() == 2, "the others, together");
        assertThat(agent.batches().get(1).getChangesCount()).isEqualTo(3);
        agent.applyAll();
        agent.answerAll();
        eventually(() -> pipeline.pendingWrites() == 0, "answered");
    }

    @Test
    void aFirstAnswerToABatchNotInFlightEndsTheStream() throws Exception {
        pipeline(ReplicationMode.ASYNC, 60_000);
        eventually(() -> agent.stream != null, "open");
        PendingWrite w = change(session("s"), "v", 1);
        eventually(() -> agent.batches().size() == 1, "sent");
        agent.stream.onResult(WriteBatchResult.newBuilder().setBatchId(99).setInterim(true).build());
        eventually(w::isDone, "failed");
        assertThat(w.failure()).isNotNull();
        assertThat(outcomes).containsExactly("lost s");
        assertThat(counters.get(FilterCounter.STREAM_FAILURES)).isEqualTo(1);
    }

    @Test
    void refusalsFailTheirOwnWriteOnly() throws Exception {
        pipeline(ReplicationMode.SYNC, 0);
        eventually(() -> agent.stream != null, "open");
        agent.refuse("b", Status.Code.ABORTED);
        PendingWrite a = change(session("a"), "v", 1);
        PendingWrite b = change(session("b"), "v", 1);
        eventually(() -> {
            agent.answerAll();
            return a.isDone() && b.isDone();
        }, "answered");
        assertThat(pipeline.awaitAnswer(a, 1_000)).isTrue();
        assertThat(a.failure()).isNull();
        assertThat(a.version()).isEqualTo(1);
        assertThat(b.failure().isConflict()).isTrue();
        assertThat(b.session.needsFullSync()).isTrue();
        assertThat(agent.batches().get(0).getDurability()).isEqualTo(Durability.DURABILITY_SYNC_ONE);
        assertThat(agent.batches().get(0).getAnswerWhenApplied()).as("sync waits for the replicas anyway").isFalse();
    }

    @Test
    void aStreamThatBreaksLosesWhatItCarriedAndWhatWaitedAndTheAgentIsProbedAfterTheBackoff() throws Exception {
        pipeline(ReplicationMode.ASYNC, 60_000);
        eventually(() -> agent.stream != null, "open");
        SessionData s = session("s");
        change(s, "v", 1);
        eventually(() -> agent.batches().size() == 1, "in flight");
        agent.ready = false;
        change(s, "v", 2);
        change(session("t"), "v", 1);
        agent.breakStream(Status.UNAVAILABLE.withDescription("connection reset"));

        eventually(health::isDown, "serving locally");
        assertThat(counters.get(FilterCounter.STREAM_FAILURES)).isEqualTo(1);
        assertThat(counters.get(FilterCounter.WRITES_NOT_REPLICATED)).isEqualTo(3);
        assertThat(outcomes).containsExactlyInAnyOrder("lost s", "lost s", "lost t");
        assertThat(s.needsFullSync()).isTrue();
        assertThatThrownBy(() -> change(s, "v", 3)).isInstanceOf(AgentClient.AgentException.class);
        assertThat(counters.get(FilterCounter.WRITES_NOT_REPLICATED)).isEqualTo(4);
        assertThat(agent.opened).as("no probe within the backoff").isEqualTo(1);

        agent.ready = true;
        clock.addAndGet(AgentHealth.INITIAL_BACKOFF_MS);
        eventually(() -> agent.opened == 2, "probed");
        agent.becomeReady();
        eventually(() -> !health.isDown(), "back");
    }

    @Test
    void writesThatFindTheAgentBackOpenTheStreamWithoutWaitingForTheScheduledReopen() throws Exception {
        // Delayed tasks never run here: the reopen planned at the failure's backoff stays pending.
        scheduler.shutdownNow();
        scheduler = new ScheduledThreadPoolExecutor(1) {
            @Override
            public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
                // execute() comes here too, with no delay: that runs.
                return super.schedule(command, delay > 0 ? TimeUnit.DAYS.toNanos(1) : 0, TimeUnit.NANOSECONDS);
            }
        };
        pipeline(ReplicationMode.ASYNC, 60_000);
        eventually(() -> agent.stream != null, "open");
        agent.breakStream(Status.UNAVAILABLE.withDescription("connection refused"));
        eventually(health::isDown, "serving locally");
        assertThat(agent.opened).isEqualTo(1);

        // A unary call (a failover lookup, a touch) found the agent back.
        health.answered();
        SessionData s = session("s");
        change(s, "v", 1);
        eventually(() -> agent.opened == 2, "the stream opened for the waiting write");
        agent.becomeReady();
        eventually(() -> agent.batches().size() == 1, "the write sent");
        agent.answerAll();
        eventually(() -> outcomes.contains("applied s 1"), "applied");
    }

    /** Answers batches when told; its stream can stall (not ready) or break. */
    private final class FakeAgent implements WriteTransport {
        volatile boolean ready = true;
        volatile boolean cancelled;
        volatile int opened;
        volatile WriteTransport.Listener stream;
        private final List<WriteBatch> sent = new ArrayList<>();
        private final List<String> refused = new ArrayList<>();
        private Status.Code refusal;
        private int answered;
        private int applied;

        @Override
        public Stream open(Listener listener) {
            opened++;
            stream = listener;
            return new Stream() {
                @Override
                public boolean isReady() {
                    return ready;
                }

                @Override
                public void send(WriteBatch batch) {
                    synchronized (FakeAgent.this) {
                        sent.add(batch);
                    }
                }

                @Override
                public void finish() {
                    listener.onClosed(Status.OK);
                }
            };
        }

        synchronized List<WriteBatch> batches() {
            return new ArrayList<>(sent);
        }

        synchronized void refuse(String id, Status.Code code) {
            refused.add(id);
            refusal = code;
        }

        void becomeReady() {
            ready = true;
            stream.onReady();
        }

        void answerAll() {
            answer(Integer.MAX_VALUE);
        }

        void answer(int batches) {
            List<WriteBatchResult> results = new ArrayList<>();
            synchronized (this) {
                while (answered < sent.size() && results.size() < batches) {
                    WriteBatch b = sent.get(answered++);
                    WriteBatchResult.Builder r = WriteBatchResult.newBuilder().setBatchId(b.getBatchId())
                            .setOutcome(WriteOutcome.WRITE_OUTCOME_REPLICATED);
                    for (SessionChange c : b.getChangesList()) {
                        r.addResults(refused.contains(c.getId())
                                ? ChangeResult.newBuilder().setErrorCode(refusal.value()).setErrorMessage("no")
                                : ChangeResult.newBuilder().setVersion(c.getBaseVersion() + 1));
                    }
                    results.add(r.build());
                }
            }
            for (WriteBatchResult r : results) {
                stream.onResult(r);
            }
        }

        /** The interim answers of the batches sent and not applied yet: the agent holds them now. */
        void applyAll() {
            List<WriteBatchResult> results = new ArrayList<>();
            synchronized (this) {
                for (; applied < sent.size(); applied++) {
                    WriteBatch b = sent.get(applied);
                    WriteBatchResult.Builder r = WriteBatchResult.newBuilder().setBatchId(b.getBatchId())
                            .setOutcome(WriteOutcome.WRITE_OUTCOME_APPLIED).setInterim(true);
                    for (SessionChange c : b.getChangesList()) {
                        r.addResults(ChangeResult.newBuilder().setVersion(c.getBaseVersion() + 1));
                    }
                    results.add(r.build());
                }
            }
            for (WriteBatchResult r : results) {
                stream.onResult(r);
            }
        }

        void breakStream(Status status) {
            stream.onClosed(status);
        }
    }
}
