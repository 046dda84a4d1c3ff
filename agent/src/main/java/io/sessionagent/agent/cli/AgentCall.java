package io.sessionagent.agent.cli;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.sessionagent.agent.api.ApiToken;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** One call to a running agent's SessionService from the command line, on a channel used once. */
final class AgentCall {
    private AgentCall() {}

    static <T> T call(ClientOptions o, Function<SessionServiceGrpc.SessionServiceBlockingStub, T> call) {
        NettyChannelBuilder builder = NettyChannelBuilder.forTarget("dns:///" + o.target()).usePlaintext()
                .maxInboundMessageSize(64 << 20);
        if (o.token() != null) {
            Metadata headers = new Metadata();
            headers.put(ApiToken.AUTHORIZATION, "Bearer " + o.token());
            builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        ManagedChannel channel = builder.build();
        try {
            return call.apply(SessionServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(o.timeout().toMillis(), TimeUnit.MILLISECONDS));
        } finally {
            channel.shutdownNow();
            try {
                channel.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Exit code and message for a failed call: unreachable (3) or failed (1). */
    static int report(String command, HostPort target, StatusRuntimeException e, java.io.PrintStream err) {
        Status s = e.getStatus();
        String what = s.getDescription() == null ? s.getCode().toString() : s.getCode() + " (" + s.getDescription() + ")";
        if (s.getCode() == Status.Code.UNAVAILABLE || s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
            err.println("session-agent " + command + ": cannot reach the agent at " + target + ": " + what);
            return Cli.UNREACHABLE;
        }
        err.println("session-agent " + command + ": the agent at " + target + " refused: " + what);
        return Cli.FAILED;
    }
}
