package io.sessionagent.filter.core.agent;

import io.grpc.Status;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;

/**
 * Opens write-batch streams to the agent: the seam between {@link WritePipeline} and gRPC, so
 * that the pipeline's flow control can be tested against a fake agent that answers, stalls or
 * breaks exactly when a test says.
 */
interface WriteTransport {

    /** Opens a stream; its events go to the listener, on the transport's thread. */
    Stream open(Listener listener);

    /** One open stream of batches; the agent answers them in the order they were sent. */
    interface Stream {
        /** Whether a batch sent now would go out without being buffered (the transport's flow control). */
        boolean isReady();

        void send(WriteBatch batch);

        /** No more batches: the agent answers those in flight, then ends the stream. */
        void finish();
    }

    /** What the agent does on a stream. Called on the transport's thread: must not block. */
    interface Listener {
        /** {@link Stream#isReady} may have become true. */
        void onReady();

        /** The answer to the oldest batch not answered yet. */
        void onResult(WriteBatchResult result);

        /** The stream ended: {@code OK} after {@link Stream#finish}, else why it broke. */
        void onClosed(Status status);
    }
}
