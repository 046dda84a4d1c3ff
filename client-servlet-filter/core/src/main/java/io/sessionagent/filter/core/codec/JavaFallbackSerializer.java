package io.sessionagent.filter.core.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

/**
 * Java serialization of one object inside a Kryo stream: its length, then the bytes of an
 * {@code ObjectOutputStream}. For classes whose state only their own serialization methods
 * rebuild ({@code writeObject}/{@code readObject}, {@code readResolve}, {@code writeReplace},
 * {@code Externalizable}) and the JDK classes Kryo cannot rebuild. Read back with the allow-list
 * checked for every class in the stream and the web application's class loader.
 */
final class JavaFallbackSerializer extends Serializer<Object> {
    private final ClassCheck check;
    private final ClassLoader loader;
    private final int maxBytes;

    JavaFallbackSerializer(ClassCheck check, ClassLoader loader, int maxBytes) {
        this.check = check;
        this.loader = loader;
        this.maxBytes = maxBytes;
    }

    @Override
    public void write(Kryo kryo, Output output, Object object) {
        byte[] bytes = JavaSerialization.write(object, maxBytes, check);
        output.writeVarInt(bytes.length, true);
        output.writeBytes(bytes);
        if (kryo instanceof SessionKryo) {
            ((SessionKryo) kryo).javaParts++;
        }
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<?> type) {
        int length = input.readVarInt(true);
        if (length < 0 || length > maxBytes) {
            throw new com.esotericsoftware.kryo.KryoException("Java serialization of " + length + " bytes");
        }
        return JavaSerialization.read(input.readBytes(length), check, loader);
    }
}
