package io.sessionagent.bench.jmh;

import io.sessionagent.filter.core.codec.AttributeCodec;
import io.sessionagent.filter.core.codec.ClassAllowList;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.core.session.LocalAttributes;
import io.sessionagent.filter.core.session.SaveMode;
import io.sessionagent.filter.core.session.SessionData;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.Serializable;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The filter's end-of-request delta: Kryo serializes the changed attributes and digests them, as
 * {@code SessionData.takeDelta} does in the filter core. A session of 10 attributes; each request
 * sets one (a ~1 KB cart) and reads three others, which under on-read-change are serialized too
 * and compared by digest. Besides, a session of mixed attribute types (a bean, lists, maps, numbers,
 * dates, an enum, a token; about 1 KB serialized) encoded and decoded whole, as a whole-session
 * write and a restore after a failover do. In this package because takeDelta is the filter's
 * internal API.
 *
 * <pre>java -jar bench/agent-bench/target/benchmarks.jar KryoDeltaBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class KryoDeltaBenchmark {
    /** A typical application attribute: a small object graph of about 1 KB serialized. */
    public static final class Cart implements Serializable {
        private static final long serialVersionUID = 1L;
        final String owner;
        final List<Item> items = new ArrayList<>();
        final Map<String, String> notes = new LinkedHashMap<>();
        int revision;

        Cart(String owner) {
            this.owner = owner;
        }
    }

    /** One line of a cart. */
    public static final class Item implements Serializable {
        private static final long serialVersionUID = 1L;
        final String sku;
        final String title;
        final int quantity;
        final long priceCents;

        Item(String sku, String title, int quantity, long priceCents) {
            this.sku = sku;
            this.title = title;
            this.quantity = quantity;
            this.priceCents = priceCents;
        }
    }

    /** How a user signed in; an enum field of {@link Profile}. */
    public enum Login {
        PASSWORD, SSO, TOKEN
    }

    /** A small bean of a user's preferences and state. */
    public static final class Profile implements Serializable {
        private static final long serialVersionUID = 1L;
        String userName;
        String displayName;
        Login login;
        int visits;
        boolean newsletter;
        LocalDate birthDate;
        final List<String> roles = new ArrayList<>();
    }

    /** {@link Profile} with the serialization hooks of Java serialization: the codec's fallback carries it. */
    public static final class AuditedProfile implements Serializable {
        private static final long serialVersionUID = 1L;
        String userName;
        String displayName;
        Login login;
        int visits;
        boolean newsletter;
        LocalDate birthDate;
        final List<String> roles = new ArrayList<>();
        private transient int readCount;

        private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
            in.defaultReadObject();
            readCount = 0;
        }
    }

    private AttributeCodec codec;
    private SessionData session;
    private Profile profile;
    private AuditedProfile audited;
    private byte[] profileBytes;
    private byte[] auditedBytes;
    private Object synchronizedCart;
    private byte[] synchronizedCartBytes;
    /** A session of mixed attribute types, about 1 KB serialized in all, each attribute a value of its own. */
    private Object[] mixed;
    private byte[][] mixedBytes;
    private Cart cart;
    private byte[] serializedCart;

    @Setup
    public void setUp() {
        // The benchmark's classes come from a jar: a library as far as the default allow-list goes.
        codec = new AttributeCodec(KryoDeltaBenchmark.class.getClassLoader(), 1 << 20,
                ClassAllowList.parse(KryoDeltaBenchmark.class.getName() + "*"), new FilterCounters());
        cart = new Cart("user-1234");
        for (int i = 0; i < 12; i++) {
            cart.items.add(new Item("SKU-" + (100_000 + i), "Item number " + i + " with a longer title", i + 1,
                    199L * i));
        }
        cart.notes.put("gift", "wrap it in blue paper please");
        session = new SessionData("bench-session", 0, 0, 1800, true);
        session.setAttribute("cart", cart);
        for (int i = 0; i < 9; i++) {
            session.setAttribute("attr" + i, "value of attribute number " + i);
        }
        SessionData.Delta first = session.takeDelta(SaveMode.ON_READ_CHANGE, codec, null, 0, LocalAttributes.NONE);
        session.handedOff(first, true);
        session.acknowledged(first.baseVersion, 1);
        serializedCart = codec.serialize("cart", cart);
        mixed = mixedSession();
        profile = (Profile) mixed[0];
        audited = new AuditedProfile();
        audited.userName = profile.userName;
        audited.displayName = profile.displayName;
        audited.login = profile.login;
        audited.visits = profile.visits;
        audited.newsletter = profile.newsletter;
        audited.birthDate = profile.birthDate;
        audited.roles.addAll(profile.roles);
        profileBytes = codec.serialize("profile", profile);
        auditedBytes = codec.serialize("audited", audited);
        synchronizedCart = java.util.Collections.synchronizedList(new ArrayList<>(cart.items));
        synchronizedCartBytes = codec.serialize("items", synchronizedCart);
        if (profileBytes == null || auditedBytes == null || synchronizedCartBytes == null) {
            throw new IllegalStateException("a value of the fallback benchmarks was not serialized");
        }
        mixedBytes = new byte[mixed.length][];
        int total = 0;
        for (int i = 0; i < mixed.length; i++) {
            mixedBytes[i] = codec.serialize("m" + i, mixed[i]);
            if (mixedBytes[i] == null) {
                throw new IllegalStateException(mixed[i].getClass().getName() + " was not serialized");
            }
            total += mixedBytes[i].length;
        }
        if (total < 900 || total > 1300) {
            throw new IllegalStateException("the mixed session serialized to " + total + " bytes, not about 1 KB");
        }
        if (serializedCart == null || serializedCart.length < 600) {
            throw new IllegalStateException("cart serialized to " + (serializedCart == null ? "nothing"
                    : serializedCart.length + " bytes"));
        }
    }

    /** Attribute types a web application keeps in its session, every one of which Kryo alone already carried. */
    static Object[] mixedSession() {
        Profile p = new Profile();
        p.userName = "jdoe@example.com";
        p.displayName = "Jane Doe";
        p.login = Login.SSO;
        p.visits = 42;
        p.newsletter = true;
        p.birthDate = LocalDate.of(1990, 5, 17);
        p.roles.add("ROLE_USER");
        p.roles.add("ROLE_BUYER");
        List<String> recent = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            recent.add("/catalog/product/" + (4711 + i));
        }
        Map<String, Integer> quantities = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            quantities.put("SKU-" + (100_000 + i), i + 1);
        }
        Map<String, String> filters = new LinkedHashMap<>();
        filters.put("category", "shoes");
        filters.put("size", "42");
        filters.put("color", "blue");
        filters.put("sort", "price-asc");
        filters.put("brand", "any");
        filters.put("page", "3");
        byte[] token = new byte[64];
        for (int i = 0; i < token.length; i++) {
            token[i] = (byte) (i * 31);
        }
        return new Object[] {p, recent, quantities, filters, token, 17, 1_700_000_000_000L, "de-CH",
                Locale.GERMANY, new BigDecimal("1234.50"), LocalDateTime.of(2025, 3, 1, 12, 30, 5),
                new Date(1_700_000_000_000L), Login.PASSWORD, Boolean.TRUE, "csrf-3f9a0c2b7e5d4a1f"};
    }

    /** Every attribute of the mixed session serialized, as a whole-session write does. */
    @Benchmark
    public int encodeMixedSession() {
        int n = 0;
        for (int i = 0; i < mixed.length; i++) {
            n += codec.serialize("m", mixed[i]).length;
        }
        return n;
    }

    /** Every attribute of the mixed session read back, as a restore after a failover does. */
    @Benchmark
    public int decodeMixedSession() {
        int n = 0;
        for (byte[] b : mixedBytes) {
            n += codec.deserialize(b).hashCode() & 1;
        }
        return n;
    }

    /** A small bean through Kryo's FieldSerializer... */
    @Benchmark
    public byte[] encodeBeanKryo() {
        return codec.serialize("profile", profile);
    }

    @Benchmark
    public Object decodeBeanKryo() {
        return codec.deserialize(profileBytes);
    }

    /** ...and the same bean with a readObject, which sends it through Java serialization: the fallback's cost. */
    @Benchmark
    public byte[] encodeBeanJavaFallback() {
        return codec.serialize("audited", audited);
    }

    @Benchmark
    public Object decodeBeanJavaFallback() {
        return codec.deserialize(auditedBytes);
    }

    /** The cart's items in a Collections.synchronizedList: a dedicated serializer, the items through Kryo. */
    @Benchmark
    public byte[] encodeSynchronizedList() {
        return codec.serialize("items", synchronizedCart);
    }

    @Benchmark
    public Object decodeSynchronizedList() {
        return codec.deserialize(synchronizedCartBytes);
    }

    @Benchmark
    public byte[] serializeCart() {
        return codec.serialize("cart", cart);
    }

    @Benchmark
    public Object deserializeCart() {
        return codec.deserialize(serializedCart);
    }

    /** One request's delta: one attribute set, three read and unchanged. */
    @Benchmark
    public int takeDeltaOneSetThreeRead() {
        cart.revision++;
        session.setAttribute("cart", cart);
        session.getAttribute("attr0");
        session.getAttribute("attr1");
        session.getAttribute("attr2");
        SessionData.Delta d = session.takeDelta(SaveMode.ON_READ_CHANGE, codec, null, 0, LocalAttributes.NONE);
        // As the filter does: handed to the agent, then its answer.
        session.handedOff(d, true);
        session.acknowledged(d.baseVersion, session.version());
        return d.bytes();
    }
}
