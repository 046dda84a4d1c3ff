package io.sessionagent.filter.core.codec;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.metrics.FilterCounters;
import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;

import java.io.Serializable;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Attribute values to bytes and back: Kryo first, correct always. Kryo's serializers where they
 * rebuild an object faithfully, dedicated ones for the JDK classes they rebuild wrongly (the
 * wrappers of {@code Collections}, access-ordered {@code LinkedHashMap}...), Java serialization
 * for classes whose state only their own serialization methods carry ({@link SerializationPlan});
 * a value part of which needs Java serialization is Java-serialized whole when it is
 * {@code Serializable}, so that it comes back exactly as Java serialization would bring it. Every
 * class is checked against the {@link ClassAllowList} on the way out and, before anything is
 * instantiated, on the way in.
 *
 * <p>Values that cannot be serialized are skipped, counted and logged once per attribute name;
 * values refused by the allow-list are counted per class and logged once per class: one odd
 * attribute must never fail a request.
 */
public final class AttributeCodec {
    private static final Logger LOG = Logger.getLogger(AttributeCodec.class.getName());

    private final int maxBytes;
    private final FilterCounters counters;
    private final ClassCheck check;
    private final SerializationPlan plan;
    private final Set<String> loggedNames = ConcurrentHashMap.newKeySet();
    private final Set<String> loggedClasses = ConcurrentHashMap.newKeySet();
    /** Application classes whose values needed Java serialization whole last time: tried that way first. */
    private final Set<Class<?>> wholeJava = ConcurrentHashMap.newKeySet();
    private final Pool<SessionKryo> kryos;
    private final Pool<Output> outputs;

    /** A codec with the default allow-list. */
    public AttributeCodec(ClassLoader classLoader, int maxBytes, FilterCounters counters) {
        this(classLoader, maxBytes, ClassAllowList.DEFAULT, counters);
    }

    /**
     * @param classLoader the web application's class loader: attribute classes live there, not
     *                    in the loader that holds this filter's jar
     */
    public AttributeCodec(ClassLoader classLoader, int maxBytes, ClassAllowList allowed, FilterCounters counters) {
        this(classLoader, maxBytes, allowed, counters, JdkFields.AVAILABLE);
    }

    /** @param fields {@link JdkFields#NONE} to send the JDK wrappers through Java serialization (tests) */
    AttributeCodec(ClassLoader classLoader, int maxBytes, ClassAllowList allowed, FilterCounters counters,
                   JdkFields fields) {
        this.maxBytes = maxBytes;
        this.counters = counters;
        this.check = new ClassCheck(allowed);
        JavaFallbackSerializer java = new JavaFallbackSerializer(check, classLoader, maxBytes);
        this.plan = new SerializationPlan(new JdkSerializers(fields, java), java);
        this.kryos = new Pool<SessionKryo>(true, false, 64) {
            @Override
            protected SessionKryo create() {
                return new SessionKryo(plan, check, classLoader);
            }
        };
        this.outputs = new Pool<Output>(true, false, 64) {
            @Override
            protected Output create() {
                return new Output(Math.min(4096, maxBytes + 1), maxBytes + 1);
            }
        };
    }

    /** The allow-list this codec enforces. */
    public ClassAllowList allowedClasses() {
        return check.list();
    }

    /**
     * @return the serialized value, or null when it was skipped (not serializable, too large, or
     *         holding a class the allow-list refuses)
     */
    public byte[] serialize(String name, Object value) {
        long start = System.nanoTime();
        try {
            return encode(name, value, true);
        } finally {
            counters.add(FilterCounter.SERIALIZE_NANOS, System.nanoTime() - start);
            counters.increment(FilterCounter.SERIALIZATIONS);
        }
    }

    /**
     * The value's bytes as {@link #serialize} would make them, without counting or logging a
     * failure: null when it cannot be serialized. For the change detection's baseline of a value
     * just read from the agent.
     */
    public byte[] reencode(Object value) {
        long start = System.nanoTime();
        try {
            return encode(null, value, false);
        } finally {
            counters.add(FilterCounter.SERIALIZE_NANOS, System.nanoTime() - start);
            counters.increment(FilterCounter.SERIALIZATIONS);
        }
    }

    private byte[] encode(String name, Object value, boolean report) {
        SessionKryo kryo = kryos.obtain();
        Output out = outputs.obtain();
        try {
            Class<?> type = value.getClass();
            if (wholeJava.contains(type)) {
                byte[] bytes = writeWholeJava(kryo, out, value);
                if (bytes != null) {
                    return bytes;
                }
            }
            out.reset();
            kryo.javaParts = 0;
            try {
                kryo.writeClassAndObject(out, value);
            } catch (RuntimeException | StackOverflowError | LinkageError e) {
                if (RefusedClassException.in(e) != null || e instanceof KryoBufferOverflowException
                        || !(value instanceof Serializable)) {
                    throw e;
                }
                // Kryo could not carry it: Java serialization, which the value says it supports.
                kryo.reset();
                byte[] bytes = writeWholeJava(kryo, out, value);
                if (bytes == null) {
                    throw e;
                }
                rememberWholeJava(type);
                return bytes;
            }
            if (kryo.javaParts > 0 && value instanceof Serializable
                    && plan.route(type) != SerializationPlan.Route.JAVA) {
                // Part of it needs Java serialization: all of it goes that way, so that an object
                // reachable both from that part and from the rest comes back as one object.
                kryo.reset();
                byte[] bytes = writeWholeJava(kryo, out, value);
                if (bytes != null) {
                    rememberWholeJava(type);
                    return bytes;
                }
                // Java serialization cannot carry all of it: Kryo with the parts that need Java.
                kryo.reset();
                out.reset();
                kryo.writeClassAndObject(out, value);
            }
            return out.toBytes();
        } catch (KryoBufferOverflowException e) {
            if (report) {
                skip(name, value, "its serialized form exceeds max-attribute-bytes (" + maxBytes + ")", null);
            }
            return null;
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            RefusedClassException refused = RefusedClassException.in(e);
            if (!report) {
                return null;
            }
            if (refused != null) {
                refusedOnWrite(name, value, refused.className());
            } else {
                skip(name, value, "it cannot be serialized: " + (e instanceof KryoException ? e.getMessage() : e), e);
            }
            return null;
        } finally {
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

    private void rememberWholeJava(Class<?> type) {
        // JDK collections hold anything: whether one needs Java serialization says nothing of the next.
        if (!ClassAllowList.isJdk(type)) {
            wholeJava.add(type);
        }
    }

    /** @return the bytes of the value Java-serialized whole, or null if Java serialization refused it */
    private byte[] writeWholeJava(SessionKryo kryo, Output out, Object value) {
        out.reset();
        try {
            kryo.writeClassAndObject(out, new JavaSerialized(value));
            return out.toBytes();
        } catch (KryoBufferOverflowException | RefusedClassException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            return null;
        } finally {
            kryo.reset();
        }
    }

    private void skip(String name, Object value, String why, Throwable t) {
        counters.increment(FilterCounter.SKIPPED_ATTRIBUTES);
        if (loggedNames.add(name)) {
            LOG.log(Level.WARNING, "session attribute '" + name + "' of type "
                    + (value == null ? "null" : value.getClass().getName()) + " is not replicated: " + why
                    + " (logged once per attribute name)", t);
        }
    }

    private void refusedOnWrite(String name, Object value, String className) {
        counters.increment(FilterCounter.SKIPPED_ATTRIBUTES);
        counters.increment(FilterCounter.REFUSED_ATTRIBUTES);
        counters.refusedByClass.increment(className);
        if (loggedClasses.add(className)) {
            LOG.warning("session attribute '" + name + "' of type " + value.getClass().getName()
                    + " is not replicated: it holds a " + className + ", a class the init-param "
                    + ClassAllowList.INIT_PARAM + " does not allow (allowed: " + check.list().describe()
                    + "); add a pattern such as " + suggestion(className) + " if the class is safe to"
                    + " deserialize (logged once per class)");
        }
    }

    /**
     * Counts and logs (once per class) a value from the agent left out because it holds a class
     * the allow-list refuses.
     */
    public void refusedOnRead(String name, String className) {
        counters.increment(FilterCounter.REFUSED_ATTRIBUTES);
        counters.refusedByClass.increment(className);
        if (loggedClasses.add(className)) {
            LOG.warning("session attribute '" + name + "' from the agent is left out: it holds a " + className
                    + ", a class the init-param " + ClassAllowList.INIT_PARAM + " does not allow (allowed: "
                    + check.list().describe() + "); refused before anything of it was instantiated"
                    + " (logged once per class)");
        }
    }

    /** A pattern to suggest: the class's package for application and library classes, the class alone for the JDK's. */
    private static String suggestion(String className) {
        int dot = className.lastIndexOf('.');
        boolean jdk = className.startsWith("java.") || className.startsWith("javax.") || className.startsWith("jdk.")
                || className.startsWith("sun.") || className.startsWith("com.sun.");
        return dot > 0 && !jdk ? className.substring(0, dot) + ".**" : className;
    }

    /**
     * @throws KryoException when the bytes cannot be turned back into a value here; a
     *         {@link RefusedClassException} when they hold a class the allow-list refuses, thrown
     *         before anything of it was instantiated
     */
    public Object deserialize(byte[] bytes) {
        SessionKryo kryo = kryos.obtain();
        try {
            Object value = kryo.readClassAndObject(new Input(bytes));
            return value instanceof JavaSerialized ? ((JavaSerialized) value).value : value;
        } finally {
            kryo.reset();
            kryos.free(kryo);
        }
    }

    /** The class this node lacks, if that is what {@code t} (a failure to deserialize) comes down to. */
    public static String missingClass(Throwable t) {
        for (int depth = 0; t != null && depth < 20; depth++, t = t.getCause()) {
            if ((t instanceof ClassNotFoundException || t instanceof NoClassDefFoundError) && t.getMessage() != null) {
                return t.getMessage().replace('/', '.');
            }
        }
        return null;
    }

    /**
     * The class of the value the bytes hold, as written, without loading it (for the per-class
     * count of values that cannot be read); "unknown" when the bytes do not say.
     */
    public String className(byte[] bytes) {
        SessionKryo kryo = kryos.obtain();
        try {
            Input in = new Input(bytes);
            int id = in.readVarInt(true);
            if (id == Kryo.NULL) {
                return "null";
            }
            if (id != 1) {
                // NAME + 2 is 1; anything else is a registered class's id + 2.
                Registration r = kryo.getRegistration(id - 2);
                return r == null ? "unknown" : r.getType().getName();
            }
            in.readVarInt(true);
            String name = in.readString();
            if (JavaSerialized.class.getName().equals(name)) {
                int length = in.readVarInt(true);
                String inner = length > 0 ? JavaSerialization.firstClassName(bytes, in.position()) : null;
                return inner == null ? "unknown" : inner;
            }
            return name == null || name.isEmpty() ? "unknown" : name;
        } catch (RuntimeException e) {
            return "unknown";
        } finally {
            kryo.reset();
            kryos.free(kryo);
        }
    }
}
