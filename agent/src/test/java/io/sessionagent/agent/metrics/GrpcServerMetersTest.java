package io.sessionagent.agent.metrics;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.Scrape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The gRPC server meters as a scrape shows them, over an in-process server with the standard
 * health service: each call counted by method and status code (OK, an error the service
 * answers, one an inner interceptor refuses, one the client cancels), under the names of the
 * meter catalogue.
 */
class GrpcServerMetersTest {
    private static final String HEALTH = HealthGrpc.SERVICE_NAME;
    private static final String DURATION = MeterCatalogue.GRPC_SERVER_PROCESSING_DURATION.prometheusName();

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HealthStatusManager health = new HealthStatusManager();
    private Server server;
    private ManagedChannel channel;

    private static final Metadata.Key<String> GATED = Metadata.Key.of("x-gated", Metadata.ASCII_STRING_MARSHALLER);

    /**
     * Refuses the calls that carry the {@code x-gated} header before the service sees them, as the
     * agent's drain gate and token check refuse calls.
     */
    private static final ServerInterceptor REFUSE_GATED = new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                           ServerCallHandler<Q, R> next) {
            if (headers.containsKey(GATED)) {
                call.close(Status.UNAVAILABLE.withDescription("gated"), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            return next.startCall(call, headers);
        }
    };

    private HealthGrpc.HealthBlockingStub start() throws Exception {
        registry.config().namingConvention(new PrometheusUnits());
        String name = InProcessServerBuilder.generateName();
        health.setStatus("", HealthCheckResponse.ServingStatus.SERVING);
        server = InProcessServerBuilder.forName(name)
                .addService(health.getHealthService())
                .intercept(REFUSE_GATED)
                .intercept(GrpcServerMeters.interceptor(registry))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        return HealthGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private Scrape scrape() {
        return Scrape.parse(registry.scrape());
    }

    @Test
    void callsAreTimedByServiceMethodAndStatusCode() throws Exception {
        HealthGrpc.HealthBlockingStub stub = start();
        stub.check(HealthCheckRequest.newBuilder().build());
        stub.check(HealthCheckRequest.newBuilder().build());
        assertThatThrownBy(() -> stub.check(HealthCheckRequest.newBuilder().setService("no.such.Service").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        Metadata gated = new Metadata();
        gated.put(GATED, "yes");
        assertThatThrownBy(() -> stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(gated))
                .check(HealthCheckRequest.newBuilder().build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

        // The service answers before the client sees it: the meter is read once the server closed.
        Eventually.await(Duration.ofSeconds(5), () -> scrape().has(DURATION + "_count")
                && scrape().samples(DURATION + "_count").stream().mapToDouble(Scrape.Sample::value).sum() == 4,
                () -> "four calls timed in\n" + registry.scrape());
        Scrape s = scrape();
        assertThat(s.value(DURATION + "_count", "service", HEALTH, "method", "Check", "methodType", "UNARY",
                "statusCode", "OK")).isEqualTo(2);
        assertThat(s.value(DURATION + "_count", "service", HEALTH, "method", "Check", "statusCode", "NOT_FOUND"))
                .isEqualTo(1);
        assertThat(s.value(DURATION + "_count", "service", HEALTH, "method", "Check", "statusCode", "UNAVAILABLE"))
                .isEqualTo(1);
        assertThat(s.value(DURATION + "_bucket", "method", "Check", "statusCode", "OK", "le", "+Inf")).isEqualTo(2);
        assertThat(s.help(DURATION)).isEqualTo(MeterCatalogue.GRPC_SERVER_PROCESSING_DURATION.description());
        // The refused call's request never reached the service; the other three did.
        assertThat(s.value(MeterCatalogue.GRPC_SERVER_REQUESTS_RECEIVED.prometheusName(), "service", HEALTH,
                "method", "Check", "methodType", "UNARY")).isEqualTo(3);
        assertThat(s.value(MeterCatalogue.GRPC_SERVER_RESPONSES_SENT.prometheusName(), "service", HEALTH,
                "method", "Check", "methodType", "UNARY")).isEqualTo(2);
    }

    @Test
    void aCallTheClientCancelsIsCountedAsCancelled() throws Exception {
        start();
        HealthGrpc.HealthStub async = HealthGrpc.newStub(channel);
        Context.CancellableContext context = Context.current().withCancellation();
        CountDownLatch first = new CountDownLatch(1);
        context.run(() -> async.watch(HealthCheckRequest.newBuilder().build(), new StreamObserver<>() {
            @Override
            public void onNext(HealthCheckResponse value) {
                first.countDown();
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        }));
        assertThat(first.await(5, TimeUnit.SECONDS)).isTrue();
        context.cancel(null);

        Eventually.await(Duration.ofSeconds(5), () -> scrape().has(DURATION + "_count"),
                () -> "the watch timed in\n" + registry.scrape());
        assertThat(scrape().value(DURATION + "_count", "service", HEALTH, "method", "Watch",
                "methodType", "SERVER_STREAMING", "statusCode", "CANCELLED")).isEqualTo(1);
        assertThat(scrape().value(MeterCatalogue.GRPC_SERVER_RESPONSES_SENT.prometheusName(), "method", "Watch"))
                .isEqualTo(1);
    }
}
