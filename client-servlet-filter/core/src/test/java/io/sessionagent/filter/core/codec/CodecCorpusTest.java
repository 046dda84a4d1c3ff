package io.sessionagent.filter.core.codec;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.FilterSettings;
import io.sessionagent.filter.core.ScriptedAgent;
import io.sessionagent.filter.core.SessionManager;
import io.sessionagent.filter.core.agent.AgentClientTest;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.core.metrics.FilterMetrics;
import io.sessionagent.filter.core.session.SessionData;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.sun.faces.util.LRUMap;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.core.userdetails.User;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Externalizable;
import java.io.IOException;
import java.io.ObjectInput;
import java.io.ObjectInputStream;
import java.io.ObjectOutput;
import java.io.ObjectOutputStream;
import java.io.Serial;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.chrono.JapaneseDate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Currency;
import java.util.Date;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.GregorianCalendar;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Properties;
import java.util.Set;
import java.util.SimpleTimeZone;
import java.util.Stack;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.Vector;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whatever Java serialization round-trips, the codec round-trips too: each value of the corpus
 * goes through the codec and through plain Java serialization, and the two copies must be equal
 * in every respect {@link Canon} sees (classes, values, fields, comparators, shared references)
 * and behave alike ({@link Behaviour}: adds, removes, locking, order, capacity). Once with the JDK
 * wrappers read through their private fields (the normal case), once with every wrapper sent
 * through Java serialization ({@link JdkFields#NONE}, a JVM that allows neither reflection nor
 * Unsafe). The libraries' classes are named in the allow-list, as an application would.
 */
class CodecCorpusTest {
    static final ClassAllowList ALLOWED = ClassAllowList.parse(
            "org.springframework.security.**, com.google.common.collect.**, com.sun.faces.util.LRUMap");

    @Test
    void everyValueComesBackAsJavaSerializationBringsIt() throws Exception {
        check(JdkFields.AVAILABLE, "fields");
    }

    @Test
    void everyValueComesBackAsJavaSerializationBringsItWithoutReadingJdkFields() throws Exception {
        check(JdkFields.NONE, "no-fields");
    }

    /**
     * The corpus as one session that node 1 writes and node 2 restores from the agent, as after a
     * failover, through the filter's own decode path: every value arrives as Java serialization
     * brings it, and the decode failures that node 2 publishes over JMX and Micrometer, in all and
     * per class, stay at 0.
     */
    @Test
    void theCorpusRestoredOnAnotherNodeHasNoDecodeFailureOnJmxOrMicrometer() throws Exception {
        MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager node1 = node(agent.port(), "node1");
             SessionManager node2 = node(agent.port(), "node2")) {
            SessionData s = node1.create();
            Map<String, Object> originals = new LinkedHashMap<>();
            for (Map.Entry<String, Supplier<Object>> c : corpus().entrySet()) {
                Object value = c.getValue().get();
                originals.put(c.getKey(), value);
                s.setAttribute(c.getKey(), value);
            }
            node1.commit(s);
            assertThat(node1.counters().get(FilterCounter.SKIPPED_ATTRIBUTES)).isZero();
            assertThat(agent.session(s.id()).getAttributesCount()).isEqualTo(originals.size());

            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            FilterMetrics metrics = FilterMetrics.start(node2.counters(), node2, "/corpus", "f",
                    getClass().getClassLoader(), registry, "r");
            try {
                SessionData restored = node2.find(s.id() + ".node1").session();
                List<String> differences = new ArrayList<>();
                for (Map.Entry<String, Object> e : originals.entrySet()) {
                    String expected = Canon.of(javaRoundTrip(e.getValue()));
                    String actual = Canon.of(restored.getAttribute(e.getKey()));
                    if (!expected.equals(actual)) {
                        differences.add(e.getKey() + ":\n  java:     " + expected + "\n  restored: " + actual);
                    }
                }
                assertThat(differences).as("values restored otherwise than Java serialization brings them").isEmpty();
                assertThat(node2.counters().get(FilterCounter.FAILOVER_RESTORES)).isEqualTo(1);

                ObjectName name = FilterMetrics.objectName("/corpus", "f");
                assertThat(mbeans.getAttribute(name, "DeserializeFailures")).isEqualTo(0L);
                assertThat(mbeans.getAttribute(name, "DeserializeFailuresByClass")).isEqualTo(Map.of());
                assertThat(mbeans.getAttribute(name, "RefusedAttributes")).isEqualTo(0L);
                assertThat(registry.get("session_filter.attributes.deserialize_failures").functionCounter().count())
                        .isZero();
                assertThat(registry.find("session_filter.attributes.deserialize_failures.by_class").meters())
                        .isEmpty();
                assertThat(registry.get("session_filter.attributes.refused").functionCounter().count()).isZero();
                System.out.println("CORPUS restored-on-node2 types=" + originals.size() + " differences="
                        + differences.size() + " deserialize_failures=" + node2.counters().get(FilterCounter.DESERIALIZE_FAILURES)
                        + " by_class=" + node2.counters().deserializeFailuresByClass());
            } finally {
                metrics.close();
            }
        }
    }

    private static SessionManager node(int port, String route) {
        FilterSettings settings = FilterSettings.parse(name -> switch (name) {
            case FilterSettings.AGENT_ADDRESS -> "127.0.0.1:" + port;
            case FilterSettings.ROUTE -> route;
            case FilterSettings.REPLICATION_MODE -> "sync";
            case FilterSettings.ALLOWED_CLASSES -> ALLOWED.patterns();
            default -> null;
        }, "");
        return new SessionManager(settings, CodecCorpusTest.class.getClassLoader(), new AgentClientTest.NoEvents(),
                System::currentTimeMillis);
    }

    private void check(JdkFields fields, String label) throws Exception {
        FilterCounters counters = new FilterCounters();
        AttributeCodec codec = new AttributeCodec(getClass().getClassLoader(), 4 << 20, ALLOWED, counters, fields);
        Map<String, Supplier<Object>> corpus = corpus();
        List<String> differences = new ArrayList<>();
        int kryoOnly = 0;
        for (Map.Entry<String, Supplier<Object>> c : corpus.entrySet()) {
            String name = c.getKey();
            Object original = c.getValue().get();
            byte[] bytes = codec.serialize(name, original);
            if (bytes == null) {
                differences.add(name + ": not serialized");
                continue;
            }
            if (!containsJavaStream(bytes)) {
                kryoOnly++;
            }
            Object viaCodec;
            try {
                viaCodec = codec.deserialize(bytes);
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                differences.add(name + ": not deserialized: " + e);
                continue;
            }
            Object viaJava = javaRoundTrip(original);
            String expected = Canon.of(viaJava);
            String actual;
            try {
                actual = Canon.of(viaCodec);
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                actual = "broken: " + e;
            }
            if (!expected.equals(actual)) {
                differences.add(name + ":\n  java:  " + expected + "\n  codec: " + actual);
                continue;
            }
            assertThat(Canon.of(original)).as("the harness: Java serialization keeps %s", name).isEqualTo(expected);
            for (String probe : probes(viaJava).keySet()) {
                String j = Behaviour.of(probes(viaJava).get(probe));
                String k;
                try {
                    k = Behaviour.of(probes(viaCodec).get(probe));
                } catch (RuntimeException | LinkageError | StackOverflowError e) {
                    k = "broken: " + e;
                }
                if (!j.equals(k)) {
                    differences.add(name + " " + probe + " behaves otherwise:\n  java:  " + j + "\n  codec: " + k);
                }
            }
        }
        System.out.println("CORPUS " + label + " types=" + corpus.size() + " differences=" + differences.size()
                + " kryo-only=" + kryoOnly + " with-java-serialization=" + (corpus.size() - kryoOnly)
                + " deserialize_failures=" + counters.get(FilterCounter.DESERIALIZE_FAILURES) + " refused=" + counters.get(FilterCounter.REFUSED_ATTRIBUTES)
                + " skipped=" + counters.get(FilterCounter.SKIPPED_ATTRIBUTES));
        assertThat(differences).as("values the codec brings back otherwise than Java serialization").isEmpty();
        assertThat(counters.get(FilterCounter.DESERIALIZE_FAILURES)).isZero();
        assertThat(counters.deserializeFailuresByClass()).isEmpty();
        assertThat(counters.get(FilterCounter.REFUSED_ATTRIBUTES)).isZero();
        assertThat(counters.get(FilterCounter.SKIPPED_ATTRIBUTES)).isZero();
    }

    /** Whether Java serialization's stream header (0xACED0005) occurs in the bytes. */
    private static boolean containsJavaStream(byte[] b) {
        for (int i = 0; i + 3 < b.length; i++) {
            if ((b[i] & 0xff) == 0xac && (b[i + 1] & 0xff) == 0xed && b[i + 2] == 0 && b[i + 3] == 5) {
                return true;
            }
        }
        return false;
    }

    /** The value and every collection or map in a field of it (beans) or in it (a list of collections). */
    private static Map<String, Object> probes(Object value) {
        Map<String, Object> p = new LinkedHashMap<>();
        if (value instanceof Collection || value instanceof Map) {
            p.put("itself", value);
        }
        if (!ClassAllowList.isJdk(value.getClass())) {
            for (Class<?> k = value.getClass(); k != null && !ClassAllowList.isJdk(k); k = k.getSuperclass()) {
                for (java.lang.reflect.Field f : k.getDeclaredFields()) {
                    if (java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                        continue;
                    }
                    f.setAccessible(true);
                    try {
                        Object v = f.get(value);
                        if (v instanceof Collection || v instanceof Map) {
                            p.put("field " + f.getName(), v);
                        }
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        return p;
    }

    static Object javaRoundTrip(Object o) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ObjectOutputStream oos = new ObjectOutputStream(out)) {
            oos.writeObject(o);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(out.toByteArray()))) {
            return in.readObject();
        }
    }

    // ---- the corpus ----

    static Map<String, Supplier<Object>> corpus() {
        Map<String, Supplier<Object>> c = new LinkedHashMap<>();
        // Collections' wrappers.
        c.put("synchronizedCollection", () -> Collections.synchronizedCollection(new ArrayList<>(List.of("a", "b"))));
        c.put("synchronizedSet", () -> Collections.synchronizedSet(new HashSet<>(Set.of("a", "b", "c"))));
        c.put("synchronizedSortedSet", () -> Collections.synchronizedSortedSet(
                sorted(Collections.reverseOrder(), "a", "b")));
        c.put("synchronizedNavigableSet", () -> Collections.synchronizedNavigableSet(new TreeSet<>(Set.of(3, 1, 2))));
        c.put("synchronizedList", () -> Collections.synchronizedList(new ArrayList<>(List.of(1, 2, 3))));
        c.put("synchronizedList(LinkedList)", () -> Collections.synchronizedList(new LinkedList<>(List.of(1, 2))));
        c.put("synchronizedMap", () -> Collections.synchronizedMap(new HashMap<>(Map.of("a", 1, "b", 2))));
        c.put("synchronizedMap(LinkedHashMap)", () -> Collections.synchronizedMap(linked("z", "y", "x")));
        c.put("synchronizedSortedMap", () -> Collections.synchronizedSortedMap(new TreeMap<>(Map.of("a", 1))));
        c.put("synchronizedNavigableMap", () -> {
            TreeMap<String, Integer> m = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            m.put("B", 2);
            m.put("a", 1);
            return Collections.synchronizedNavigableMap(m);
        });
        c.put("synchronizedSortedMap headMap (a view locking its map)", () -> Collections.synchronizedSortedMap(
                new TreeMap<>(Map.of("a", 1, "b", 2, "c", 3))).headMap("c"));
        c.put("unmodifiableCollection", () -> Collections.unmodifiableCollection(new ArrayList<>(List.of("a"))));
        c.put("unmodifiableSet", () -> Collections.unmodifiableSet(new LinkedHashSet<>(List.of("c", "a", "b"))));
        c.put("unmodifiableSortedSet", () -> Collections.unmodifiableSortedSet(new TreeSet<>(Set.of("a", "b"))));
        c.put("unmodifiableNavigableSet", () -> Collections.unmodifiableNavigableSet(new TreeSet<>(Set.of(1, 2))));
        c.put("unmodifiableList", () -> Collections.unmodifiableList(new ArrayList<>(List.of("a", "b"))));
        c.put("unmodifiableList(LinkedList)", () -> Collections.unmodifiableList(new LinkedList<>(List.of("a"))));
        c.put("unmodifiableMap", () -> Collections.unmodifiableMap(new HashMap<>(Map.of("a", 1))));
        c.put("unmodifiableSortedMap", () -> Collections.unmodifiableSortedMap(new TreeMap<>(Map.of("a", 1, "b", 2))));
        c.put("unmodifiableNavigableMap", () -> Collections.unmodifiableNavigableMap(new TreeMap<>(Map.of(1, "a"))));
        c.put("checkedCollection", () -> Collections.checkedCollection(new ArrayList<>(List.of("a")), String.class));
        c.put("checkedSet", () -> Collections.checkedSet(new HashSet<>(Set.of("a")), String.class));
        c.put("checkedSortedSet", () -> Collections.checkedSortedSet(new TreeSet<>(Set.of("a")), String.class));
        c.put("checkedNavigableSet", () -> Collections.checkedNavigableSet(new TreeSet<>(Set.of(1)), Integer.class));
        c.put("checkedList", () -> Collections.checkedList(new ArrayList<>(List.of("a")), String.class));
        c.put("checkedList(LinkedList)", () -> Collections.checkedList(new LinkedList<>(List.of("a")), String.class));
        c.put("checkedQueue", () -> Collections.checkedQueue(new ArrayDeque<>(List.of("a")), String.class));
        c.put("checkedMap", () -> Collections.checkedMap(new HashMap<>(Map.of("a", 1)), String.class, Integer.class));
        c.put("checkedSortedMap", () -> Collections.checkedSortedMap(new TreeMap<>(Map.of("a", 1)), String.class,
                Integer.class));
        c.put("checkedNavigableMap", () -> Collections.checkedNavigableMap(new TreeMap<>(Map.of("a", 1)), String.class,
                Integer.class));
        c.put("emptyList", Collections::emptyList);
        c.put("emptySet", Collections::emptySet);
        c.put("emptyMap", Collections::emptyMap);
        c.put("emptySortedSet", Collections::emptySortedSet);
        c.put("emptyNavigableSet", Collections::emptyNavigableSet);
        c.put("emptySortedMap", Collections::emptySortedMap);
        c.put("emptyNavigableMap", Collections::emptyNavigableMap);
        c.put("singleton", () -> Collections.singleton("a"));
        c.put("singletonList", () -> Collections.singletonList(1));
        c.put("singletonMap", () -> Collections.singletonMap("a", 1));
        c.put("nCopies", () -> Collections.nCopies(3, "x"));
        c.put("newSetFromMap", () -> {
            Set<String> s = Collections.newSetFromMap(new LinkedHashMap<>());
            s.add("b");
            s.add("a");
            return s;
        });
        c.put("reverseOrder(comparator)", () -> sorted(Collections.reverseOrder(new ByLength()), "ccc", "a"));
        c.put("Arrays.asList(String...)", () -> Arrays.asList("a", "b"));
        c.put("Arrays.asList(Integer...)", () -> Arrays.asList(1, 2, 3));
        c.put("List.of", () -> List.of("a", "b", "c"));
        c.put("Set.of", () -> Set.of("a"));
        c.put("Map.of", () -> Map.of("a", 1, "b", 2));
        // Enums and their collections.
        c.put("EnumSet", () -> EnumSet.of(DayOfWeek.MONDAY, DayOfWeek.FRIDAY));
        c.put("EnumSet (empty)", () -> EnumSet.noneOf(DayOfWeek.class));
        c.put("EnumSet (more than 64 constants)", () -> EnumSet.range(Big.B3, Big.B69));
        c.put("EnumMap", () -> new EnumMap<>(Map.of(DayOfWeek.TUESDAY, "tue", DayOfWeek.MONDAY, "mon")));
        c.put("EnumMap (empty)", () -> new EnumMap<>(DayOfWeek.class));
        c.put("enum with constant bodies", () -> Op.TIMES);
        c.put("list of enums with bodies", () -> new ArrayList<>(List.of(Op.PLUS, Op.TIMES, Op.PLUS)));
        // Sorted and ordered maps and sets.
        c.put("TreeMap with a comparator", () -> {
            TreeMap<String, Integer> m = new TreeMap<>(new ByLength());
            m.put("ccc", 3);
            m.put("a", 1);
            return m;
        });
        c.put("TreeSet with reverseOrder", () -> sorted(Collections.reverseOrder(), 1, 3, 2));
        c.put("TreeSet with CASE_INSENSITIVE_ORDER", () -> sorted(String.CASE_INSENSITIVE_ORDER, "b", "A"));
        c.put("TreeMap (natural)", () -> new TreeMap<>(Map.of("b", 2, "a", 1)));
        c.put("LinkedHashMap (access order)", () -> {
            LinkedHashMap<String, Integer> m = new LinkedHashMap<>(16, 0.75f, true);
            m.put("a", 1);
            m.put("b", 2);
            m.put("c", 3);
            m.get("a");
            return m;
        });
        c.put("LinkedHashMap (access order, empty)", () -> new LinkedHashMap<>(16, 0.75f, true));
        c.put("LinkedHashMap (insertion order)", () -> linked("z", "a", "m"));
        c.put("LinkedHashSet", () -> new LinkedHashSet<>(List.of("z", "a", "m")));
        c.put("LRU cache (LinkedHashMap subclass with a field)", () -> {
            Lru<String, Integer> m = new Lru<>(3);
            m.put("a", 1);
            m.put("b", 2);
            return m;
        });
        c.put("ArrayList subclass without fields", () -> new Items(List.of("a", "b")));
        // Concurrent collections.
        c.put("ConcurrentHashMap", () -> new ConcurrentHashMap<>(Map.of("a", 1, "b", 2)));
        c.put("ConcurrentHashMap.newKeySet", () -> {
            Set<String> s = ConcurrentHashMap.newKeySet();
            s.add("a");
            return s;
        });
        c.put("CopyOnWriteArrayList", () -> new CopyOnWriteArrayList<>(List.of(1, 2)));
        c.put("CopyOnWriteArraySet", () -> new CopyOnWriteArraySet<>(List.of(1, 2)));
        c.put("ConcurrentSkipListMap with a comparator", () -> {
            ConcurrentSkipListMap<String, Integer> m = new ConcurrentSkipListMap<>(new ByLength());
            m.put("bb", 2);
            m.put("a", 1);
            return m;
        });
        c.put("ConcurrentSkipListSet with a comparator", () -> {
            ConcurrentSkipListSet<String> s = new ConcurrentSkipListSet<>(new ByLength());
            s.add("bb");
            s.add("a");
            return s;
        });
        c.put("ConcurrentLinkedQueue", () -> new ConcurrentLinkedQueue<>(List.of("a", "b")));
        c.put("ArrayBlockingQueue (capacity 4)", () -> new ArrayBlockingQueue<>(4, false, List.of("a")));
        c.put("LinkedBlockingQueue (capacity 3)", () -> {
            LinkedBlockingQueue<String> q = new LinkedBlockingQueue<>(3);
            q.add("a");
            return q;
        });
        c.put("PriorityBlockingQueue with a comparator", () -> {
            PriorityBlockingQueue<String> q = new PriorityBlockingQueue<>(4, new ByLength());
            q.add("ccc");
            q.add("a");
            return q;
        });
        // Other JDK collections.
        c.put("ArrayList", () -> new ArrayList<>(List.of("a", 1, 2.5)));
        c.put("LinkedList", () -> new LinkedList<>(List.of("a", "b")));
        c.put("HashMap", () -> new HashMap<>(Map.of("a", 1, "b", List.of(2))));
        c.put("HashSet", () -> new HashSet<>(Set.of("a", "b")));
        c.put("ArrayDeque", () -> new ArrayDeque<>(List.of(1, 2)));
        c.put("PriorityQueue with a comparator", () -> {
            PriorityQueue<String> q = new PriorityQueue<>(new ByLength());
            q.add("ccc");
            q.add("a");
            return q;
        });
        c.put("Vector", () -> new Vector<>(List.of(1)));
        c.put("Stack", () -> {
            Stack<String> s = new Stack<>();
            s.push("a");
            return s;
        });
        c.put("Hashtable", () -> new Hashtable<>(Map.of("a", 1)));
        c.put("Properties with defaults", () -> {
            Properties defaults = new Properties();
            defaults.setProperty("color", "blue");
            Properties p = new Properties(defaults);
            p.setProperty("size", "L");
            return p;
        });
        c.put("IdentityHashMap", () -> {
            IdentityHashMap<Object, String> m = new IdentityHashMap<>();
            m.put(new Point(1, 2), "p");
            return m;
        });
        c.put("BitSet", () -> BitSet.valueOf(new long[] {0b101101L}));
        // java.time and other values.
        c.put("LocalDate", () -> LocalDate.of(2024, 2, 29));
        c.put("LocalTime", () -> LocalTime.of(23, 59, 58, 123_456_789));
        c.put("LocalDateTime", () -> LocalDateTime.of(2025, 3, 1, 12, 30, 5));
        c.put("Instant", () -> Instant.ofEpochSecond(1_700_000_000L, 42));
        c.put("ZonedDateTime", () -> ZonedDateTime.of(2025, 10, 26, 2, 30, 0, 0, ZoneId.of("Europe/Paris")));
        c.put("OffsetDateTime", () -> OffsetDateTime.of(2025, 1, 1, 0, 0, 0, 0, ZoneOffset.ofHours(-5)));
        c.put("Duration", () -> Duration.ofMillis(90_061_001));
        c.put("Period", () -> Period.of(1, 2, 3));
        c.put("Year", () -> Year.of(1999));
        c.put("YearMonth", () -> YearMonth.of(2020, 2));
        c.put("MonthDay", () -> MonthDay.of(12, 24));
        c.put("ZoneId", () -> ZoneId.of("America/New_York"));
        c.put("ZoneOffset", () -> ZoneOffset.ofHoursMinutes(5, 30));
        c.put("JapaneseDate", () -> JapaneseDate.of(2020, 1, 1));
        c.put("BigDecimal", () -> new BigDecimal("12345678901234567890.0012300"));
        c.put("BigInteger", () -> new BigInteger("-98765432109876543210"));
        c.put("UUID", () -> UUID.fromString("123e4567-e89b-12d3-a456-426614174000"));
        c.put("URI", () -> URI.create("https://user@example.com:8443/a%20b?q=1#frag"));
        c.put("Locale", () -> Locale.forLanguageTag("sr-Latn-RS-u-ca-gregory"));
        c.put("Currency", () -> Currency.getInstance("CHF"));
        c.put("Date", () -> new Date(1_700_000_000_123L));
        c.put("java.sql.Timestamp with nanos", () -> {
            java.sql.Timestamp t = new java.sql.Timestamp(1_700_000_000_000L);
            t.setNanos(123_456_789);
            return t;
        });
        c.put("java.sql.Date", () -> java.sql.Date.valueOf("2024-02-29"));
        c.put("TimeZone", () -> TimeZone.getTimeZone("Asia/Kolkata"));
        c.put("SimpleTimeZone with rules", () -> new SimpleTimeZone(3_600_000, "Custom", 2, 1, -1, 7_200_000, 9, -1, 1,
                7_200_000));
        c.put("GregorianCalendar", () -> {
            GregorianCalendar cal = new GregorianCalendar(TimeZone.getTimeZone("Europe/Berlin"), Locale.GERMANY);
            cal.setTimeInMillis(1_700_000_000_000L);
            return cal;
        });
        c.put("AtomicInteger", () -> new AtomicInteger(7));
        c.put("AtomicLong", () -> new AtomicLong(-7));
        c.put("AtomicBoolean", () -> new AtomicBoolean(true));
        c.put("AtomicReference", () -> new AtomicReference<>(List.of("x")));
        c.put("LongAdder", () -> {
            LongAdder a = new LongAdder();
            a.add(5);
            return a;
        });
        c.put("Pattern with flags", () -> Pattern.compile("a+b", Pattern.CASE_INSENSITIVE | Pattern.MULTILINE));
        c.put("ReentrantLock", ReentrantLock::new);
        c.put("StringBuilder", () -> new StringBuilder("abc"));
        c.put("exception with a cause", () -> new RuntimeException("outer", new Exception("inner")));
        c.put("arrays", () -> new Object[] {new int[] {1, 2}, new String[] {"a", null}, new char[] {'x'},
                new long[][] {{1L}, {2L, 3L}}, new Point[] {new Point(1, 1)}});
        // Application classes.
        c.put("record", () -> new Line("SKU-1", 2, List.of("gift")));
        c.put("bean with an enum field and shared references", () -> {
            Order o = new Order();
            o.items.add(new Point(1, 2));
            o.alsoItems = o.items;
            o.op = Op.PLUS;
            return o;
        });
        c.put("cycle", () -> {
            Node parent = new Node("parent");
            Node child = new Node("child");
            parent.children.add(child);
            child.parent = parent;
            return parent;
        });
        c.put("writeObject/readObject rebuilding a transient index", () -> new Indexed(List.of("b", "a", "c")));
        c.put("readResolve singleton", () -> Unit.INSTANCE);
        c.put("list holding a readResolve singleton twice", () -> new ArrayList<>(List.of(Unit.INSTANCE, Unit.INSTANCE)));
        c.put("writeReplace serialization proxy", () -> new Money(1999, "EUR"));
        c.put("Externalizable", () -> new Version(3, 2, "rc1"));
        c.put("subclass of a JDK class with hooks", () -> new Tagged("t", Map.of("a", 1)));
        c.put("cart bean with a synchronized set mutated in place", () -> {
            CartBean cart = new CartBean();
            cart.add(new Item("apple"));
            cart.add(new Item("pear"));
            return cart;
        });
        c.put("object shared between a Java-serialized part and the rest", () -> {
            Point shared = new Point(5, 5);
            List<Object> l = new ArrayList<>();
            l.add(shared);
            l.add(new Holder(shared));
            return l;
        });
        // Frameworks.
        c.put("Spring Security SecurityContextImpl", CodecCorpusTest::securityContext);
        c.put("Spring Security BadCredentialsException", () -> new BadCredentialsException("Bad credentials"));
        c.put("Guava ImmutableList", () -> ImmutableList.of("a", "b", "c"));
        c.put("Guava ImmutableMap", () -> ImmutableMap.of("a", 1, "b", List.of(2)));
        c.put("Guava ImmutableSet of records", () -> ImmutableSet.of(new Line("a", 1, List.of()),
                new Line("b", 2, List.of("x"))));
        c.put("Mojarra server-side view state map", CodecCorpusTest::facesViewState);
        c.put("a session bag of everything", () -> {
            Map<String, Object> bag = new HashMap<>();
            bag.put("auth", securityContext());
            bag.put("cart", Collections.synchronizedList(new ArrayList<>(List.of(new Item("x")))));
            bag.put("when", LocalDateTime.of(2025, 1, 2, 3, 4));
            bag.put("tags", ImmutableList.of("t1"));
            return bag;
        });
        return c;
    }

    @SafeVarargs
    private static <T> TreeSet<T> sorted(Comparator<? super T> order, T... elements) {
        TreeSet<T> s = new TreeSet<>(order);
        s.addAll(Arrays.asList(elements));
        return s;
    }

    private static LinkedHashMap<String, Integer> linked(String... keys) {
        LinkedHashMap<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < keys.length; i++) {
            m.put(keys[i], i);
        }
        return m;
    }

    static SecurityContextImpl securityContext() {
        List<SimpleGrantedAuthority> authorities = List.of(new SimpleGrantedAuthority("ROLE_USER"),
                new SimpleGrantedAuthority("ROLE_ADMIN"));
        User user = new User("jdoe", "", true, true, true, true, authorities);
        UsernamePasswordAuthenticationToken token = UsernamePasswordAuthenticationToken.authenticated(user, null,
                authorities);
        token.setDetails("remote=127.0.0.1");
        return new SecurityContextImpl(token);
    }

    /** What Mojarra keeps under com.sun.faces.logicalViewMap with server-side state saving. */
    static Map<String, Map<String, Object[]>> facesViewState() {
        Map<String, Map<String, Object[]>> logical = Collections.synchronizedMap(new LRUMap<>(15));
        LRUMap<String, Object[]> views = new LRUMap<>(25);
        Object[] structure = {new Object[] {"jakarta.faces.component.UIViewRoot", "j_id1"},
                new Object[] {"jakarta.faces.component.html.HtmlForm", "form"}};
        Map<String, Object> state = new HashMap<>();
        state.put("form:name", new Object[] {"Jane", Boolean.TRUE});
        state.put("form:items", new ArrayList<>(List.of("a", "b")));
        views.put("-123456789:1", new Object[] {structure, state});
        views.put("-123456789:2", new Object[] {structure, new HashMap<>(state)});
        logical.put("-123456789", views);
        return logical;
    }

    // ---- application-like classes ----

    /** Compares strings by length, then naturally. */
    static final class ByLength implements Comparator<String>, Serializable {
        @Serial
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(String a, String b) {
            int d = Integer.compare(a.length(), b.length());
            return d != 0 ? d : a.compareTo(b);
        }
    }

    enum Op {
        PLUS {
            @Override
            int apply(int a, int b) {
                return a + b;
            }
        },
        TIMES {
            @Override
            int apply(int a, int b) {
                return a * b;
            }
        };

        abstract int apply(int a, int b);
    }

    enum Big {
        B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17, B18, B19, B20, B21, B22, B23,
        B24, B25, B26, B27, B28, B29, B30, B31, B32, B33, B34, B35, B36, B37, B38, B39, B40, B41, B42, B43, B44, B45,
        B46, B47, B48, B49, B50, B51, B52, B53, B54, B55, B56, B57, B58, B59, B60, B61, B62, B63, B64, B65, B66, B67,
        B68, B69
    }

    /** A plain bean without equals: compared by its fields. */
    static final class Point implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        final int x;
        final int y;

        Point(int x, int y) {
            this.x = x;
            this.y = y;
        }
    }

    /** Holds a reference that is also elsewhere in the same value; Java-serialized (it has writeObject). */
    static final class Holder implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        Point point;

        Holder(Point point) {
            this.point = point;
        }

        @Serial
        private void writeObject(ObjectOutputStream out) throws IOException {
            out.defaultWriteObject();
        }
    }

    record Line(String sku, int quantity, List<String> notes) implements Serializable {
        Line {
            Objects.requireNonNull(sku);
            notes = List.copyOf(notes);
        }
    }

    static final class Order implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        final List<Point> items = new ArrayList<>();
        List<Point> alsoItems;
        Op op;
    }

    static final class Node implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        final String name;
        Node parent;
        final List<Node> children = new ArrayList<>();

        Node(String name) {
            this.name = name;
        }
    }

    /** Keeps a sorted index that it does not serialize and rebuilds in readObject. */
    static final class Indexed implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        private final List<String> values;
        private transient TreeMap<String, Integer> index;

        Indexed(List<String> values) {
            this.values = new ArrayList<>(values);
            rebuild();
        }

        private void rebuild() {
            index = new TreeMap<>();
            for (int i = 0; i < values.size(); i++) {
                index.put(values.get(i), i);
            }
        }

        @Serial
        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            rebuild();
        }
    }

    /** A singleton that stays one across serialization. */
    static final class Unit implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        static final Unit INSTANCE = new Unit();

        private Unit() {
        }

        @Serial
        private Object readResolve() {
            return INSTANCE;
        }
    }

    /** The serialization proxy pattern: the value travels as a Proxy, readResolve builds it back. */
    static final class Money implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        private final long cents;
        private final String currency;
        private final transient String display;

        Money(long cents, String currency) {
            this.cents = cents;
            this.currency = currency;
            this.display = currency + " " + cents / 100 + "." + cents % 100;
        }

        @Serial
        private Object writeReplace() {
            return new Proxy(cents, currency);
        }

        @Serial
        private void readObject(ObjectInputStream in) throws IOException {
            throw new java.io.InvalidObjectException("proxy required");
        }

        private static final class Proxy implements Serializable {
            @Serial
            private static final long serialVersionUID = 1L;
            private final long cents;
            private final String currency;

            Proxy(long cents, String currency) {
                this.cents = cents;
                this.currency = currency;
            }

            @Serial
            private Object readResolve() {
                return new Money(cents, currency);
            }
        }
    }

    /** Writes itself its own way. */
    public static final class Version implements Externalizable {
        @Serial
        private static final long serialVersionUID = 1L;
        private int major;
        private int minor;
        private String label;
        private transient String text;

        public Version() {
        }

        Version(int major, int minor, String label) {
            this.major = major;
            this.minor = minor;
            this.label = label;
            this.text = major + "." + minor + "-" + label;
        }

        @Override
        public void writeExternal(ObjectOutput out) throws IOException {
            out.writeInt(major);
            out.writeInt(minor);
            out.writeUTF(label);
        }

        @Override
        public void readExternal(ObjectInput in) throws IOException {
            major = in.readInt();
            minor = in.readInt();
            label = in.readUTF();
            text = major + "." + minor + "-" + label;
        }
    }

    /** A HashMap with a field of its own (Kryo's MapSerializer would drop it). */
    static final class Tagged extends HashMap<String, Integer> {
        @Serial
        private static final long serialVersionUID = 1L;
        final String tag;

        Tagged(String tag, Map<String, Integer> m) {
            super(m);
            this.tag = tag;
        }
    }

    /** An ArrayList that is only its elements. */
    static final class Items extends ArrayList<String> {
        @Serial
        private static final long serialVersionUID = 1L;

        Items() {
        }

        Items(Collection<String> c) {
            super(c);
        }
    }

    /** An LRU cache: at most maxEntries, the least recently read evicted. */
    static final class Lru<K, V> extends LinkedHashMap<K, V> {
        @Serial
        private static final long serialVersionUID = 1L;
        private final int maxEntries;

        Lru(int maxEntries) {
            super(16, 0.75f, true);
            this.maxEntries = maxEntries;
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > maxEntries;
        }
    }

    /** A session-scoped cart whose items live in a synchronized set, mutated in place. */
    public static final class CartBean implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        private final Set<Item> items = Collections.synchronizedSet(new HashSet<>());

        public void add(Item item) {
            items.add(item);
        }
    }

    /** A cart item without equals or hashCode: hashed by identity. */
    public static final class Item implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        final String name;

        Item(String name) {
            this.name = name;
        }
    }

}
