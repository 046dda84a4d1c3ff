package io.sessionagent.agent.grpc;

import io.grpc.MethodDescriptor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** A gRPC message as the bytes it is on the wire, for code that seals, checks or forges messages itself. */
public final class RawBytes {
    public static final MethodDescriptor.Marshaller<byte[]> MARSHALLER = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private RawBytes() {
    }

    /** The method with its requests and responses as raw bytes. */
    public static <Q, R> MethodDescriptor<byte[], byte[]> of(MethodDescriptor<Q, R> method) {
        return method.toBuilder(MARSHALLER, MARSHALLER).build();
    }
}
