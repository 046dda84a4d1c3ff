package io.sessionagent.agent.api;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.sessionagent.agent.membership.MemberSnapshot;
import io.sessionagent.agent.membership.View;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.replication.Replicator;
import io.sessionagent.agent.replication.SyncWaiter;
import io.sessionagent.agent.store.LimitExceededException;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.store.StaleBaseException;
import io.sessionagent.proto.v1.Access;
import io.sessionagent.proto.v1.ChangeResult;
import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.ClusterViewRequest;
import io.sessionagent.proto.v1.CountSessionsRequest;
import io.sessionagent.proto.v1.CountSessionsResponse;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.InvalidateRequest;
import io.sessionagent.proto.v1.InvalidateResponse;
import io.sessionagent.proto.v1.ListSessionsRequest;
import io.sessionagent.proto.v1.ListSessionsResponse;
import io.sessionagent.proto.v1.Member;
import io.sessionagent.proto.v1.MemberState;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.SessionSummary;
import io.sessionagent.proto.v1.TouchRequest;
import io.sessionagent.proto.v1.TouchResponse;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;
import io.sessionagent.proto.v1.WriteOutcome;
import io.sessionagent.proto.v1.WriteRequest;
import io.sessionagent.proto.v1.WriteResponse;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The API the local filter calls. A thin adapter: validates, then hands over to the table and
 * the replicator. Sync writes complete from the protocol thread, so no gRPC thread waits.
 */
public final class SessionServiceImpl extends SessionServiceGrpc.SessionServiceImplBase {
    private static final int DEFAULT_PAGE = 1000;
    private static final int MAX_PAGE = 10_000;

    /** Who this agent is, for the cluster view. */
    public record Identity(String clusterName, String nodeName, long memberId, long incarnation, String peerAddress) {
    }

    private final SessionTable table;
    private final Replicator replicator;
    private final Counters counters;
    private final LongSupplier clockMs;
    private final long syncTimeoutMs;
    private final long readWaitMs;
    private final Identity self;

    /** @param readWaitMs longest a read waits for this agent to catch up (failover-read-wait) */
    public SessionServiceImpl(SessionTable table, Replicator replicator, Counters counters, LongSupplier clockMs,
                              long syncTimeoutMs, long readWaitMs, Identity self) {
        this.table = table;
        this.replicator = replicator;
        this.counters = counters;
        this.clockMs = clockMs;
        this.syncTimeoutMs = syncTimeoutMs;
        this.readWaitMs = readWaitMs;
        this.self = self;
    }

    @Override
    public void writeDelta(WriteRequest request, StreamObserver<WriteResponse> out) {
        CompletableFuture<WriteResponse> result;
        try {
            result = write(request);
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        }
        result.whenComplete((r, err) -> {
            if (err != null) {
                out.onError(Status.INTERNAL.withDescription(err.toString()).asRuntimeException());
            } else {
                out.onNext(r);
                out.onCompleted();
            }
        });
    }

    @Override
    public StreamObserver<WriteBatch> writeBatches(StreamObserver<WriteBatchResult> out) {
        // Results go out in the order the batches came, even when a later batch is answered before
        // an earlier one that waits for replicas: each waits for its predecessor.
        return new StreamObserver<>() {
            private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

            @Override
            public synchronized void onNext(WriteBatch batch) {
                CompletableFuture<WriteBatchResult> mine = write(batch, interim -> {
                    synchronized (out) {
                        out.onNext(interim);
                    }
                });
                tail = tail.thenCompose(v -> mine).thenAccept(r -> {
                    synchronized (out) {
                        out.onNext(r);
                    }
                });
            }

            @Override
            public void onError(Throwable t) {
                // The client went away; the batches are applied already, nothing to undo.
            }

            @Override
            public synchronized void onCompleted() {
                tail.whenComplete((v, e) -> {
                    synchronized (out) {
                        out.onCompleted();
                    }
                });
            }
        };
    }

    /**
     * Applies every change of the batch in order, each queued for replication inside its
     * session's critical section, and answers the batch once: at once when async, else when the
     * replicas acknowledged everything queued up to the last change (one waiter for the batch).
     * A batch that asks for it is answered a first time, to {@code interim}, once applied.
     */
    private CompletableFuture<WriteBatchResult> write(WriteBatch batch, Consumer<WriteBatchResult> interim) {
        WriteBatchResult.Builder result = WriteBatchResult.newBuilder().setBatchId(batch.getBatchId());
        Durability durability = batch.getDurability();
        if (durability == Durability.UNRECOGNIZED) {
            counters.increment(Counter.GRPC_INVALID_ARGUMENT);
            ChangeResult refused = refusal(Status.Code.INVALID_ARGUMENT, "unknown durability "
                    + batch.getDurabilityValue());
            for (int i = 0; i < batch.getChangesCount(); i++) {
                result.addResults(refused);
            }
            return CompletableFuture.completedFuture(result.setOutcome(WriteOutcome.WRITE_OUTCOME_APPLIED).build());
        }
        boolean applied = false;
        for (SessionChange change : batch.getChangesList()) {
            try {
                long version = writeLocal(change, null, durability != Durability.DURABILITY_ASYNC);
                result.addResults(ChangeResult.newBuilder().setVersion(version));
                applied = true;
            } catch (StatusRuntimeException e) {
                result.addResults(refusal(e.getStatus().getCode(), e.getStatus().getDescription()));
            }
        }
        if (durability == Durability.DURABILITY_ASYNC || !applied) {
            return CompletableFuture.completedFuture(result.setOutcome(WriteOutcome.WRITE_OUTCOME_APPLIED).build());
        }
        boolean answered = batch.getAnswerWhenApplied();
        SyncWaiter waiter = waiter(durability, batch.getSyncTimeoutMs(), !answered);
        if (answered) {
            // Before the replicas are awaited: the caller goes on, its writes are this agent's now,
            // and the final answer only tracks replication, at the receivers' pace.
            interim.accept(result.clone().setOutcome(WriteOutcome.WRITE_OUTCOME_APPLIED).setInterim(true).build());
        } else {
            counters.add(Counter.SYNC_WRITES, batch.getChangesCount());
        }
        replicator.awaitReplicas(waiter);
        return waiter.future().thenApply(r -> result.setAcks(r.acks()).setOutcome(outcome(r)).build());
    }

    private static ChangeResult refusal(Status.Code code, String message) {
        return ChangeResult.newBuilder().setErrorCode(code.value()).setErrorMessage(String.valueOf(message)).build();
    }

    private SyncWaiter waiter(Durability durability, int syncTimeoutMs, boolean urgent) {
        long timeout = syncTimeoutMs > 0 ? syncTimeoutMs : this.syncTimeoutMs;
        return new SyncWaiter(durability == Durability.DURABILITY_SYNC_ALL, clockMs.getAsLong() + timeout, urgent);
    }

    private static WriteOutcome outcome(SyncWaiter.Result r) {
        return r.noReplicas() ? WriteOutcome.WRITE_OUTCOME_NO_REPLICAS
                : r.timedOut() ? WriteOutcome.WRITE_OUTCOME_SYNC_TIMEOUT
                : WriteOutcome.WRITE_OUTCOME_REPLICATED;
    }

    /**
     * Checks and applies one change, queueing its delta for replication.
     *
     * @param waiter completed when the replicas acknowledged the delta; null for none
     * @param sync   the caller waits for replicas (with this waiter or one for its whole batch)
     * @return the session's new version
     * @throws StatusRuntimeException INVALID_ARGUMENT, ABORTED (stale base) or RESOURCE_EXHAUSTED, counted
     */
    private long writeLocal(SessionChange change, SyncWaiter waiter, boolean sync) {
        try {
            if (change.getInvalidate()) {
                // Nothing of the change but its id and timeout counts: a filter may send its
                // session's other fields along.
                Requests.checkId(change.getId());
            } else {
                Requests.checkChange(change);
            }
        } catch (StatusRuntimeException e) {
            counters.increment(Counter.GRPC_INVALID_ARGUMENT);
            throw e;
        }
        if (change.getInvalidate()) {
            return invalidateLocal(change.getId(), change.getMaxInactiveSeconds(), waiter).version();
        }
        try {
            return table.writeLocal(change, self.memberId(), sync, d -> replicator.replicate(d, waiter));
        } catch (StaleBaseException e) {
            counters.increment(Counter.WRITE_CONFLICTS);
            throw Status.ABORTED.withDescription(e.getMessage()).asRuntimeException();
        } catch (LimitExceededException e) {
            counters.increment(Counter.LIMIT_REJECTIONS);
            throw Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException();
        }
    }

    private CompletableFuture<WriteResponse> write(WriteRequest request) {
        Durability durability = request.getDurability();
        if (durability == Durability.UNRECOGNIZED) {
            counters.increment(Counter.GRPC_INVALID_ARGUMENT);
            throw Requests.invalid("unknown durability " + request.getDurabilityValue());
        }
        SyncWaiter waiter = null;
        if (durability != Durability.DURABILITY_ASYNC) {
            waiter = waiter(durability, request.getSyncTimeoutMs(), true);
            counters.increment(Counter.SYNC_WRITES);
        }
        long version = writeLocal(request.getChange(), waiter, waiter != null);
        WriteResponse.Builder response = WriteResponse.newBuilder()
                .setCorrelationId(request.getCorrelationId())
                .setVersion(version);
        if (waiter == null) {
            return CompletableFuture.completedFuture(response.setOutcome(WriteOutcome.WRITE_OUTCOME_APPLIED).build());
        }
        return waiter.future().thenApply(r -> response.setAcks(r.acks()).setOutcome(outcome(r)).build());
    }

    @Override
    public void getSession(GetSessionRequest request, StreamObserver<GetSessionResponse> out) {
        if (!check(() -> Requests.checkId(request.getId()), out)) {
            return;
        }
        // The local filter asks only for sessions its node does not hold: after a failover, when
        // the session's last writes may still be on their way here. Answering before they are
        // applied would hand out an older session, or none, for good.
        long waitMs = waitWithin(Context.current().getDeadline());
        replicator.awaitCaughtUp(request.getId(), clockMs.getAsLong() + waitMs).whenComplete((caughtUp, e) -> {
            if (e != null || !caughtUp) {
                counters.increment(Counter.READS_UNAVAILABLE);
                out.onError(Status.UNAVAILABLE.withDescription("the agent is still applying what it received of"
                        + " session writes (a member failed moments ago); waited " + waitMs + " ms, retry shortly")
                        .asRuntimeException());
                return;
            }
            GetSessionResponse.Builder b = GetSessionResponse.newBuilder();
            table.get(request.getId()).ifPresent(r -> b.setFound(true).setSession(r));
            if (!b.getFound() && replicator.state() == MemberState.MEMBER_STATE_JOINING) {
                // Not found may only mean "not transferred yet": a failover must not start afresh.
                out.onError(Status.UNAVAILABLE.withDescription("the agent is still receiving the cluster's"
                        + " sessions; retry shortly").asRuntimeException());
                return;
            }
            out.onNext(b.build());
            out.onCompleted();
        });
    }

    /**
     * How long a read may wait to catch up: failover-read-wait, but short enough that the caller
     * still hears UNAVAILABLE (and retries) before its own deadline cuts the call.
     */
    private long waitWithin(Deadline deadline) {
        if (deadline == null) {
            return readWaitMs;
        }
        long remaining = deadline.timeRemaining(TimeUnit.MILLISECONDS);
        long margin = Math.min(100, remaining / 4);
        return Math.max(0, Math.min(readWaitMs, remaining - margin));
    }

    @Override
    public void touch(TouchRequest request, StreamObserver<TouchResponse> out) {
        if (!check(() -> request.getAccessesList().forEach(a -> Requests.checkId(a.getId())), out)) {
            return;
        }
        int known = 0;
        for (Access a : request.getAccessesList()) {
            if (table.touch(a.getId(), a.getAccessTimeMs())) {
                known++;
                replicator.touch(a.getId(), a.getAccessTimeMs());
            }
        }
        out.onNext(TouchResponse.newBuilder().setKnown(known).build());
        out.onCompleted();
    }

    @Override
    public void invalidate(InvalidateRequest request, StreamObserver<InvalidateResponse> out) {
        if (!check(() -> Requests.checkId(request.getId()), out)) {
            return;
        }
        // The caller's session timeout is unknown here: the tombstone of an id not held is kept as
        // for a session that never expires.
        SessionTable.Invalidation done = invalidateLocal(request.getId(), 0, null);
        out.onNext(InvalidateResponse.newBuilder().setExisted(done.existed()).setVersion(done.version()).build());
        out.onCompleted();
    }

    private SessionTable.Invalidation invalidateLocal(String id, int maxInactiveSeconds, SyncWaiter waiter) {
        return table.invalidateLocal(id, self.memberId(), clockMs.getAsLong(), maxInactiveSeconds,
                d -> replicator.replicate(d, waiter));
    }

    @Override
    public void listSessions(ListSessionsRequest request, StreamObserver<ListSessionsResponse> out) {
        // page_size is a uint32: read as a signed int, a value past 2^31 would pass as negative.
        long requested = Integer.toUnsignedLong(request.getPageSize());
        if (requested > MAX_PAGE) {
            counters.increment(Counter.GRPC_INVALID_ARGUMENT);
            out.onError(Requests.invalid("page_size " + requested + " exceeds " + MAX_PAGE));
            return;
        }
        int size = requested == 0 ? DEFAULT_PAGE : (int) requested;
        List<SessionSummary> page = table.listAfter(request.getPageToken(), size);
        ListSessionsResponse.Builder b = ListSessionsResponse.newBuilder().addAllSessions(page);
        if (page.size() == size) {
            b.setNextPageToken(page.get(page.size() - 1).getId());
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void countSessions(CountSessionsRequest request, StreamObserver<CountSessionsResponse> out) {
        out.onNext(CountSessionsResponse.newBuilder().setCount(table.liveCount()).setBytes(table.liveBytes()).build());
        out.onCompleted();
    }

    @Override
    public void getClusterView(ClusterViewRequest request, StreamObserver<ClusterView> out) {
        ClusterView view;
        try {
            view = clusterView();
        } catch (IllegalStateException e) {
            out.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        out.onNext(view);
        out.onCompleted();
    }

    /**
     * The cluster as this agent sees it, as the CLI's {@code view} and the admin endpoint show it.
     *
     * @throws IllegalStateException when the protocol thread does not answer
     */
    public ClusterView clusterView() {
        View view = replicator.view();
        ClusterView.Builder b = ClusterView.newBuilder()
                .setClusterName(self.clusterName())
                .setSelf(Member.newBuilder()
                        .setMemberId(self.memberId())
                        .setNodeName(self.nodeName())
                        .setIncarnation(self.incarnation())
                        .setPeerAddress(self.peerAddress())
                        .setState(replicator.state())
                        .setSessionCount(table.liveCount()))
                .setViewId(view.viewId())
                .setSessionCount(table.liveCount())
                .setBytesHeld(table.liveBytes())
                .setTableHash(table.tableHash())
                .setReplicationEnabled(replicator.replicationEnabled())
                .putAllCounters(counters.snapshotByName());
        for (MemberSnapshot m : view.members()) {
            b.addMembers(Member.newBuilder()
                    .setMemberId(m.id())
                    .setNodeName(m.nodeName())
                    .setIncarnation(m.incarnation())
                    .setPeerAddress(m.peerAddress())
                    .setState(m.state() == null ? MemberState.MEMBER_STATE_UNSPECIFIED : m.state())
                    .setLastHeardMsAgo(m.lastHeardMsAgo())
                    .setSessionCount(m.sessionCount()));
        }
        return b.build();
    }

    private <T> boolean check(Runnable validation, StreamObserver<T> out) {
        try {
            validation.run();
            return true;
        } catch (StatusRuntimeException e) {
            counters.increment(Counter.GRPC_INVALID_ARGUMENT);
            out.onError(e);
            return false;
        }
    }
}
