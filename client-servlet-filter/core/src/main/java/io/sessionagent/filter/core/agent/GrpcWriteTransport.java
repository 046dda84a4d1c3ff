package io.sessionagent.filter.core.agent;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;

/** {@link WriteTransport} over the agent's {@code WriteBatches} call. */
public final class GrpcWriteTransport implements WriteTransport {
    private final ManagedChannel channel;
    private final SessionServiceGrpc.SessionServiceStub stub;

    public GrpcWriteTransport(ManagedChannel channel) {
        this.channel = channel;
        // No deadline: the stream lives as long as the filter; a slow agent is met with flow
        // control, never with a cancelled stream.
        this.stub = SessionServiceGrpc.newStub(channel);
    }

    @Override
    public Stream open(Listener listener) {
        // A stream is opened at start and as the probe after the agent was gone: gRPC's own reconnect
        // backoff (up to two minutes) must not make the probe fail without trying.
        channel.resetConnectBackoff();
        Call call = new Call(listener);
        stub.writeBatches(call);
        return call;
    }

    private static final class Call implements ClientResponseObserver<WriteBatch, WriteBatchResult>, Stream {
        private final Listener listener;
        private ClientCallStreamObserver<WriteBatch> requests;

        Call(Listener listener) {
            this.listener = listener;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<WriteBatch> r) {
            requests = r;
            r.setOnReadyHandler(listener::onReady);
        }

        @Override
        public boolean isReady() {
            return requests.isReady();
        }

        @Override
        public void send(WriteBatch batch) {
            requests.onNext(batch);
        }

        @Override
        public void finish() {
            requests.onCompleted();
        }

        @Override
        public void onNext(WriteBatchResult result) {
            listener.onResult(result);
        }

        @Override
        public void onError(Throwable t) {
            listener.onClosed(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            listener.onClosed(Status.OK);
        }
    }
}
