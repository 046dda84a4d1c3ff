package io.sessionagent.agent.http;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.http.OperatorHttpServer.Request;
import io.sessionagent.agent.http.OperatorHttpServer.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;


/**
 * The admin endpoints on the operator port: switch replication, drain, show the view. The ones
 * that change the agent answer only whom {@link AdminAccess} lets in; the view, like /metrics,
 * is read-only and open to whoever reaches the port.
 */
public final class AdminEndpoints {
    private static final Logger log = LoggerFactory.getLogger(AdminEndpoints.class);

    private final AdminActions agent;
    private final AdminAccess access;
    private final Counters counters;
    private final AtomicBoolean refusalLogged = new AtomicBoolean();

    public AdminEndpoints(AdminActions agent, AdminAccess access, Counters counters) {
        this.agent = agent;
        this.access = access;
        this.counters = counters;
    }

    public void addTo(OperatorHttpServer server) {
        server.route("POST", "/admin/replication", guarded(this::replication))
                .route("POST", "/admin/drain", guarded(r -> drain()))
                .route("GET", "/admin/view", r -> view());
    }

    private OperatorHttpServer.Handler guarded(OperatorHttpServer.Handler handler) {
        return r -> {
            Response refused = access.refusal(r);
            if (refused == null) {
                return handler.handle(r);
            }
            counters.increment(Counter.ADMIN_REFUSED);
            if (refusalLogged.compareAndSet(false, true)) {
                log.warn("refused {} {}: {} (logged once; every refusal counted in admin.refused)", r.method(),
                        r.path(), refused.body().strip());
            }
            return refused;
        };
    }

    private Response replication(Request r) {
        for (String name : r.query().keySet()) {
            if (!name.equals("enabled")) {
                return Response.text(400, "unknown parameter " + name
                        + "; use POST /admin/replication?enabled=true or ?enabled=false");
            }
        }
        String value = r.query().get("enabled");
        if (!"true".equals(value) && !"false".equals(value)) {
            return Response.text(400, "enabled must be true or false, was " + (value == null ? "missing" : value)
                    + "; use POST /admin/replication?enabled=true or ?enabled=false");
        }
        if (agent.drained()) {
            return Response.text(409, "this agent has left the cluster (drained); restart it to rejoin");
        }
        boolean enabled = Boolean.parseBoolean(value);
        agent.setReplicationEnabled(enabled);
        return Response.text(200, enabled
                ? "replication on: resynchronising with the other members by anti-entropy"
                : "replication off: this agent now serves its own node only");
    }

    private Response drain() {
        try {
            if (!agent.drain()) {
                return Response.text(200, "already drained or stopping");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Response.text(503, "interrupted while draining");
        }
        return Response.text(200, "drained: left the cluster, SessionService refuses calls;"
                + " stop the app server, then this agent");
    }

    private Response view() {
        return new Response(200, "application/json", agent.viewJson());
    }
}
