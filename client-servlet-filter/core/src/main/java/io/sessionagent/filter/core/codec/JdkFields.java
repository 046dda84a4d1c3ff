package io.sessionagent.filter.core.codec;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reads private fields of JDK classes that no public method exposes: the collection behind a
 * {@code Collections.synchronizedSet}, the element type of a checked list, whether a
 * {@code LinkedHashMap} is access-ordered. With plain reflection where the JDK allows it (Java 8,
 * or {@code --add-opens java.base/java.util=ALL-UNNAMED}, which Tomcat's start scripts pass), else
 * through {@code sun.misc.Unsafe} as Kryo, Netty and Objenesis do. Read only, never written.
 * Where neither works, {@link #field} answers null and the serializers that need it fall back to
 * Java serialization of the whole object.
 */
final class JdkFields {
    private static final Logger LOG = Logger.getLogger(JdkFields.class.getName());

    /** Reads one field. */
    interface Reader {
        Object get(Object target);
    }

    /** The fields this JVM lets the filter read. */
    static final JdkFields AVAILABLE = new JdkFields(true);
    /** No field at all: every serializer that would need one uses Java serialization (tests). */
    static final JdkFields NONE = new JdkFields(false);

    private static final Unsafe UNSAFE = Unsafe.find();

    private final boolean enabled;

    private JdkFields(boolean enabled) {
        this.enabled = enabled;
    }

    /** Whether any field can be read at all. */
    boolean enabled() {
        return enabled;
    }

    /**
     * @return a reader of the instance field {@code name} declared by the class named
     *         {@code className}, or null when this JVM allows none (or the field does not exist there)
     */
    Reader field(String className, String name) {
        if (!enabled) {
            return null;
        }
        Field f;
        try {
            f = Class.forName(className, false, null).getDeclaredField(name);
        } catch (ClassNotFoundException | NoSuchFieldException | LinkageError | SecurityException e) {
            return null;
        }
        if (Modifier.isStatic(f.getModifiers())) {
            return null;
        }
        try {
            f.setAccessible(true);
            final Field field = f;
            return target -> {
                try {
                    return field.get(target);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            };
        } catch (RuntimeException e) {
            // InaccessibleObjectException (Java 9+): java.util not opened to us.
        }
        return UNSAFE == null ? null : UNSAFE.reader(f);
    }

    /** sun.misc.Unsafe through method handles, so that nothing links to it at compile time. */
    private static final class Unsafe {
        private final MethodHandle objectFieldOffset;
        private final MethodHandle getObject;
        private final MethodHandle getBoolean;

        private Unsafe(MethodHandle objectFieldOffset, MethodHandle getObject, MethodHandle getBoolean) {
            this.objectFieldOffset = objectFieldOffset;
            this.getObject = getObject;
            this.getBoolean = getBoolean;
        }

        static Unsafe find() {
            try {
                Class<?> type = Class.forName("sun.misc.Unsafe");
                Field theUnsafe = type.getDeclaredField("theUnsafe");
                theUnsafe.setAccessible(true);
                Object unsafe = theUnsafe.get(null);
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                Unsafe u = new Unsafe(
                        lookup.findVirtual(type, "objectFieldOffset", MethodType.methodType(long.class, Field.class))
                                .bindTo(unsafe),
                        lookup.findVirtual(type, "getObject",
                                MethodType.methodType(Object.class, Object.class, long.class)).bindTo(unsafe),
                        lookup.findVirtual(type, "getBoolean",
                                MethodType.methodType(boolean.class, Object.class, long.class)).bindTo(unsafe));
                // Proves it on a known field before anything relies on it.
                Object inner = new java.util.ArrayList<Object>();
                Object wrapper = java.util.Collections.unmodifiableCollection((java.util.Collection<?>) inner);
                Reader probe = u.reader(Class.forName("java.util.Collections$UnmodifiableCollection")
                        .getDeclaredField("c"));
                if (probe == null || probe.get(wrapper) != inner) {
                    return null;
                }
                return u;
            } catch (Throwable t) {
                LOG.log(Level.FINE, "sun.misc.Unsafe is not usable: JDK collection wrappers go through Java"
                        + " serialization", t);
                return null;
            }
        }

        Reader reader(Field f) {
            final long offset;
            try {
                offset = (long) objectFieldOffset.invoke(f);
            } catch (Throwable t) {
                return null;
            }
            if (f.getType() == boolean.class) {
                final MethodHandle get = getBoolean;
                return target -> {
                    try {
                        return (boolean) get.invokeExact(target, offset);
                    } catch (Throwable t) {
                        throw new IllegalStateException(t);
                    }
                };
            }
            if (f.getType().isPrimitive()) {
                return null;
            }
            final MethodHandle get = getObject;
            return target -> {
                try {
                    return (Object) get.invokeExact(target, offset);
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            };
        }
    }
}
