package io.sessionagent.filter.core;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import com.esotericsoftware.kryo.util.Pool;
import org.objenesis.strategy.StdInstantiatorStrategy;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.Channel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Attribute values to bytes and back with Kryo. Values that cannot be serialized are skipped,
 * counted and logged once per attribute name: one odd attribute must never fail a request.
 */
public final class AttributeCodec {
    private static final Logger LOG = Logger.getLogger(AttributeCodec.class.getName());

    private final ClassLoader classLoader;
    private final int maxBytes;
    private final FilterCounters counters;
    private final Set<String> loggedNames = ConcurrentHashMap.newKeySet();
    private final Pool<Kryo> kryos;
    private final Pool<Output> outputs;

    /**
     * @param classLoader the web application's class loader: attribute classes live there, not
     *                    in the loader that holds this filter's jar
     */
    public AttributeCodec(ClassLoader classLoader, int maxBytes, FilterCounters counters) {
        this.classLoader = classLoader;
        this.maxBytes = maxBytes;
        this.counters = counters;
        this.kryos = new Pool<Kryo>(true, false, 64) {
            @Override
            protected Kryo create() {
                return newKryo();
            }
        };
        this.outputs = new Pool<Output>(true, false, 64) {
            @Override
            protected Output create() {
                return new Output(Math.min(4096, maxBytes + 1), maxBytes + 1);
            }
        };
    }

    private Kryo newKryo() {
        Kryo k = new Kryo();
        // Session attributes are arbitrary application classes, unknown in advance.
        k.setRegistrationRequired(false);
        k.setReferences(true);
        k.setClassLoader(classLoader);
        // Application classes often lack a no-arg constructor.
        k.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
        // These hold process-local resources: a copy on another node would be a broken object,
        // and walking their fields can reach half the JVM. Refuse them outright.
        Serializer<Object> refuse = new Refuse();
        for (Class<?> c : new Class<?>[] {Thread.class, ThreadGroup.class, ClassLoader.class, Socket.class,
                ServerSocket.class, DatagramSocket.class, InputStream.class, OutputStream.class, Reader.class,
                Writer.class, Channel.class}) {
            k.addDefaultSerializer(c, refuse);
        }
        return k;
    }

    /**
     * @return the serialized value, or null when it was skipped (not serializable or too large)
     */
    public byte[] serialize(String name, Object value) {
        Kryo kryo = kryos.obtain();
        Output out = outputs.obtain();
        long start = System.nanoTime();
        try {
            out.reset();
            kryo.writeClassAndObject(out, value);
            return out.toBytes();
        } catch (KryoException e) {
            boolean tooLarge = e instanceof KryoBufferOverflowException;
            skip(name, value, tooLarge ? "its serialized form exceeds max-attribute-bytes (" + maxBytes + ")"
                    : "it cannot be serialized: " + e.getMessage(), tooLarge ? null : e);
            return null;
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            skip(name, value, "it cannot be serialized: " + e, e);
            return null;
        } finally {
            counters.serializeNanos.add(System.nanoTime() - start);
            counters.serializations.increment();
            // A failed write can leave references or class mappings behind.
            kryo.reset();
            if (out.getBuffer().length > 64 * 1024) {
                // Do not keep a large buffer around for each pooled Output.
                out.setBuffer(new byte[Math.min(4096, maxBytes + 1)], maxBytes + 1);
            }
            outputs.free(out);
            kryos.free(kryo);
        }
    }

    private void skip(String name, Object value, String why, Throwable t) {
        counters.skippedAttributes.increment();
        if (loggedNames.add(name)) {
            LOG.log(Level.WARNING, "session attribute '" + name + "' of type "
                    + (value == null ? "null" : value.getClass().getName()) + " is not replicated: " + why
                    + " (logged once per attribute name)", t);
        }
    }

    /** @throws KryoException when the bytes cannot be turned back into a value here */
    public Object deserialize(byte[] bytes) {
        Kryo kryo = kryos.obtain();
        try {
            return kryo.readClassAndObject(new Input(bytes));
        } finally {
            kryo.reset();
            kryos.free(kryo);
        }
    }

    private static final class Refuse extends Serializer<Object> {
        @Override
        public void write(Kryo kryo, Output output, Object object) {
            throw new KryoException(object.getClass().getName() + " holds process-local resources");
        }

        @Override
        public Object read(Kryo kryo, Input input, Class<?> type) {
            throw new KryoException(type.getName() + " holds process-local resources");
        }
    }
}
