package io.sessionagent.filter.core.codec;

import java.net.URL;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which classes an attribute value may be made of: the {@code allowed-classes} init-param and the
 * built-in default. A value that holds an instance of any other class is neither sent nor read
 * (Kryo's class resolution and Java serialization's {@code resolveClass} both ask before anything
 * is instantiated), so that bytes from the network cannot make this node build objects of library
 * classes whose constructors, {@code readObject}, {@code hashCode} or {@code compareTo} run code:
 * the deserialization gadget chains.
 *
 * <p>The default allows
 * <ul>
 *   <li>the JDK's value types and collections ({@link #JDK_CLASSES}, {@link #JDK_PREFIXES}):
 *       boxed primitives, strings, {@code java.math}, {@code java.time}, dates, {@code UUID},
 *       {@code URI}, {@code Locale}, {@code Currency}, the {@code java.util} and
 *       {@code java.util.concurrent} collections and the wrappers of {@code Collections},
 *       {@code List.of} and its kin, atomics, locks, the basic exceptions;</li>
 *   <li>the web application's own classes: those loaded from a class directory
 *       ({@code WEB-INF/classes}, or a build's classes directory in an embedded server) rather than
 *       from a jar. Libraries come from jars, in {@code WEB-INF/lib} as in the container's
 *       {@code lib}, and are not allowed unless named;</li>
 *   <li>arrays of any of these, and primitive arrays.</li>
 * </ul>
 * Patterns, separated by commas or spaces and tried in order before the default (the first that
 * matches decides): {@code com.example.Cart} (one class, its nested classes not included),
 * {@code com.example.*} (the classes of a package, nested ones included),
 * {@code com.example.**} (a package and its subpackages), {@code com.example.Cart*} (names that
 * start so), {@code *} (every class: no protection), each optionally preceded by {@code !} to
 * refuse what it matches even if the default would allow it.
 */
public final class ClassAllowList {
    /** The init-param that holds the list: named in messages about a refused class. */
    public static final String INIT_PARAM = "allowed-classes";

    /** JDK classes allowed by name: values, collections, and what their serialized forms consist of. */
    static final Set<String> JDK_CLASSES = Collections.unmodifiableSet(new HashSet<>(Arrays.asList(
            "java.lang.Object", "java.lang.String", "java.lang.Boolean", "java.lang.Byte", "java.lang.Short",
            "java.lang.Character", "java.lang.Integer", "java.lang.Long", "java.lang.Float", "java.lang.Double",
            "java.lang.Number", "java.lang.Void", "java.lang.Enum", "java.lang.Class", "java.lang.StringBuilder",
            "java.lang.StringBuffer", "java.lang.String$CaseInsensitiveComparator",
            "java.lang.Throwable", "java.lang.Exception", "java.lang.RuntimeException", "java.lang.Error",
            "java.lang.StackTraceElement",
            "java.math.BigInteger", "java.math.BigDecimal", "java.math.RoundingMode", "java.math.MathContext",
            "java.net.URI",
            "java.util.ArrayList", "java.util.LinkedList", "java.util.Vector", "java.util.Stack",
            "java.util.ArrayDeque", "java.util.PriorityQueue", "java.util.HashMap", "java.util.LinkedHashMap",
            "java.util.TreeMap", "java.util.Hashtable", "java.util.Properties", "java.util.IdentityHashMap",
            "java.util.EnumMap", "java.util.HashSet", "java.util.LinkedHashSet", "java.util.TreeSet",
            "java.util.EnumSet", "java.util.RegularEnumSet", "java.util.JumboEnumSet",
            "java.util.EnumSet$SerializationProxy", "java.util.BitSet", "java.util.UUID", "java.util.Locale",
            "java.util.Locale$Category", "java.util.Currency", "java.util.Date", "java.util.Calendar",
            "java.util.GregorianCalendar", "java.util.TimeZone", "java.util.SimpleTimeZone",
            "sun.util.calendar.ZoneInfo", "java.util.Optional", "java.util.OptionalInt", "java.util.OptionalLong",
            "java.util.OptionalDouble", "java.util.AbstractMap$SimpleEntry",
            "java.util.AbstractMap$SimpleImmutableEntry", "java.util.KeyValueHolder", "java.util.Arrays$ArrayList",
            "java.util.CollSer", "java.util.Comparators$NaturalOrderComparator",
            "java.util.Comparators$NullComparator", "java.util.regex.Pattern",
            "java.util.concurrent.ConcurrentHashMap", "java.util.concurrent.ConcurrentHashMap$KeySetView",
            "java.util.concurrent.ConcurrentHashMap$CollectionView",
            "java.util.concurrent.ConcurrentHashMap$Segment", "java.util.concurrent.ConcurrentSkipListMap",
            "java.util.concurrent.ConcurrentSkipListSet", "java.util.concurrent.CopyOnWriteArrayList",
            "java.util.concurrent.CopyOnWriteArraySet", "java.util.concurrent.ConcurrentLinkedQueue",
            "java.util.concurrent.ConcurrentLinkedDeque", "java.util.concurrent.LinkedBlockingQueue",
            "java.util.concurrent.LinkedBlockingDeque", "java.util.concurrent.ArrayBlockingQueue",
            "java.util.concurrent.PriorityBlockingQueue", "java.util.concurrent.LinkedTransferQueue",
            "java.util.concurrent.TimeUnit",
            "java.util.concurrent.locks.ReentrantLock", "java.util.concurrent.locks.ReentrantLock$Sync",
            "java.util.concurrent.locks.ReentrantLock$NonfairSync", "java.util.concurrent.locks.ReentrantLock$FairSync",
            "java.util.concurrent.locks.ReentrantReadWriteLock",
            "java.util.concurrent.locks.ReentrantReadWriteLock$Sync",
            "java.util.concurrent.locks.ReentrantReadWriteLock$NonfairSync",
            "java.util.concurrent.locks.ReentrantReadWriteLock$FairSync",
            "java.util.concurrent.locks.ReentrantReadWriteLock$ReadLock",
            "java.util.concurrent.locks.ReentrantReadWriteLock$WriteLock",
            "java.util.concurrent.locks.AbstractQueuedSynchronizer",
            "java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject",
            "java.util.concurrent.locks.AbstractOwnableSynchronizer",
            "java.sql.Date", "java.sql.Time", "java.sql.Timestamp")));

    /**
     * JDK packages and classes allowed with everything in or under them: {@code java.time} (with
     * its serialization proxies), the wrappers, empties and singletons of {@code Collections}, the
     * collections of {@code List.of}, {@code Set.of}, {@code Map.of}, the sub-maps of a
     * {@code TreeMap}, and the atomics.
     */
    static final List<String> JDK_PREFIXES = Collections.unmodifiableList(Arrays.asList(
            "java.time.", "java.util.Collections$", "java.util.ImmutableCollections$", "java.util.TreeMap$",
            "java.util.concurrent.atomic."));

    private static final Pattern TOKEN = Pattern.compile("!?(\\*|[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*"
            + "(\\.\\*\\*|\\.\\*|\\*)?)");

    /** The built-in default alone. */
    public static final ClassAllowList DEFAULT = new ClassAllowList(Collections.<Rule>emptyList(), "");

    private final List<Rule> rules;
    private final String spec;

    private ClassAllowList(List<Rule> rules, String spec) {
        this.rules = rules;
        this.spec = spec;
    }

    /**
     * @param spec the init-param's value; null or blank for the default alone
     * @throws IllegalArgumentException naming the patterns that are not valid
     */
    public static ClassAllowList parse(String spec) {
        if (spec == null || spec.trim().isEmpty()) {
            return DEFAULT;
        }
        List<Rule> rules = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        List<String> tokens = new ArrayList<>();
        for (String t : spec.trim().split("[,\\s]+")) {
            if (t.isEmpty()) {
                continue;
            }
            if (!TOKEN.matcher(t).matches()) {
                bad.add("'" + t + "'");
                continue;
            }
            tokens.add(t);
            rules.add(new Rule(t));
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(INIT_PARAM + " " + String.join(", ", bad)
                    + ": expected class names or patterns such as com.example.Cart, com.example.*, com.example.**,"
                    + " com.example.Cart*, * (each optionally preceded by !)");
        }
        return new ClassAllowList(Collections.unmodifiableList(rules), String.join(",", tokens));
    }

    /** The patterns as given (normalized), "" for the default alone. */
    public String patterns() {
        return spec;
    }

    /** Whether the patterns allow every class ({@code *} as the first pattern). */
    public boolean allowsEverything() {
        return !rules.isEmpty() && rules.get(0).everything && rules.get(0).allow;
    }

    /** Whether a value may hold an instance of {@code c} (or be {@code c}, for a Class value). Uncached. */
    public boolean allows(Class<?> c) {
        while (c.isArray()) {
            c = c.getComponentType();
        }
        if (c.isPrimitive()) {
            return true;
        }
        if (c == JavaSerialized.class) {
            return true;
        }
        String name = c.getName();
        for (Rule r : rules) {
            if (r.matches(name)) {
                return r.allow;
            }
        }
        if (isJdk(c)) {
            return isAllowedJdkName(name);
        }
        return isApplicationClass(c);
    }

    static boolean isAllowedJdkName(String name) {
        if (JDK_CLASSES.contains(name)) {
            return true;
        }
        for (String p : JDK_PREFIXES) {
            if (name.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    private static final ClassLoader PLATFORM = platformLoader();

    private static ClassLoader platformLoader() {
        try {
            ClassLoader system = ClassLoader.getSystemClassLoader();
            return system == null ? null : system.getParent();
        } catch (SecurityException e) {
            return null;
        }
    }

    /** A class of the JDK: the bootstrap or platform (Java 8: extension) class loader defined it. */
    static boolean isJdk(Class<?> c) {
        ClassLoader l = c.getClassLoader();
        return l == null || (PLATFORM != null && l == PLATFORM) || c.getName().startsWith("java.");
    }

    /**
     * The application's own code: loaded from a class directory, not from a jar or zip (a library)
     * nor from the JDK. {@code WEB-INF/classes} in every container this filter was tested on, and
     * the classes directories of a build when a server is embedded.
     */
    static boolean isApplicationClass(Class<?> c) {
        if (isJdk(c)) {
            return false;
        }
        URL location;
        try {
            ProtectionDomain pd = c.getProtectionDomain();
            CodeSource cs = pd == null ? null : pd.getCodeSource();
            location = cs == null ? null : cs.getLocation();
        } catch (SecurityException e) {
            return false;
        }
        if (location == null) {
            return false;
        }
        String s = location.toString().toLowerCase(Locale.ROOT);
        if (s.startsWith("jrt:")) {
            return false;
        }
        while (s.endsWith("/") || s.endsWith("!")) {
            s = s.substring(0, s.length() - 1);
        }
        return !(s.endsWith(".jar") || s.endsWith(".zip") || s.endsWith(".war") || s.endsWith(".ear")
                || s.endsWith(".jmod"));
    }

    /** What the patterns and the default allow, for the log. */
    String describe() {
        return (spec.isEmpty() ? "" : spec + ", then ")
                + "the JDK's value and collection types and the application's own classes (class directories)";
    }

    @Override
    public String toString() {
        return describe();
    }

    /** One pattern. */
    private static final class Rule {
        final boolean allow;
        final boolean everything;
        /** Exact name, or the prefix of a prefix pattern. */
        final String text;
        final Kind kind;

        enum Kind {
            EXACT, PACKAGE, SUBPACKAGES, PREFIX, ALL
        }

        Rule(String token) {
            allow = !token.startsWith("!");
            String t = allow ? token : token.substring(1);
            if (t.equals("*")) {
                kind = Kind.ALL;
                text = "";
            } else if (t.endsWith(".**")) {
                kind = Kind.SUBPACKAGES;
                text = t.substring(0, t.length() - 2);
            } else if (t.endsWith(".*")) {
                kind = Kind.PACKAGE;
                text = t.substring(0, t.length() - 1);
            } else if (t.endsWith("*")) {
                kind = Kind.PREFIX;
                text = t.substring(0, t.length() - 1);
            } else {
                kind = Kind.EXACT;
                text = t;
            }
            everything = kind == Kind.ALL;
        }

        boolean matches(String name) {
            switch (kind) {
                case ALL:
                    return true;
                case EXACT:
                    return name.equals(text);
                case PREFIX:
                case SUBPACKAGES:
                    return name.startsWith(text);
                case PACKAGE:
                    return name.startsWith(text) && name.indexOf('.', text.length()) < 0;
                default:
                    return false;
            }
        }
    }
}
