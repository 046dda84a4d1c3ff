package io.sessionagent.agent.api;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.sessionagent.proto.v1.SessionServiceGrpc;

/**
 * The standard gRPC health service of the SessionService's server: NOT_SERVING while the agent
 * joins, SERVING once it holds the cluster's table, NOT_SERVING again for good once it leaves.
 * Both the whole server ("") and the SessionService by name report the same status.
 */
public final class HealthReporter {
    private final HealthStatusManager health = new HealthStatusManager();
    private boolean leaving;

    public HealthReporter() {
        set(ServingStatus.NOT_SERVING);
    }

    public io.grpc.BindableService service() {
        return health.getHealthService();
    }

    /** The agent is ready; ignored once it leaves, since the two may race. */
    public synchronized void ready() {
        if (!leaving) {
            set(ServingStatus.SERVING);
        }
    }

    public synchronized void leaving() {
        leaving = true;
        set(ServingStatus.NOT_SERVING);
    }

    private void set(ServingStatus status) {
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
        health.setStatus(SessionServiceGrpc.SERVICE_NAME, status);
    }
}
