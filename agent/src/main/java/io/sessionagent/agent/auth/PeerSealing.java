package io.sessionagent.agent.auth;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.sessionagent.agent.grpc.ConvertingListener;
import io.sessionagent.agent.grpc.RawBytes;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * AES-GCM on the peer channel, at the level of gRPC messages: every request and response of the
 * PeerService is sealed whole with a key derived from the cluster key, so session records never
 * cross the network in clear and an agent without the key gets {@code UNAUTHENTICATED} for every
 * call. Sealing messages rather than running TLS keeps the single shared secret the only thing an
 * operator manages.
 *
 * <p>A sealed message: key id (u32), a random 12-byte nonce, the ciphertext with its 16-byte tag.
 * The method's full name and the direction are authenticated too, so a sealed request can never
 * pass for a response or for another method's message. A response also authenticates the nonce of
 * the request it answers and its own index in the call's stream of responses: recorded on the
 * wire, it cannot be replayed as the answer to another call, nor moved within its own stream.
 */
public final class PeerSealing {
    private static final int HEADER_BYTES = 4 + 12;
    private static final int TAG_BYTES = 16;
    private static final byte[] LABEL = "session-agent peer v1".getBytes(StandardCharsets.US_ASCII);

    private final ClusterKeys keys;
    private final Runnable onFailure;
    private final SecureRandom random = new SecureRandom();
    private final Map<ClusterKey, SecretKeySpec> derived = new ConcurrentHashMap<>();

    /** @param onFailure counts a message that could not be opened */
    public PeerSealing(ClusterKeys keys, Runnable onFailure) {
        this.keys = keys;
        this.onFailure = onFailure;
    }

    /**
     * The service with every method's messages sealed. A request that does not open is answered
     * {@code UNAUTHENTICATED} by the server itself, before the service sees anything; a marshaller
     * that threw instead would reach the caller as {@code UNKNOWN}.
     */
    public ServerServiceDefinition seal(ServerServiceDefinition service) {
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            add(b, m);
        }
        return b.build();
    }

    private <Q, R> void add(ServerServiceDefinition.Builder b, ServerMethodDefinition<Q, R> m) {
        MethodDescriptor<Q, R> plain = m.getMethodDescriptor();
        MethodDescriptor<byte[], byte[]> wire = plain.toBuilder(RawBytes.MARSHALLER, RawBytes.MARSHALLER).build();
        byte[] requestAad = aad(plain.getFullMethodName(), (byte) 0);
        ServerCallHandler<byte[], byte[]> handler = (call, headers) -> {
            OpenedCall<Q, R> opened = new OpenedCall<>(call, plain);
            ServerCall.Listener<Q> inner = m.getServerCallHandler().startCall(opened, headers);
            MethodDescriptor.Marshaller<Q> requests = plain.getRequestMarshaller();
            return new ConvertingListener<>(call, inner, message -> {
                try {
                    byte[] request = open(message, requestAad);
                    opened.answering(nonceOf(message));
                    return requests.parse(new ByteArrayInputStream(request));
                } catch (AuthFailure e) {
                    onFailure.run();
                    throw refusal(e).asException();
                }
            });
        };
        b.addMethod(wire, handler);
    }

    private static byte[] nonceOf(byte[] sealed) {
        return Arrays.copyOfRange(sealed, 4, HEADER_BYTES);
    }

    private static Status refusal(AuthFailure e) {
        return Status.UNAUTHENTICATED.withDescription("peer message refused: " + e.getMessage()
                + "; the agents of a cluster must share its key file");
    }

    private static byte[] aad(String method, byte direction) {
        byte[] m = method.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(LABEL.length + m.length + 1).put(LABEL).put(m).put(direction).array();
    }

    /** The response number {@code index} (from 0) of the call whose request carried {@code requestNonce}. */
    private static byte[] responseAad(String method, byte[] requestNonce, int index) {
        byte[] m = method.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(LABEL.length + m.length + 1 + requestNonce.length + 4).put(LABEL).put(m)
                .put((byte) 1).put(requestNonce).putInt(index).array();
    }

    /** The service's view of a call: plain messages, sealed on their way out. */
    private final class OpenedCall<Q, R> extends ServerCall<Q, R> {
        private final ServerCall<byte[], byte[]> wire;
        private final MethodDescriptor<Q, R> plain;
        private volatile byte[] requestNonce;
        private int sent;

        OpenedCall(ServerCall<byte[], byte[]> wire, MethodDescriptor<Q, R> plain) {
            this.wire = wire;
            this.plain = plain;
        }

        /** The request opened: every response of the call is bound to it. */
        void answering(byte[] nonce) {
            requestNonce = nonce;
        }

        @Override
        public void request(int n) {
            wire.request(n);
        }

        @Override
        public void sendHeaders(Metadata headers) {
            wire.sendHeaders(headers);
        }

        @Override
        public void sendMessage(R message) {
            byte[] nonce = requestNonce;
            if (nonce == null) {
                throw new IllegalStateException("a response before the request of " + plain.getFullMethodName());
            }
            try (InputStream in = plain.getResponseMarshaller().stream(message)) {
                wire.sendMessage(seal(in.readAllBytes(), responseAad(plain.getFullMethodName(), nonce, sent++)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close(Status status, Metadata trailers) {
            wire.close(status, trailers);
        }

        @Override
        public boolean isCancelled() {
            return wire.isCancelled();
        }

        @Override
        public boolean isReady() {
            return wire.isReady();
        }

        @Override
        public void setMessageCompression(boolean enabled) {
            wire.setMessageCompression(enabled);
        }

        @Override
        public void setCompression(String compressor) {
            wire.setCompression(compressor);
        }

        @Override
        public Attributes getAttributes() {
            return wire.getAttributes();
        }

        @Override
        public String getAuthority() {
            return wire.getAuthority();
        }

        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
            return plain;
        }
    }

    /**
     * The method with its request and responses sealed, for one call: the responses must answer
     * the request this descriptor sealed, in order. Take a new one for every call.
     */
    public <Q, R> MethodDescriptor<Q, R> sealForCall(MethodDescriptor<Q, R> method) {
        String name = method.getFullMethodName();
        CallBinding binding = new CallBinding();
        return method.toBuilder(new SealedRequest<>(method.getRequestMarshaller(), name, binding),
                new SealedResponse<>(method.getResponseMarshaller(), name, binding)).build();
    }

    /** What binds one call's responses to its request. */
    private static final class CallBinding {
        volatile byte[] requestNonce;
        int received;
    }

    private final class SealedRequest<T> implements MethodDescriptor.Marshaller<T> {
        private final MethodDescriptor.Marshaller<T> plain;
        private final byte[] aad;
        private final CallBinding binding;

        SealedRequest(MethodDescriptor.Marshaller<T> plain, String method, CallBinding binding) {
            this.plain = plain;
            this.aad = aad(method, (byte) 0);
            this.binding = binding;
        }

        @Override
        public InputStream stream(T value) {
            try (InputStream in = plain.stream(value)) {
                byte[] sealed = seal(in.readAllBytes(), aad);
                binding.requestNonce = nonceOf(sealed);
                return new ByteArrayInputStream(sealed);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public T parse(InputStream stream) {
            throw new UnsupportedOperationException("a client never reads its own request");
        }
    }

    private final class SealedResponse<T> implements MethodDescriptor.Marshaller<T> {
        private final MethodDescriptor.Marshaller<T> plain;
        private final String method;
        private final CallBinding binding;

        SealedResponse(MethodDescriptor.Marshaller<T> plain, String method, CallBinding binding) {
            this.plain = plain;
            this.method = method;
            this.binding = binding;
        }

        @Override
        public InputStream stream(T value) {
            throw new UnsupportedOperationException("a client never sends a response");
        }

        @Override
        public T parse(InputStream stream) {
            byte[] sealed;
            try {
                sealed = stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            byte[] nonce = binding.requestNonce;
            byte[] opened;
            try {
                if (nonce == null) {
                    throw new AuthFailure(false, "a response before the request was sent");
                }
                opened = open(sealed, responseAad(method, nonce, binding.received++));
            } catch (AuthFailure e) {
                onFailure.run();
                throw refusal(e).asRuntimeException();
            }
            return plain.parse(new ByteArrayInputStream(opened));
        }
    }

    byte[] seal(byte[] message, byte[] aad) {
        ClusterKey key = keys.current().sending();
        byte[] nonce = new byte[12];
        random.nextBytes(nonce);
        byte[] out = new byte[HEADER_BYTES + message.length + TAG_BYTES];
        ByteBuffer.wrap(out).putInt(key.id()).put(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, keyFor(key), new GCMParameterSpec(TAG_BYTES * 8, nonce));
            c.updateAAD(aad);
            c.doFinal(message, 0, message.length, out, HEADER_BYTES);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed: " + e.getMessage(), e);
        }
    }

    byte[] open(byte[] sealed, byte[] aad) throws AuthFailure {
        if (sealed.length < HEADER_BYTES + TAG_BYTES) {
            throw new AuthFailure(false, "not sealed (" + sealed.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(sealed);
        int keyId = b.getInt();
        ClusterKey key = keys.current().byId(keyId);
        if (key == null) {
            throw new AuthFailure(false, "sealed with key id " + Integer.toUnsignedString(keyId)
                    + ", which this agent does not hold");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, keyFor(key), new GCMParameterSpec(TAG_BYTES * 8, sealed, 4, 12));
            c.updateAAD(aad);
            return c.doFinal(sealed, HEADER_BYTES, sealed.length - HEADER_BYTES);
        } catch (AEADBadTagException e) {
            throw new AuthFailure(false, "authentication failed (key " + keyId + ")");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed: " + e.getMessage(), e);
        }
    }

    private SecretKeySpec keyFor(ClusterKey key) {
        // Keyed by the key object: a reload that gives an id new material derives afresh.
        if (derived.size() > 64) {
            derived.clear();
        }
        return derived.computeIfAbsent(key, PeerSealing::derive);
    }

    private static SecretKeySpec derive(ClusterKey key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.material(), "HmacSHA256"));
            mac.update(LABEL);
            return new SecretKeySpec(mac.doFinal(ByteBuffer.allocate(4).putInt(key.id()).array()), "AES");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 failed: " + e.getMessage(), e);
        }
    }
}
