package io.sessionagent.agent.testing;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** A WriteBatches stream to an agent, every answer kept for the test to read. */
public final class BatchStream {
    public final List<WriteBatchResult> results = new CopyOnWriteArrayList<>();
    /** Completes when the agent ends the stream, exceptionally when it fails it. */
    public final CompletableFuture<Void> done = new CompletableFuture<>();
    public final StreamObserver<WriteBatch> batches;

    BatchStream(ManagedChannel channel) {
        batches = SessionServiceGrpc.newStub(channel).writeBatches(new StreamObserver<>() {
            @Override
            public void onNext(WriteBatchResult r) {
                results.add(r);
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete(null);
            }
        });
    }
}
