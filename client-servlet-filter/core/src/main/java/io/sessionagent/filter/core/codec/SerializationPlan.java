package io.sessionagent.filter.core.codec;

import com.esotericsoftware.kryo.DefaultSerializer;
import com.esotericsoftware.kryo.KryoSerializable;
import com.esotericsoftware.kryo.Serializer;

import java.io.Externalizable;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How each class is serialized, decided once per class: by Kryo's own serializers where they
 * rebuild the object correctly, by a dedicated serializer ({@link JdkSerializers}) for the JDK
 * classes they rebuild wrongly, or by Java serialization ({@link JavaFallbackSerializer}) for
 * everything whose state only its own serialization methods carry. The decision depends on the
 * class alone, so that the writing and the reading node take the same one.
 *
 * <ul>
 *   <li>JDK classes: those in {@link #KRYO_JDK} (values and collections whose whole state is what
 *       Kryo writes) by Kryo, enums and enum sets by Kryo, the dedicated ones by theirs, every
 *       other serializable JDK class by Java serialization (it knows their private state, Kryo
 *       would have to reach into it), the rest by Kryo.</li>
 *   <li>Other classes: {@code Externalizable}, or serializable with {@code writeObject},
 *       {@code readObject}, {@code readObjectNoData}, {@code readResolve} or {@code writeReplace}
 *       anywhere in the hierarchy, by Java serialization; serializable with a JDK superclass
 *       other than {@code Object}, {@code Record} or {@code Enum} too (Kryo would have to rebuild
 *       that superclass's private state), except a plain subclass of a collection in
 *       {@link #KRYO_JDK} without fields of its own and with a no-argument constructor, which is
 *       only its elements; everything else (beans, records, enums, non-serializable classes) by
 *       Kryo.</li>
 * </ul>
 */
final class SerializationPlan {
    enum Route {
        KRYO, JAVA, DEDICATED
    }

    /** JDK classes whose state Kryo's default serializers write and rebuild completely. */
    static final Set<String> KRYO_JDK = Collections.unmodifiableSet(new HashSet<>(Arrays.asList(
            "java.lang.Object", "java.lang.String", "java.lang.Boolean", "java.lang.Byte", "java.lang.Short",
            "java.lang.Character", "java.lang.Integer", "java.lang.Long", "java.lang.Float", "java.lang.Double",
            "java.lang.Void", "java.lang.Class", "java.lang.StringBuilder", "java.lang.StringBuffer",
            "java.math.BigInteger", "java.math.BigDecimal",
            "java.util.Date", "java.sql.Date", "java.sql.Time", "java.sql.Timestamp", "java.util.Currency",
            "java.util.UUID", "java.util.BitSet", "java.util.Optional", "java.util.OptionalInt",
            "java.util.OptionalLong", "java.util.OptionalDouble", "sun.util.calendar.ZoneInfo",
            "java.util.GregorianCalendar", "java.net.URI", "java.net.URL", "java.util.regex.Pattern",
            "java.util.concurrent.atomic.AtomicBoolean", "java.util.concurrent.atomic.AtomicInteger",
            "java.util.concurrent.atomic.AtomicLong", "java.util.concurrent.atomic.AtomicReference",
            "java.util.ArrayList", "java.util.LinkedList", "java.util.HashMap", "java.util.HashSet",
            "java.util.LinkedHashSet", "java.util.ArrayDeque", "java.util.Vector", "java.util.Stack",
            "java.util.Hashtable", "java.util.IdentityHashMap", "java.util.TreeMap", "java.util.TreeSet",
            "java.util.PriorityQueue", "java.util.concurrent.ConcurrentHashMap",
            "java.util.concurrent.CopyOnWriteArrayList", "java.util.concurrent.CopyOnWriteArraySet",
            "java.util.concurrent.ConcurrentLinkedQueue", "java.util.concurrent.ConcurrentLinkedDeque",
            "java.util.concurrent.ConcurrentSkipListMap", "java.util.concurrent.LinkedTransferQueue",
            "java.util.Collections$EmptyList", "java.util.Collections$EmptySet", "java.util.Collections$EmptyMap",
            "java.util.Collections$SingletonList", "java.util.Collections$SingletonSet",
            "java.util.Collections$SingletonMap",
            "java.util.ImmutableCollections$List12", "java.util.ImmutableCollections$ListN",
            "java.util.ImmutableCollections$SubList", "java.util.ImmutableCollections$Set12",
            "java.util.ImmutableCollections$SetN", "java.util.ImmutableCollections$Map1",
            "java.util.ImmutableCollections$MapN",
            "java.time.Duration", "java.time.Instant", "java.time.LocalDate", "java.time.LocalTime",
            "java.time.LocalDateTime", "java.time.ZoneOffset", "java.time.ZoneRegion", "java.time.OffsetTime",
            "java.time.OffsetDateTime", "java.time.ZonedDateTime", "java.time.Year", "java.time.YearMonth",
            "java.time.MonthDay", "java.time.Period")));

    /** Collections of {@link #KRYO_JDK} that a subclass may extend and still be only its elements. */
    private static final Set<String> PLAIN_COLLECTIONS = Collections.unmodifiableSet(new HashSet<>(Arrays.asList(
            "java.util.ArrayList", "java.util.LinkedList", "java.util.HashMap", "java.util.HashSet",
            "java.util.LinkedHashSet", "java.util.ArrayDeque", "java.util.Vector", "java.util.Hashtable",
            "java.util.IdentityHashMap", "java.util.concurrent.ConcurrentHashMap",
            "java.util.concurrent.CopyOnWriteArrayList", "java.util.concurrent.ConcurrentLinkedQueue",
            "java.util.concurrent.ConcurrentLinkedDeque")));

    private final JdkSerializers dedicated;
    private final JavaFallbackSerializer java;
    private final ConcurrentHashMap<Class<?>, Route> routes = new ConcurrentHashMap<>();

    SerializationPlan(JdkSerializers dedicated, JavaFallbackSerializer java) {
        this.dedicated = dedicated;
        this.java = java;
    }

    JavaFallbackSerializer java() {
        return java;
    }

    /** The serializer this plan chooses for {@code type}, or null to leave the choice to Kryo. */
    Serializer<?> serializerFor(Class<?> type) {
        switch (route(type)) {
            case DEDICATED:
                return dedicated.serializerFor(type);
            case JAVA:
                return java;
            default:
                return null;
        }
    }

    Route route(Class<?> type) {
        Route r = routes.get(type);
        if (r == null) {
            r = decide(type);
            routes.putIfAbsent(type, r);
        }
        return r;
    }

    private Route decide(Class<?> type) {
        if (type.isArray() || type.isPrimitive()) {
            return Route.KRYO;
        }
        if (dedicated.has(type)) {
            return Route.DEDICATED;
        }
        boolean serializable = Serializable.class.isAssignableFrom(type);
        if (ClassAllowList.isJdk(type)) {
            if (Enum.class.isAssignableFrom(type) || EnumSet.class.isAssignableFrom(type)
                    || KRYO_JDK.contains(type.getName())) {
                return Route.KRYO;
            }
            return serializable ? Route.JAVA : Route.KRYO;
        }
        if (KryoSerializable.class.isAssignableFrom(type) || type.isAnnotationPresent(DefaultSerializer.class)
                || Enum.class.isAssignableFrom(type)) {
            return Route.KRYO;
        }
        if (Externalizable.class.isAssignableFrom(type)) {
            return Route.JAVA;
        }
        if (!serializable) {
            return Route.KRYO;
        }
        if (hasSerializationMethods(type)) {
            return Route.JAVA;
        }
        Class<?> jdkBase = type.getSuperclass();
        while (jdkBase != null && !ClassAllowList.isJdk(jdkBase)) {
            jdkBase = jdkBase.getSuperclass();
        }
        String base = jdkBase == null ? "java.lang.Object" : jdkBase.getName();
        if (base.equals("java.lang.Object") || base.equals("java.lang.Record")) {
            return Route.KRYO;
        }
        if (PLAIN_COLLECTIONS.contains(base) && (Collection.class.isAssignableFrom(type)
                || Map.class.isAssignableFrom(type)) && !hasOwnFields(type) && hasNoArgConstructor(type)) {
            return Route.KRYO;
        }
        return Route.JAVA;
    }

    /** Java serialization's hooks, declared by the class or one of its superclasses outside the JDK. */
    static boolean hasSerializationMethods(Class<?> type) {
        for (Class<?> c = type; c != null && !ClassAllowList.isJdk(c); c = c.getSuperclass()) {
            if (declares(c, "writeObject", ObjectOutputStream.class) || declares(c, "readObject", ObjectInputStream.class)
                    || declares(c, "readObjectNoData") || declares(c, "readResolve") || declares(c, "writeReplace")) {
                return true;
            }
        }
        return false;
    }

    private static boolean declares(Class<?> c, String name, Class<?>... parameters) {
        try {
            Method m = c.getDeclaredMethod(name, parameters);
            return !Modifier.isStatic(m.getModifiers());
        } catch (NoSuchMethodException | LinkageError | SecurityException e) {
            return false;
        }
    }

    /** Instance fields Java serialization would write, declared outside the JDK. */
    private static boolean hasOwnFields(Class<?> type) {
        for (Class<?> c = type; c != null && !ClassAllowList.isJdk(c); c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                int m = f.getModifiers();
                if (!Modifier.isStatic(m) && !Modifier.isTransient(m)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean hasNoArgConstructor(Class<?> type) {
        try {
            type.getDeclaredConstructor();
            return !Modifier.isAbstract(type.getModifiers());
        } catch (NoSuchMethodException | LinkageError | SecurityException e) {
            return false;
        }
    }
}
