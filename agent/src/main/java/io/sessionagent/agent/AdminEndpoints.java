package io.sessionagent.agent;

import io.sessionagent.agent.api.SessionServiceImpl;
import io.sessionagent.agent.metrics.OperatorHttpServer;
import io.sessionagent.agent.metrics.OperatorHttpServer.Request;
import io.sessionagent.agent.metrics.OperatorHttpServer.Response;


/**
 * The admin endpoints on the operator port: switch replication, drain, show the view. They
 * bind to loopback by default (metrics-address) and have no authentication of their own, so
 * whoever can reach the port can use them.
 */
final class AdminEndpoints {
    private final Agent agent;
    private final SessionServiceImpl sessions;

    AdminEndpoints(Agent agent, SessionServiceImpl sessions) {
        this.agent = agent;
        this.sessions = sessions;
    }

    void addTo(OperatorHttpServer server) {
        server.route("POST", "/admin/replication", this::replication)
                .route("POST", "/admin/drain", r -> drain())
                .route("GET", "/admin/view", r -> view());
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
        agent.replicator().setReplicationEnabled(enabled);
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
        return new Response(200, "application/json", ViewJson.format(sessions.clusterView()));
    }
}
