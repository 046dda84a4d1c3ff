package io.sessionagent.agent.replication;

import java.util.concurrent.CompletableFuture;

/**
 * A write waiting for replicas to acknowledge it. Completed on the protocol thread with the
 * number of acknowledgements and whether the wait ended by timeout.
 */
public final class SyncWaiter {
    /** The result of the wait. */
    public record Result(int acks, boolean timedOut, boolean noReplicas) {
    }

    final boolean all;
    final long deadlineMs;
    /**
     * A caller waits on it: the batch asks the receivers to acknowledge at once. Otherwise (a
     * writer that was answered already and only tracks replication) their next tick will do.
     */
    final boolean urgent;
    /**
     * The highest sequence sent when the waiter was placed, at or after the last datagram carrying
     * the writes it waits for; 0 until placed.
     */
    long sequence;
    /** When the waiter was placed, for the ack latency. */
    long sentAtMs;
    private final CompletableFuture<Result> future = new CompletableFuture<>();

    /**
     * @param all true to wait for every READY member, false for one
     */
    public SyncWaiter(boolean all, long deadlineMs) {
        this(all, deadlineMs, true);
    }

    /**
     * @param all    true to wait for every READY member, false for one
     * @param urgent false when nobody waits on the answer: acknowledgements come at the receivers'
     *               pace (every protocol tick), not at once, and the wait is not in the ack latency
     */
    public SyncWaiter(boolean all, long deadlineMs, boolean urgent) {
        this.all = all;
        this.deadlineMs = deadlineMs;
        this.urgent = urgent;
    }

    public CompletableFuture<Result> future() {
        return future;
    }

    void complete(int acks, boolean timedOut, boolean noReplicas) {
        future.complete(new Result(acks, timedOut, noReplicas));
    }
}
