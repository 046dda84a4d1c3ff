package io.sessionagent.agent.api;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Refuses calls to one service once the agent drains, and tells the drain when the calls
 * already running have finished, so that their writes are queued before the leave is announced.
 * Other services on the same server (the health service) keep answering.
 */
public final class DrainGate implements ServerInterceptor {
    private final String service;
    private final Object lock = new Object();
    private boolean closed;
    private int inFlight;

    /** @param service the full name of the service to gate, e.g. {@code sessionagent.v1.SessionService} */
    public DrainGate(String service) {
        this.service = service;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        if (!call.getMethodDescriptor().getServiceName().equals(service)) {
            return next.startCall(call, headers);
        }
        synchronized (lock) {
            if (closed) {
                call.close(Status.UNAVAILABLE.withDescription("draining: this agent is leaving the cluster;"
                        + " use another node"), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            inFlight++;
        }
        AtomicBoolean done = new AtomicBoolean();
        ServerCall<Q, R> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                super.close(status, trailers);
                finished(done);
            }
        };
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
            @Override
            public void onCancel() {
                super.onCancel();
                finished(done);
            }
        };
    }

    private void finished(AtomicBoolean done) {
        if (done.compareAndSet(false, true)) {
            synchronized (lock) {
                inFlight--;
                lock.notifyAll();
            }
        }
    }

    /** Refuses new calls from now on. */
    public void close() {
        synchronized (lock) {
            closed = true;
        }
    }

    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /**
     * Waits until no gated call runs, at most {@code timeoutMs}; a stream a client keeps open
     * does not hold the drain up longer.
     *
     * @return true when every call finished
     */
    public boolean awaitIdle(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (lock) {
            while (inFlight > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }
}
