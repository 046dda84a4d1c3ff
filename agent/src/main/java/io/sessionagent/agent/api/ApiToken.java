package io.sessionagent.agent.api;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The SessionService answers only calls that carry the agent's API token
 * ({@code authorization: Bearer <token>}): with it, a local user or process that can reach the
 * port but cannot read the token file cannot read or write sessions. The gRPC health service
 * stays open: it says only whether the agent serves.
 */
public final class ApiToken implements ServerInterceptor {
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final byte[] expected;
    private final Runnable onRefusal;

    /** @param onRefusal counts a refused call */
    public ApiToken(String token, Runnable onRefusal) {
        this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        this.onRefusal = onRefusal;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        if (call.getMethodDescriptor().getServiceName().equals(HealthGrpc.SERVICE_NAME)) {
            return next.startCall(call, headers);
        }
        String presented = headers.get(AUTHORIZATION);
        // Constant time: the answer's timing must not tell how much of a guess was right.
        if (presented == null || !MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.UTF_8))) {
            onRefusal.run();
            call.close(Status.UNAUTHENTICATED.withDescription(presented == null
                    ? "this agent requires its API token: send 'authorization: Bearer <token>' (the filter's"
                    + " agent-token-file, the agent's api-token-file)"
                    : "wrong API token"), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return next.startCall(call, headers);
    }
}
