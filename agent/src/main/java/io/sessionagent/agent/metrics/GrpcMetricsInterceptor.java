package io.sessionagent.agent.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Times every call a gRPC server serves, by service, method and status code. Installed as the
 * outermost interceptor, so that calls refused by another interceptor are counted too.
 */
public final class GrpcMetricsInterceptor implements ServerInterceptor {
    private final MeterRegistry registry;
    private final Clock clock;
    /** Timers by method and status: a call looks its timer up without building a meter id. */
    private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();

    public GrpcMetricsInterceptor(MeterRegistry registry) {
        this.registry = registry;
        this.clock = registry.config().clock();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        long start = clock.monotonicTime();
        String service = call.getMethodDescriptor().getServiceName();
        String method = call.getMethodDescriptor().getBareMethodName();
        AtomicBoolean recorded = new AtomicBoolean();
        ServerCall<Q, R> timed = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                record(service, method, status.getCode(), start, recorded);
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<Q> listener = next.startCall(timed, headers);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                // The client gave up or the deadline passed: the call never closes with a status.
                record(service, method, Status.Code.CANCELLED, start, recorded);
                super.onCancel();
            }
        };
    }

    private void record(String service, String method, Status.Code code, long start, AtomicBoolean recorded) {
        if (!recorded.compareAndSet(false, true)) {
            return;
        }
        timers.computeIfAbsent(service + '/' + method + ' ' + code, k -> Histograms.timer(MeterCatalogue.GRPC_CALLS,
                        Duration.ofMillis(1), Duration.ofSeconds(30))
                        .tag("service", service).tag("method", method).tag("status", code.name())
                        .register(registry))
                .record(clock.monotonicTime() - start, TimeUnit.NANOSECONDS);
    }
}
