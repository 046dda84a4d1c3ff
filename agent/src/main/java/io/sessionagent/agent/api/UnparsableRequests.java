package io.sessionagent.agent.api;

import io.grpc.BindableService;
import io.grpc.ForwardingServerCall;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.sessionagent.agent.grpc.ConvertingListener;

import java.io.InputStream;

/**
 * Refuses a request that does not parse as its message with INVALID_ARGUMENT, quietly.
 *
 * <p>Left to gRPC, such a request fails inside the server's own parsing, before any interceptor:
 * the caller gets UNKNOWN ("Application error processing RPC") and the server logs a SEVERE stack
 * trace, one per request, so any client on the port could flood the log. Here the methods take the
 * raw stream and parse it themselves, where a failure can be answered like any other bad argument.
 */
public final class UnparsableRequests {
    private static final MethodDescriptor.Marshaller<InputStream> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(InputStream value) {
            return value;
        }

        @Override
        public InputStream parse(InputStream stream) {
            return stream;
        }
    };

    private UnparsableRequests() {
    }

    /**
     * The service with every method parsing its own requests.
     *
     * @param onRefused runs once per refused call (for a counter)
     */
    public static ServerServiceDefinition refused(BindableService service, Runnable onRefused) {
        ServerServiceDefinition original = service.bindService();
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(original.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> m : original.getMethods()) {
            b.addMethod(parsingItself(m, onRefused));
        }
        return b.build();
    }

    private static <Q, R> ServerMethodDefinition<InputStream, R> parsingItself(ServerMethodDefinition<Q, R> m,
                                                                             Runnable onRefused) {
        MethodDescriptor<Q, R> typed = m.getMethodDescriptor();
        MethodDescriptor<InputStream, R> raw = typed.toBuilder(RAW, typed.getResponseMarshaller()).build();
        ServerCallHandler<InputStream, R> handler = (call, headers) -> {
            ServerCall<Q, R> typedCall = new TypedCall<>(call, typed);
            ServerCall.Listener<Q> inner = m.getServerCallHandler().startCall(typedCall, headers);
            return new ConvertingListener<>(call, inner, message -> {
                try {
                    return typed.parseRequest(message);
                } catch (RuntimeException e) {
                    onRefused.run();
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    throw Status.INVALID_ARGUMENT.withDescription("request is not a valid "
                            + typed.getBareMethodName() + " message: " + cause.getMessage()).asException();
                }
            });
        };
        return ServerMethodDefinition.create(raw, handler);
    }

    /** The raw call as the service expects it: only the method descriptor's request type differs. */
    private static final class TypedCall<Q, R> extends ForwardingServerCall<Q, R> {
        private final ServerCall<InputStream, R> raw;
        private final MethodDescriptor<Q, R> typed;

        TypedCall(ServerCall<InputStream, R> raw, MethodDescriptor<Q, R> typed) {
            this.raw = raw;
            this.typed = typed;
        }

        @Override
        @SuppressWarnings("unchecked")
        protected ServerCall<Q, R> delegate() {
            // Every method but getMethodDescriptor is independent of the request type.
            return (ServerCall<Q, R>) (ServerCall<?, R>) raw;
        }

        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
            return typed;
        }
    }
}
