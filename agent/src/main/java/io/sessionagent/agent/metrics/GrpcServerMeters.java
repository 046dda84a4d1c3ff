package io.sessionagent.agent.metrics;

import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;

import java.time.Duration;

/**
 * Micrometer's gRPC server interceptor, set up for the agent's servers: every call is timed by
 * service, method, method type and status code, and every message in and out is counted, under
 * Micrometer's own meter names (the {@code GRPC_SERVER_*} entries of {@link MeterCatalogue}).
 * The timer publishes buckets, so that the dashboard's latency percentiles can be aggregated
 * across agents. A server installs it as its outermost interceptor (added last), so that the
 * calls another interceptor refuses are counted with the status they were refused with.
 */
public final class GrpcServerMeters {
    private GrpcServerMeters() {
    }

    public static ServerInterceptor interceptor(MeterRegistry registry) {
        return new MetricCollectingServerInterceptor(registry, counter -> counter,
                timer -> timer.description(MeterCatalogue.GRPC_SERVER_PROCESSING_DURATION.description())
                        .publishPercentileHistogram()
                        .minimumExpectedValue(Duration.ofMillis(1))
                        .maximumExpectedValue(Duration.ofSeconds(30)));
    }
}
