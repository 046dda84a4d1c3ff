package io.sessionagent.filter.core.codec;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Collection;
import java.util.Currency;
import java.util.Date;
import java.util.Deque;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.SimpleTimeZone;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TimeZone;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * A canonical text of an object graph, for comparing two copies of a value: classes, values,
 * fields of every class outside the JDK (read by reflection), the public view of JDK
 * collections and values (their private fields are closed to reflection), and the shape of
 * shared references and cycles (an object met again is written as {@code #n}, n its first visit),
 * and whether an application object is the instance one of its class's static fields holds.
 * Elements of unordered sets and maps are sorted by their text, since two equal hash sets may
 * iterate differently; ordered ones (lists, queues, sorted and linked collections, enum maps)
 * keep their order.
 */
final class Canon {
    private final IdentityHashMap<Object, Integer> seen = new IdentityHashMap<>();

    static String of(Object o) {
        return new Canon().d(o);
    }

    private static boolean isValue(Object o) {
        return o instanceof String || o instanceof Number && o.getClass().getName().startsWith("java.lang.")
                || o instanceof Boolean || o instanceof Character || o instanceof Enum || o instanceof Class
                || o instanceof BigDecimal || o instanceof BigInteger || o instanceof UUID || o instanceof URI
                || o instanceof Locale || o instanceof Currency || o.getClass().getName().startsWith("java.time.");
    }

    String d(Object o) {
        if (o == null) {
            return "null";
        }
        Class<?> c = o.getClass();
        if (isValue(o)) {
            if (o instanceof Class) {
                return "class " + ((Class<?>) o).getName();
            }
            if (o instanceof Enum) {
                return ((Enum<?>) o).getDeclaringClass().getName() + "." + ((Enum<?>) o).name();
            }
            return c.getName() + ":" + o;
        }
        Integer ref = seen.get(o);
        if (ref != null) {
            return "#" + ref;
        }
        seen.put(o, seen.size());
        StringBuilder b = new StringBuilder(c.getName());
        if (c.isArray()) {
            b.append('[');
            for (int i = 0; i < Array.getLength(o); i++) {
                b.append(i == 0 ? "" : ", ").append(d(Array.get(o, i)));
            }
            return b.append(']').toString();
        }
        if (o instanceof Map) {
            map(b, (Map<?, ?>) o);
        } else if (o instanceof Collection) {
            collection(b, (Collection<?>) o);
        } else if (o instanceof Throwable) {
            Throwable t = (Throwable) o;
            b.append("(message=").append(t.getMessage()).append(", cause=")
                    .append(t.getCause() == t ? "self" : d(t.getCause())).append(", trace=")
                    .append(d(t.getStackTrace())).append(", suppressed=").append(d(t.getSuppressed())).append(')');
        } else if (ClassAllowList.isJdk(c)) {
            b.append('(').append(jdkValue(o)).append(')');
        }
        if (!ClassAllowList.isJdk(c)) {
            b.append(singletonOf(o));
            fields(b, o);
        }
        return b.toString();
    }

    /**
     * " = Type.NAME" when {@code o} is the instance a static field of its class holds: a
     * {@code readResolve} singleton must come back as that very instance, not as an equal copy.
     */
    private static String singletonOf(Object o) {
        for (Field f : o.getClass().getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && !f.getType().isPrimitive()) {
                try {
                    f.setAccessible(true);
                    if (f.get(null) == o) {
                        return " = " + o.getClass().getSimpleName() + "." + f.getName();
                    }
                } catch (IllegalAccessException | RuntimeException e) {
                    // A field this test cannot read names no singleton.
                }
            }
        }
        return "";
    }

    private String jdkValue(Object o) {
        if (o instanceof Pattern) {
            return ((Pattern) o).pattern() + "/" + ((Pattern) o).flags();
        }
        if (o instanceof java.sql.Timestamp) {
            return ((Date) o).getTime() + "+" + ((java.sql.Timestamp) o).getNanos() + "ns";
        }
        if (o instanceof Date) {
            return Long.toString(((Date) o).getTime());
        }
        if (o instanceof Calendar) {
            Calendar cal = (Calendar) o;
            return cal.getTimeInMillis() + " " + d(cal.getTimeZone()) + " lenient=" + cal.isLenient() + " first="
                    + cal.getFirstDayOfWeek() + " minimal=" + cal.getMinimalDaysInFirstWeek();
        }
        if (o instanceof SimpleTimeZone) {
            return o.toString();
        }
        if (o instanceof TimeZone) {
            TimeZone z = (TimeZone) o;
            return z.getID() + " " + z.getRawOffset() + " " + z.useDaylightTime();
        }
        if (o instanceof AtomicReference) {
            return d(((AtomicReference<?>) o).get());
        }
        if (o instanceof AtomicInteger || o instanceof AtomicLong || o instanceof AtomicBoolean) {
            return o.toString();
        }
        if (o instanceof Optional) {
            return d(((Optional<?>) o).orElse(null));
        }
        if (o instanceof Map.Entry) {
            return d(((Map.Entry<?, ?>) o).getKey()) + "=" + d(((Map.Entry<?, ?>) o).getValue());
        }
        if (o.getClass() == Object.class) {
            return "";
        }
        // Locks and the like name their identity hash: leave it out.
        return o.toString().replaceAll("@[0-9a-f]+", "@");
    }

    private static boolean ordered(Object o) {
        return o instanceof List || o instanceof Queue || o instanceof Deque || o instanceof SortedSet
                || o instanceof SortedMap || o instanceof LinkedHashMap || o instanceof LinkedHashSet
                || o instanceof EnumMap || o instanceof EnumSet;
    }

    private void collection(StringBuilder b, Collection<?> c) {
        if (c instanceof SortedSet) {
            b.append("(comparator=").append(d(((SortedSet<?>) c).comparator())).append(')');
        }
        List<String> items = new ArrayList<>();
        for (Object e : c.toArray()) {
            items.add(d(e));
        }
        if (!ordered(c)) {
            items.sort(null);
        }
        b.append(items);
    }

    private void map(StringBuilder b, Map<?, ?> m) {
        if (m instanceof SortedMap) {
            b.append("(comparator=").append(d(((SortedMap<?, ?>) m).comparator())).append(')');
        }
        List<String> items = new ArrayList<>();
        for (Map.Entry<?, ?> e : new ArrayList<>(m.entrySet())) {
            items.add(d(e.getKey()) + "=" + d(e.getValue()));
        }
        if (!ordered(m)) {
            items.sort(null);
        }
        b.append(items);
    }

    /** Every instance field of the classes outside the JDK, superclasses first. */
    private void fields(StringBuilder b, Object o) {
        List<Class<?>> chain = new ArrayList<>();
        for (Class<?> k = o.getClass(); k != null && !ClassAllowList.isJdk(k); k = k.getSuperclass()) {
            chain.add(0, k);
        }
        b.append('{');
        boolean first = true;
        for (Class<?> k : chain) {
            for (Field f : k.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                f.setAccessible(true);
                Object v;
                try {
                    v = f.get(o);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
                b.append(first ? "" : ", ").append(k.getSimpleName()).append('.').append(f.getName()).append('=')
                        .append(d(v));
                first = false;
            }
        }
        b.append('}');
    }
}
