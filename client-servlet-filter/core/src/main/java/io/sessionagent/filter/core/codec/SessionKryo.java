package io.sessionagent.filter.core.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.DefaultSerializers;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import com.esotericsoftware.kryo.util.MapReferenceResolver;
import org.objenesis.strategy.StdInstantiatorStrategy;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.channels.Channel;
import java.sql.Timestamp;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * The codec's Kryo: classes resolved in the web application's class loader and checked against
 * the allow-list before Kryo creates a serializer for them (and so before anything of theirs is
 * instantiated), serializers chosen by the {@link SerializationPlan}. One per pooled instance;
 * the plan and the class check are shared.
 */
final class SessionKryo extends Kryo {
    /** Classes that hold process-local resources: a copy on another node would be a broken object. */
    private static final Class<?>[] PROCESS_LOCAL = {Thread.class, ThreadGroup.class, ClassLoader.class, Socket.class,
            ServerSocket.class, DatagramSocket.class, InputStream.class, OutputStream.class, Reader.class,
            Writer.class, Channel.class};

    private final SerializationPlan plan;
    /** Objects of the current graph written through Java serialization; reset by the codec. */
    int javaParts;

    SessionKryo(SerializationPlan plan, ClassCheck check, ClassLoader loader) {
        super(new CheckingResolver(check), new MapReferenceResolver());
        this.plan = plan;
        // Session attributes are arbitrary application classes, unknown in advance.
        setRegistrationRequired(false);
        setClassLoader(loader);
        // Application classes often lack a no-arg constructor.
        setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
        Serializer<Object> refuse = new Refuse();
        for (Class<?> c : PROCESS_LOCAL) {
            addDefaultSerializer(c, refuse);
        }
        // Kryo has these, but not as defaults; without them it would reach into the JDK's private fields.
        addDefaultSerializer(UUID.class, new DefaultSerializers.UUIDSerializer());
        addDefaultSerializer(URI.class, new DefaultSerializers.URISerializer());
        addDefaultSerializer(Pattern.class, new DefaultSerializers.PatternSerializer());
        addDefaultSerializer(Timestamp.class, new DefaultSerializers.TimestampSerializer());
        addDefaultSerializer(AtomicBoolean.class, new DefaultSerializers.AtomicBooleanSerializer());
        addDefaultSerializer(AtomicInteger.class, new DefaultSerializers.AtomicIntegerSerializer());
        addDefaultSerializer(AtomicLong.class, new DefaultSerializers.AtomicLongSerializer());
        addDefaultSerializer(AtomicReference.class, new DefaultSerializers.AtomicReferenceSerializer());
        addDefaultSerializer(JavaSerialized.class, new WholeJava(plan.java()));
    }

    static boolean isProcessLocal(Class<?> type) {
        for (Class<?> c : PROCESS_LOCAL) {
            if (c.isAssignableFrom(type)) {
                return true;
            }
        }
        return false;
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Serializer getDefaultSerializer(Class type) {
        if (!isProcessLocal(type) && type != JavaSerialized.class) {
            Serializer<?> s = plan.serializerFor(type);
            if (s != null) {
                return s;
            }
        }
        return super.getDefaultSerializer(type);
    }

    /** Checks every class before it is registered: the first time it is written or read by this Kryo. */
    private static final class CheckingResolver extends DefaultClassResolver {
        private final ClassCheck check;

        CheckingResolver(ClassCheck check) {
            this.check = check;
        }

        @Override
        public Registration registerImplicit(Class type) {
            if (!isProcessLocal(type)) {
                check.check(type);
            }
            return super.registerImplicit(type);
        }
    }

    /** A value written whole through Java serialization. */
    private static final class WholeJava extends Serializer<JavaSerialized> {
        private final JavaFallbackSerializer java;

        WholeJava(JavaFallbackSerializer java) {
            this.java = java;
        }

        @Override
        public void write(Kryo kryo, Output output, JavaSerialized object) {
            java.write(kryo, output, object.value);
        }

        @Override
        public JavaSerialized read(Kryo kryo, Input input, Class<? extends JavaSerialized> type) {
            return new JavaSerialized(java.read(kryo, input, Object.class));
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
