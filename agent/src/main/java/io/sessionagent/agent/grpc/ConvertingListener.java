package io.sessionagent.agent.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.StatusException;

/**
 * Hands a call's messages to the service after turning each into the type the service expects. A
 * message that cannot be turned ends the call with the status the conversion gives, and the
 * service then hears nothing more of the call but its end.
 */
public final class ConvertingListener<M, Q> extends ServerCall.Listener<M> {
    /** Turns one message off the wire into the service's; throws to refuse the call. */
    @FunctionalInterface
    public interface Conversion<M, Q> {
        Q convert(M message) throws StatusException;
    }

    private final ServerCall<M, ?> call;
    private final ServerCall.Listener<Q> inner;
    private final Conversion<M, Q> conversion;
    private boolean refused;

    public ConvertingListener(ServerCall<M, ?> call, ServerCall.Listener<Q> inner, Conversion<M, Q> conversion) {
        this.call = call;
        this.inner = inner;
        this.conversion = conversion;
    }

    @Override
    public void onMessage(M message) {
        if (refused) {
            return;
        }
        Q converted;
        try {
            converted = conversion.convert(message);
        } catch (StatusException e) {
            refused = true;
            call.close(e.getStatus(), new Metadata());
            return;
        }
        inner.onMessage(converted);
    }

    @Override
    public void onHalfClose() {
        if (!refused) {
            inner.onHalfClose();
        }
    }

    @Override
    public void onCancel() {
        inner.onCancel();
    }

    @Override
    public void onComplete() {
        inner.onComplete();
    }

    @Override
    public void onReady() {
        if (!refused) {
            inner.onReady();
        }
    }
}
