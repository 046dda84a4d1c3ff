package io.sessionagent.filter.core.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Queue;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * Kryo serializers for the JDK classes that Kryo's own serializers rebuild wrongly: Kryo
 * instantiates a collection without running its constructor and adds the elements, which leaves
 * the mutex of a {@code Collections.synchronizedSet} null (the first {@code add} fails), makes an
 * unmodifiable or checked wrapper throw on the very adds that rebuild it, forgets the access order
 * of a {@code LinkedHashMap} and the key type of an empty {@code EnumMap}, and backs an
 * {@code Arrays.asList} with an {@code Object[]} where the original had a typed array.
 *
 * <p>Each writes a kind byte first: {@link #KRYO} and the wrapped collection (elements through
 * Kryo), rebuilt on read with the JDK's public factory ({@code Collections.synchronizedSet(inner)}
 * and so on); or {@link #JAVA} and the object through Java serialization, when the private field
 * holding the wrapped collection cannot be read on this JVM ({@link JdkFields}), or when the
 * wrapper shares its lock with another object (a view of a synchronized map), which only Java
 * serialization reproduces. The bytes therefore read the same on every node, whichever way the
 * writing node took.
 */
final class JdkSerializers {
    static final int KRYO = 0;
    static final int JAVA = 1;

    private final Map<Class<?>, Serializer<?>> byClass = new HashMap<>();
    private final JdkFields fields;
    private final JavaFallbackSerializer java;

    /** A factory of the JDK that wraps what was read back. */
    private interface Wrap {
        Object wrap(Object inner, Class<?>[] types);
    }

    JdkSerializers(JdkFields fields, JavaFallbackSerializer java) {
        this.fields = fields;
        this.java = java;
        String c = "java.util.Collections$";
        synchronizedWrapper(c + "SynchronizedCollection", "c", (x, t) -> Collections.synchronizedCollection((Collection<?>) x));
        synchronizedWrapper(c + "SynchronizedSet", "c", (x, t) -> Collections.synchronizedSet((Set<?>) x));
        synchronizedWrapper(c + "SynchronizedSortedSet", "c", (x, t) -> Collections.synchronizedSortedSet((SortedSet<?>) x));
        synchronizedWrapper(c + "SynchronizedNavigableSet", "c",
                (x, t) -> Collections.synchronizedNavigableSet((NavigableSet<?>) x));
        synchronizedWrapper(c + "SynchronizedList", "c", (x, t) -> Collections.synchronizedList((List<?>) x));
        synchronizedWrapper(c + "SynchronizedRandomAccessList", "c", (x, t) -> Collections.synchronizedList((List<?>) x));
        synchronizedWrapper(c + "SynchronizedMap", "m", (x, t) -> Collections.synchronizedMap((Map<?, ?>) x));
        synchronizedWrapper(c + "SynchronizedSortedMap", "m", (x, t) -> Collections.synchronizedSortedMap((SortedMap<?, ?>) x));
        synchronizedWrapper(c + "SynchronizedNavigableMap", "m",
                (x, t) -> Collections.synchronizedNavigableMap((NavigableMap<?, ?>) x));

        wrapper(c + "UnmodifiableCollection", "c", (x, t) -> Collections.unmodifiableCollection((Collection<?>) x));
        wrapper(c + "UnmodifiableSet", "c", (x, t) -> Collections.unmodifiableSet((Set<?>) x));
        wrapper(c + "UnmodifiableSortedSet", "c", (x, t) -> Collections.unmodifiableSortedSet((SortedSet<?>) x));
        wrapper(c + "UnmodifiableNavigableSet", "c", (x, t) -> Collections.unmodifiableNavigableSet((NavigableSet<?>) x));
        wrapper(c + "UnmodifiableList", "c", (x, t) -> Collections.unmodifiableList((List<?>) x));
        wrapper(c + "UnmodifiableRandomAccessList", "c", (x, t) -> Collections.unmodifiableList((List<?>) x));
        wrapper(c + "UnmodifiableMap", "m", (x, t) -> Collections.unmodifiableMap((Map<?, ?>) x));
        wrapper(c + "UnmodifiableSortedMap", "m", (x, t) -> Collections.unmodifiableSortedMap((SortedMap<?, ?>) x));
        wrapper(c + "UnmodifiableNavigableMap", "m",
                (x, t) -> Collections.unmodifiableNavigableMap((NavigableMap<?, ?>) x));

        wrapper(c + "CheckedCollection", "c", (x, t) -> Collections.checkedCollection((Collection) x, t[0]),
                c + "CheckedCollection", "type");
        wrapper(c + "CheckedSet", "c", (x, t) -> Collections.checkedSet((Set) x, t[0]), c + "CheckedCollection", "type");
        wrapper(c + "CheckedSortedSet", "c", (x, t) -> Collections.checkedSortedSet((SortedSet) x, t[0]),
                c + "CheckedCollection", "type");
        wrapper(c + "CheckedNavigableSet", "c", (x, t) -> Collections.checkedNavigableSet((NavigableSet) x, t[0]),
                c + "CheckedCollection", "type");
        wrapper(c + "CheckedList", "c", (x, t) -> Collections.checkedList((List) x, t[0]), c + "CheckedCollection", "type");
        wrapper(c + "CheckedRandomAccessList", "c", (x, t) -> Collections.checkedList((List) x, t[0]),
                c + "CheckedCollection", "type");
        wrapper(c + "CheckedQueue", "c", (x, t) -> Collections.checkedQueue((Queue) x, t[0]), c + "CheckedCollection",
                "type");
        wrapper(c + "CheckedMap", "m", (x, t) -> Collections.checkedMap((Map) x, t[0], t[1]), c + "CheckedMap",
                "keyType", "valueType");
        wrapper(c + "CheckedSortedMap", "m", (x, t) -> Collections.checkedSortedMap((SortedMap) x, t[0], t[1]),
                c + "CheckedMap", "keyType", "valueType");
        wrapper(c + "CheckedNavigableMap", "m", (x, t) -> Collections.checkedNavigableMap((NavigableMap) x, t[0], t[1]),
                c + "CheckedMap", "keyType", "valueType");

        singleton(c + "ReverseComparator", Collections.reverseOrder());
        singleton("java.lang.String$CaseInsensitiveComparator", String.CASE_INSENSITIVE_ORDER);
        singleton(Collections.emptyNavigableSet().getClass().getName(), Collections.emptyNavigableSet());
        singleton(Collections.emptyNavigableMap().getClass().getName(), Collections.emptyNavigableMap());
        singleton(Collections.emptySortedSet().getClass().getName(), Collections.emptySortedSet());
        singleton(Collections.emptySortedMap().getClass().getName(), Collections.emptySortedMap());
        wrapper(c + "ReverseComparator2", "cmp", (x, t) -> Collections.reverseOrder((java.util.Comparator<?>) x));

        byClass.put(Locale.class, new LocaleSerializer());
        byClass.put(LinkedHashMap.class, new LinkedHashMapSerializer(fields.field("java.util.LinkedHashMap",
                "accessOrder")));
        byClass.put(EnumMap.class, new EnumMapSerializer(fields.field("java.util.EnumMap", "keyType")));
        byClass.put(Arrays.asList().getClass(), new ArraysAsListSerializer(fields.field("java.util.Arrays$ArrayList", "a")));
    }

    /** The dedicated serializer for exactly this class, or null. */
    Serializer<?> serializerFor(Class<?> type) {
        return byClass.get(type);
    }

    boolean has(Class<?> type) {
        return byClass.containsKey(type);
    }

    private static Class<?> jdkClass(String name) {
        try {
            return Class.forName(name, false, null);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    private void synchronizedWrapper(String className, String field, Wrap wrap) {
        Class<?> type = jdkClass(className);
        if (type == null) {
            return;
        }
        String declaring = field.equals("m") ? "java.util.Collections$SynchronizedMap"
                : "java.util.Collections$SynchronizedCollection";
        byClass.put(type, new WrapperSerializer(fields.field(declaring, field), fields.field(declaring, "mutex"),
                new JdkFields.Reader[0], wrap));
    }

    private void wrapper(String className, String field, Wrap wrap, String... typeFields) {
        Class<?> type = jdkClass(className);
        if (type == null) {
            return;
        }
        String declaring = className;
        if (field.equals("c") && className.contains("Unmodifiable")) {
            declaring = "java.util.Collections$UnmodifiableCollection";
        } else if (field.equals("m") && className.contains("Unmodifiable")) {
            declaring = "java.util.Collections$UnmodifiableMap";
        } else if (typeFields.length > 0) {
            declaring = typeFields[0];
        }
        JdkFields.Reader[] types = new JdkFields.Reader[typeFields.length == 0 ? 0 : typeFields.length - 1];
        for (int i = 1; i < typeFields.length; i++) {
            types[i - 1] = fields.field(typeFields[0], typeFields[i]);
        }
        byClass.put(type, new WrapperSerializer(fields.field(declaring, field), null, types, wrap));
    }

    private void singleton(String className, Object instance) {
        Class<?> type = jdkClass(className);
        if (type != null && type == instance.getClass()) {
            byClass.put(type, new Singleton(instance));
        }
    }

    /** Writes {@code object} through Java serialization after the {@link #JAVA} kind byte. */
    private void writeJava(Kryo kryo, Output output, Object object) {
        output.writeByte(JAVA);
        java.write(kryo, output, object);
    }

    /**
     * A wrapper of {@code Collections}: the wrapped collection (and the element types of a checked
     * one) through Kryo, the wrapper rebuilt by the JDK's own factory. A synchronized wrapper is
     * written while holding its lock, as its own {@code writeObject} does.
     */
    private final class WrapperSerializer extends Serializer<Object> {
        private final JdkFields.Reader inner;
        private final JdkFields.Reader mutex;
        private final JdkFields.Reader[] types;
        private final Wrap wrap;

        WrapperSerializer(JdkFields.Reader inner, JdkFields.Reader mutex, JdkFields.Reader[] types, Wrap wrap) {
            this.inner = inner;
            this.mutex = mutex;
            this.types = types;
            this.wrap = wrap;
        }

        private boolean readable() {
            if (inner == null) {
                return false;
            }
            for (JdkFields.Reader t : types) {
                if (t == null) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void write(Kryo kryo, Output output, Object object) {
            if (!readable()) {
                writeJava(kryo, output, object);
                return;
            }
            if (mutex == null) {
                writeKryo(kryo, output, object);
                return;
            }
            Object lock = mutex.get(object);
            if (lock != object) {
                // A view sharing the lock of another object (a synchronized map's keySet): only Java
                // serialization carries that other object along.
                writeJava(kryo, output, object);
                return;
            }
            synchronized (lock) {
                writeKryo(kryo, output, object);
            }
        }

        private void writeKryo(Kryo kryo, Output output, Object object) {
            output.writeByte(KRYO);
            for (JdkFields.Reader t : types) {
                // As a Class value: Kryo's ClassSerializer keeps Integer apart from int.
                kryo.writeClassAndObject(output, t.get(object));
            }
            kryo.writeClassAndObject(output, inner.get(object));
        }

        @Override
        public Object read(Kryo kryo, Input input, Class<?> type) {
            int kind = input.readByte();
            if (kind == JAVA) {
                return java.read(kryo, input, type);
            }
            if (kind != KRYO) {
                throw new KryoException("unknown encoding " + kind + " of a " + type.getName());
            }
            Class<?>[] t = new Class<?>[types.length];
            for (int i = 0; i < t.length; i++) {
                Object c = kryo.readClassAndObject(input);
                if (!(c instanceof Class)) {
                    throw new KryoException("a checked collection's type is a " + c);
                }
                t[i] = (Class<?>) c;
            }
            return wrap.wrap(kryo.readClassAndObject(input), t);
        }
    }

    /** A JDK singleton whose readResolve gives back the one instance: no bytes but the class. */
    private static final class Singleton extends Serializer<Object> {
        private final Object instance;

        Singleton(Object instance) {
            super(false, true);
            this.instance = instance;
        }

        @Override
        public void write(Kryo kryo, Output output, Object object) {
        }

        @Override
        public Object read(Kryo kryo, Input input, Class<?> type) {
            return instance;
        }
    }

    /**
     * A Locale with its script and extensions, which Kryo's LocaleSerializer drops
     * ({@code sr-Latn-RS-u-ca-gregory} would come back as {@code sr_RS}): language, country and
     * variant, the common case, directly; any other through Java serialization.
     */
    private final class LocaleSerializer extends Serializer<Locale> {
        LocaleSerializer() {
            super(false, true);
        }

        @Override
        public void write(Kryo kryo, Output output, Locale locale) {
            if (!locale.getScript().isEmpty() || !locale.getExtensionKeys().isEmpty()) {
                writeJava(kryo, output, locale);
                return;
            }
            output.writeByte(KRYO);
            output.writeString(locale.getLanguage());
            output.writeString(locale.getCountry());
            output.writeString(locale.getVariant());
        }

        @Override
        public Locale read(Kryo kryo, Input input, Class<? extends Locale> type) {
            int kind = input.readByte();
            if (kind == JAVA) {
                return (Locale) java.read(kryo, input, type);
            }
            Locale l = new Locale(input.readString(), input.readString(), input.readString());
            if (!l.getScript().isEmpty() || !l.getExtensionKeys().isEmpty()) {
                // Only the special legacy locales (ja_JP_JP, th_TH_TH) gain extensions this way,
                // and they were written through Java serialization.
                throw new KryoException("locale " + l + " was not written with its extensions");
            }
            return l;
        }
    }

    /** A LinkedHashMap with its order: insertion or access (an LRU cache), which Kryo's MapSerializer forgets. */
    private final class LinkedHashMapSerializer extends Serializer<LinkedHashMap<Object, Object>> {
        private final JdkFields.Reader accessOrder;

        LinkedHashMapSerializer(JdkFields.Reader accessOrder) {
            this.accessOrder = accessOrder;
        }

        @Override
        public void write(Kryo kryo, Output output, LinkedHashMap<Object, Object> map) {
            if (accessOrder == null) {
                writeJava(kryo, output, map);
                return;
            }
            output.writeByte(KRYO);
            output.writeBoolean((Boolean) accessOrder.get(map));
            output.writeVarInt(map.size(), true);
            // Iterating does not reorder an access-ordered map; get() would.
            for (Map.Entry<Object, Object> e : map.entrySet()) {
                kryo.writeClassAndObject(output, e.getKey());
                kryo.writeClassAndObject(output, e.getValue());
            }
        }

        @Override
        @SuppressWarnings("unchecked")
        public LinkedHashMap<Object, Object> read(Kryo kryo, Input input, Class<? extends LinkedHashMap<Object, Object>> type) {
            int kind = input.readByte();
            if (kind == JAVA) {
                return (LinkedHashMap<Object, Object>) java.read(kryo, input, type);
            }
            boolean access = input.readBoolean();
            int size = input.readVarInt(true);
            LinkedHashMap<Object, Object> map = new LinkedHashMap<>(capacity(size), 0.75f, access);
            kryo.reference(map);
            for (int i = 0; i < size; i++) {
                Object k = kryo.readClassAndObject(input);
                Object v = kryo.readClassAndObject(input);
                // put() of a new key appends in both orders, so the order comes back as it was.
                map.put(k, v);
            }
            return map;
        }
    }

    /** An EnumMap with its key type, which an empty map has nowhere but in a private field. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private final class EnumMapSerializer extends Serializer<EnumMap> {
        private final JdkFields.Reader keyType;

        EnumMapSerializer(JdkFields.Reader keyType) {
            this.keyType = keyType;
        }

        @Override
        public void write(Kryo kryo, Output output, EnumMap map) {
            if (keyType == null) {
                writeJava(kryo, output, map);
                return;
            }
            output.writeByte(KRYO);
            kryo.writeClass(output, (Class<?>) keyType.get(map));
            output.writeVarInt(map.size(), true);
            for (Object o : map.entrySet()) {
                Map.Entry<Enum, Object> e = (Map.Entry<Enum, Object>) o;
                output.writeVarInt(e.getKey().ordinal(), true);
                kryo.writeClassAndObject(output, e.getValue());
            }
        }

        @Override
        public EnumMap read(Kryo kryo, Input input, Class<? extends EnumMap> type) {
            int kind = input.readByte();
            if (kind == JAVA) {
                return (EnumMap) java.read(kryo, input, type);
            }
            Class keys = kryo.readClass(input).getType();
            if (!keys.isEnum()) {
                throw new KryoException("EnumMap keyed by " + keys.getName());
            }
            EnumMap map = new EnumMap(keys);
            kryo.reference(map);
            Object[] constants = keys.getEnumConstants();
            int size = input.readVarInt(true);
            for (int i = 0; i < size; i++) {
                int ordinal = input.readVarInt(true);
                if (ordinal >= constants.length) {
                    throw new KryoException("no constant " + ordinal + " in " + keys.getName());
                }
                map.put((Enum) constants[ordinal], kryo.readClassAndObject(input));
            }
            return map;
        }
    }

    /** Arrays.asList over an array of the original's component type (a String[] stays a String[]). */
    private final class ArraysAsListSerializer extends Serializer<List<?>> {
        private final JdkFields.Reader array;

        ArraysAsListSerializer(JdkFields.Reader array) {
            this.array = array;
        }

        @Override
        public void write(Kryo kryo, Output output, List<?> list) {
            if (array == null) {
                writeJava(kryo, output, list);
                return;
            }
            output.writeByte(KRYO);
            kryo.writeClassAndObject(output, array.get(list));
        }

        @Override
        public List<?> read(Kryo kryo, Input input, Class<? extends List<?>> type) {
            int kind = input.readByte();
            if (kind == JAVA) {
                return (List<?>) java.read(kryo, input, type);
            }
            Object a = kryo.readClassAndObject(input);
            if (!(a instanceof Object[])) {
                throw new KryoException("Arrays.asList over a " + (a == null ? "null" : a.getClass().getName()));
            }
            return Arrays.asList((Object[]) a);
        }
    }

    private static int capacity(int size) {
        return size < 3 ? 4 : (int) Math.min(1 << 30, size / 0.75f + 1);
    }
}
