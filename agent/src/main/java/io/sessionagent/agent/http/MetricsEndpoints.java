package io.sessionagent.agent.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sessionagent.agent.monitoring.AgentGauges;
import io.sessionagent.proto.v1.MemberState;

import java.util.function.Supplier;

/**
 * {@code /metrics} (Prometheus text format), {@code /health} (liveness) and {@code /ready}
 * (readiness). Liveness only says the process serves HTTP: restarting an agent that is merely
 * joining would make things worse. Readiness says it holds the cluster's table.
 */
public final class MetricsEndpoints {
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;
    private final AgentGauges gauges;
    private final Supplier<MemberState> state;

    public MetricsEndpoints(PrometheusMeterRegistry registry, AgentGauges gauges, Supplier<MemberState> state) {
        this.registry = registry;
        this.gauges = gauges;
        this.state = state;
    }

    public void addTo(OperatorHttpServer server) {
        server.route("GET", "/metrics", r -> metrics())
                .route("GET", "/health", r -> OperatorHttpServer.Response.text(200, "ok"))
                .route("GET", "/ready", r -> ready());
    }

    private OperatorHttpServer.Response metrics() {
        gauges.refresh();
        return new OperatorHttpServer.Response(200, PROMETHEUS_TEXT, registry.scrape());
    }

    private OperatorHttpServer.Response ready() {
        MemberState s = state.get();
        if (s == MemberState.MEMBER_STATE_READY) {
            return OperatorHttpServer.Response.text(200, "ready");
        }
        return OperatorHttpServer.Response.text(503, "not ready: " + AgentGauges.tag(s));
    }
}
