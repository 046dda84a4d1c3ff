package io.sessionagent.filter.core.codec;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.ScriptedAgent;
import io.sessionagent.filter.core.SessionManager;
import io.sessionagent.filter.core.agent.AgentClientTest;
import io.sessionagent.filter.core.session.SessionData;
import io.sessionagent.filter.core.FilterSettings;
import io.sessionagent.filter.core.metrics.FilterCounters;
import com.google.protobuf.ByteString;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.management.BadAttributeValueExpException;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.logging.LogRecord;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The class allow-list: its patterns, its default, and crafted payloads of classes outside it
 * whose static initializer, constructor or readObject would run code. Each such class records
 * that it ran in a system property; a refused payload must leave the property unset (nothing of
 * the class was initialized or instantiated), be counted, and leave the other attributes be.
 */
class ClassAllowListTest {
    @TempDir
    Path dir;

    @AfterEach
    void clearTraces() {
        for (String p : List.of("gadget.static", "gadget.constructor", "gadget.readObject", "gadget.readResolve")) {
            System.clearProperty(p);
        }
    }

    /** Gadget classes compiled into a jar: a library, as far as the default is concerned. */
    private URLClassLoader libraryLoader() throws Exception {
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve("gadget"));
        Files.writeString(src.resolve("gadget/Boom.java"), """
                package gadget;
                public class Boom {
                    static { System.setProperty("gadget.static", "ran"); }
                    public String payload = "x";
                    public Boom() { System.setProperty("gadget.constructor", "ran"); }
                }
                """);
        Files.writeString(src.resolve("gadget/Bomb.java"), """
                package gadget;
                public class Bomb implements java.io.Serializable {
                    private static final long serialVersionUID = 1L;
                    public String payload = "x";
                    private void readObject(java.io.ObjectInputStream in) throws Exception {
                        System.setProperty("gadget.readObject", "ran");
                        in.defaultReadObject();
                    }
                    private Object readResolve() {
                        System.setProperty("gadget.readResolve", "ran");
                        return this;
                    }
                }
                """);
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac.run(null, null, null, "-d", classes.toString(), src.resolve("gadget/Boom.java").toString(),
                src.resolve("gadget/Bomb.java").toString())).isZero();
        Path jar = dir.resolve("gadgets.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return new URLClassLoader(new URL[] {jar.toUri().toURL()}, getClass().getClassLoader());
    }

    private static void assertNothingRan() {
        for (String p : List.of("gadget.static", "gadget.constructor", "gadget.readObject", "gadget.readResolve")) {
            assertThat(System.getProperty(p)).as(p).isNull();
        }
    }

    @Test
    void patterns() {
        ClassAllowList l = ClassAllowList.parse("com.example.Cart, org.shop.*  net.app.** com.acme.Bean* !java.util.UUID");
        assertThat(l.patterns()).isEqualTo("com.example.Cart,org.shop.*,net.app.**,com.acme.Bean*,!java.util.UUID");
        assertThat(l.allows(Cart.class)).as("own class").isTrue();
        assertThat(l.allows(java.util.UUID.class)).as("refused by !").isFalse();
        assertThat(l.allows(String.class)).isTrue();
        assertThat(ClassAllowList.parse("*").allowsEverything()).isTrue();
        assertThat(ClassAllowList.parse("*").allows(BadAttributeValueExpException.class)).isTrue();
        assertThat(ClassAllowList.parse("!*").allows(String.class)).isFalse();
        assertThat(ClassAllowList.parse("javax.management.*").allows(BadAttributeValueExpException.class)).isTrue();
        assertThat(ClassAllowList.parse("javax.*").allows(BadAttributeValueExpException.class))
                .as("javax.* is the package javax only").isFalse();
        assertThat(ClassAllowList.parse("javax.**").allows(BadAttributeValueExpException.class)).isTrue();
        assertThat(ClassAllowList.parse("javax.management.BadAttr*").allows(BadAttributeValueExpException.class))
                .isTrue();
        assertThatThrownBy(() -> ClassAllowList.parse("com.example.**.x, ok.Name, a b*c, 1abc"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'com.example.**.x'").hasMessageContaining("'b*c'").hasMessageContaining("'1abc'")
                .hasMessageNotContaining("'ok.Name'");
        assertThatThrownBy(() -> FilterSettings.parse(n -> n.equals(FilterSettings.ALLOWED_CLASSES) ? "a..b" : null, ""))
                .hasMessageContaining("allowed-classes 'a..b'");
        assertThat(FilterSettings.parse(n -> n.equals(FilterSettings.ALLOWED_CLASSES) ? "com.example.**" : null, "")
                .allowedClasses().patterns()).isEqualTo("com.example.**");
    }

    @Test
    void theDefaultAllowsJdkValuesCollectionsAndTheApplicationsOwnClassesOnly() throws Exception {
        ClassAllowList d = ClassAllowList.DEFAULT;
        for (Class<?> c : List.of(String.class, Integer.class, java.math.BigDecimal.class, java.time.ZonedDateTime.class,
                java.util.UUID.class, java.net.URI.class, java.util.ArrayList.class, java.util.HashMap.class,
                java.util.concurrent.ConcurrentHashMap.class, java.util.Collections.synchronizedSet(new java.util.HashSet<>())
                        .getClass(), List.of().getClass(), int[].class, String[][].class, Cart.class, Cart[].class)) {
            assertThat(d.allows(c)).as(c.getName()).isTrue();
        }
        // Gadget chain members of the JDK and any library class.
        for (Class<?> c : List.of(BadAttributeValueExpException.class, java.net.URL.class, java.lang.reflect.Proxy.class,
                javax.naming.InitialContext.class, com.google.common.collect.ImmutableList.class,
                com.esotericsoftware.kryo.Kryo.class)) {
            assertThat(d.allows(c)).as(c.getName()).isFalse();
        }
        try (URLClassLoader lib = libraryLoader()) {
            Class<?> boom = Class.forName("gadget.Boom", false, lib);
            assertThat(d.allows(boom)).as("a class from a jar").isFalse();
            assertThat(ClassAllowList.parse("gadget.**").allows(boom)).isTrue();
        }
        assertNothingRan();
    }

    @Test
    void aCraftedKryoPayloadIsRefusedBeforeItsClassIsInitializedOrInstantiated() throws Exception {
        try (URLClassLoader lib = libraryLoader()) {
            // Another node (or an attacker) that allows everything writes a Boom in a map.
            AttributeCodec writer = new AttributeCodec(lib, 1 << 20, ClassAllowList.parse("*"), new FilterCounters());
            Object boom = lib.loadClass("gadget.Boom").getConstructor().newInstance();
            Map<String, Object> value = new HashMap<>(Map.of("ok", 1, "evil", boom));
            byte[] bytes = writer.serialize("m", value);
            assertThat(bytes).isNotNull();
            clearTraces();

            // A fresh loader: the class has never been loaded, let alone initialized, in it.
            try (URLClassLoader fresh = new URLClassLoader(lib.getURLs(), getClass().getClassLoader())) {
                FilterCounters counters = new FilterCounters();
                AttributeCodec reader = new AttributeCodec(fresh, 1 << 20, ClassAllowList.DEFAULT, counters);
                assertThatThrownBy(() -> reader.deserialize(bytes)).isInstanceOf(RefusedClassException.class)
                        .hasMessageContaining("gadget.Boom").hasMessageContaining("allowed-classes");
                assertNothingRan();
                // The same bytes with the class allowed: the constructor runs (the test can fail).
                AttributeCodec allowing = new AttributeCodec(fresh, 1 << 20, ClassAllowList.parse("gadget.*"), counters);
                assertThat(((Map<?, ?>) allowing.deserialize(bytes)).get("ok")).isEqualTo(1);
                assertThat(System.getProperty("gadget.constructor")).isEqualTo("ran");
            }
        }
    }

    @Test
    void aCraftedJavaSerializationPayloadIsRefusedBeforeReadObjectRuns() throws Exception {
        try (URLClassLoader lib = libraryLoader()) {
            AttributeCodec writer = new AttributeCodec(lib, 1 << 20, ClassAllowList.parse("*"), new FilterCounters());
            Object bomb = lib.loadClass("gadget.Bomb").getConstructor().newInstance();
            // It has readObject: it goes through Java serialization, inside a list.
            byte[] bytes = writer.serialize("l", new ArrayList<>(List.of("ok", bomb)));
            assertThat(bytes).isNotNull();
            // A JDK class of the known gadget chains, whose readObject calls toString on what it holds.
            byte[] jdkGadget = writer.serialize("g", new BadAttributeValueExpException("x"));
            assertThat(jdkGadget).isNotNull();
            clearTraces();

            AttributeCodec reader = new AttributeCodec(lib, 1 << 20, ClassAllowList.DEFAULT, new FilterCounters());
            assertThatThrownBy(() -> reader.deserialize(bytes)).isInstanceOf(RefusedClassException.class)
                    .hasMessageContaining("gadget.Bomb");
            assertThatThrownBy(() -> reader.deserialize(jdkGadget)).isInstanceOf(RefusedClassException.class)
                    .hasMessageContaining("javax.management.BadAttributeValueExpException");
            assertNothingRan();
            AttributeCodec allowing = new AttributeCodec(lib, 1 << 20, ClassAllowList.parse("gadget.*"),
                    new FilterCounters());
            assertThat((List<?>) allowing.deserialize(bytes)).hasSize(2);
            assertThat(System.getProperty("gadget.readObject")).isEqualTo("ran");
        }
    }

    @Test
    void aValueHoldingARefusedClassIsNotSentCountedPerClassAndLoggedOncePerClass() throws Exception {
        try (LogCapture log = new LogCapture(AttributeCodec.class); URLClassLoader lib = libraryLoader()) {
            List<LogRecord> logged = log.records();
            FilterCounters counters = new FilterCounters();
            AttributeCodec codec = new AttributeCodec(lib, 1 << 20, ClassAllowList.DEFAULT, counters);
            Object boom = lib.loadClass("gadget.Boom").getConstructor().newInstance();
            assertThat(codec.serialize("a", List.of(boom))).isNull();
            assertThat(codec.serialize("b", boom)).isNull();
            assertThat(codec.serialize("c", new java.net.URL("http://example.com/"))).isNull();
            assertThat(codec.serialize("d", "fine")).isNotNull();
            assertThat(counters.get(FilterCounter.REFUSED_ATTRIBUTES)).isEqualTo(3);
            assertThat(counters.get(FilterCounter.SKIPPED_ATTRIBUTES)).as("not replicated").isEqualTo(3);
            assertThat(counters.refusedAttributesByClass()).containsExactly(Map.entry("gadget.Boom", 2L),
                    Map.entry("java.net.URL", 1L));
            assertThat(logged).hasSize(2);
            assertThat(logged.get(0).getMessage()).contains("'a'", "gadget.Boom", "allowed-classes", "gadget.**");
        }
    }

    @Test
    void aRefusedAttributeFromTheAgentIsLeftOutAndTheOthersSurvive() throws Exception {
        try (URLClassLoader lib = libraryLoader(); ScriptedAgent agent = new ScriptedAgent(0)) {
            AttributeCodec writer = new AttributeCodec(lib, 1 << 20, ClassAllowList.parse("*"), new FilterCounters());
            byte[] evil = writer.serialize("evil", lib.loadClass("gadget.Boom").getConstructor().newInstance());
            byte[] count = writer.serialize("count", 41);
            byte[] cart = writer.serialize("cart", new ArrayList<>(List.of("apple")));
            clearTraces();
            String id = "abcdefghijklmnopqrstuvwxyz0";
            agent.put(SessionRecord.newBuilder().setId(id).setVersion(3).setCreationTimeMs(System.currentTimeMillis())
                    .setLastAccessTimeMs(System.currentTimeMillis()).setMaxInactiveSeconds(1800)
                    .addAttributes(Attribute.newBuilder().setName("count").setValue(ByteString.copyFrom(count)))
                    .addAttributes(Attribute.newBuilder().setName("evil").setValue(ByteString.copyFrom(evil)))
                    .addAttributes(Attribute.newBuilder().setName("cart").setValue(ByteString.copyFrom(cart))).build());
            FilterSettings settings = FilterSettings.parse(name -> switch (name) {
                case FilterSettings.AGENT_ADDRESS -> "127.0.0.1:" + agent.port();
                case FilterSettings.ROUTE -> "node2";
                default -> null;
            }, "");
            try (URLClassLoader fresh = new URLClassLoader(lib.getURLs(), getClass().getClassLoader());
                 SessionManager m = new SessionManager(settings, fresh, new AgentClientTest.NoEvents(),
                         System::currentTimeMillis)) {
                SessionManager.Found f = m.find(id + ".node1");
                assertThat(f).isNotNull();
                SessionData s = f.session();
                assertThat(s.getAttribute("count")).isEqualTo(41);
                assertThat(s.getAttribute("cart")).isEqualTo(List.of("apple"));
                assertThat(s.getAttribute("evil")).isNull();
                assertThat(m.counters().get(FilterCounter.REFUSED_ATTRIBUTES)).isEqualTo(1);
                assertThat(m.counters().refusedAttributesByClass()).containsExactly(Map.entry("gadget.Boom", 1L));
                assertThat(m.counters().get(FilterCounter.DESERIALIZE_FAILURES)).isZero();
                assertThat(m.counters().get(FilterCounter.FAILOVER_RESTORES)).isEqualTo(1);
                assertNothingRan();
            }
        }
    }

    /** Not a refusal: a class this node does not have. Counted per class as a decode failure. */
    @Test
    void aValueThatCannotBeReadHereIsCountedPerClassAndTheOthersSurvive() throws Exception {
        try (URLClassLoader lib = libraryLoader(); ScriptedAgent agent = new ScriptedAgent(0)) {
            AttributeCodec writer = new AttributeCodec(lib, 1 << 20, ClassAllowList.parse("*"), new FilterCounters());
            Object bomb = lib.loadClass("gadget.Bomb").getConstructor().newInstance();
            byte[] missing = writer.serialize("missing", new ArrayList<>(List.of(bomb)));
            byte[] count = writer.serialize("count", 7);
            String id = "bcdefghijklmnopqrstuvwxyz01";
            agent.put(SessionRecord.newBuilder().setId(id).setVersion(1).setCreationTimeMs(System.currentTimeMillis())
                    .setLastAccessTimeMs(System.currentTimeMillis()).setMaxInactiveSeconds(1800)
                    .addAttributes(Attribute.newBuilder().setName("missing").setValue(ByteString.copyFrom(missing)))
                    .addAttributes(Attribute.newBuilder().setName("count").setValue(ByteString.copyFrom(count))).build());
            FilterSettings settings = FilterSettings.parse(name -> switch (name) {
                case FilterSettings.AGENT_ADDRESS -> "127.0.0.1:" + agent.port();
                case FilterSettings.ROUTE -> "node2";
                case FilterSettings.ALLOWED_CLASSES -> "gadget.**";
                default -> null;
            }, "");
            // This node's class loader has no gadget classes at all.
            try (SessionManager m = new SessionManager(settings, getClass().getClassLoader(),
                    new AgentClientTest.NoEvents(), System::currentTimeMillis)) {
                SessionData s = m.find(id + ".node1").session();
                assertThat(s.getAttribute("count")).isEqualTo(7);
                assertThat(s.getAttribute("missing")).isNull();
                assertThat(m.counters().get(FilterCounter.DESERIALIZE_FAILURES)).isEqualTo(1);
                // Named by the class this node lacks, not by the list that held it.
                assertThat(m.counters().deserializeFailuresByClass()).containsExactly(Map.entry("gadget.Bomb", 1L));
                assertThat(m.counters().get(FilterCounter.REFUSED_ATTRIBUTES)).isZero();
            }
        }
    }

    /** An application class: loaded from the build's class directory. */
    static final class Cart implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
    }
}
