package io.sessionagent.filter.core;

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The filter's end-of-request delta: Kryo serializes the changed attributes and digests them, as
 * {@code SessionData.takeDelta} does in the filter core. A session of 10 attributes; each request
 * sets one (a ~1 KB cart) and reads three others, which under on-read-change are serialized too
 * and compared by digest. In this package because takeDelta is the filter's internal API.
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

    private AttributeCodec codec;
    private SessionData session;
    private Cart cart;
    private byte[] serializedCart;

    @Setup
    public void setUp() {
        codec = new AttributeCodec(KryoDeltaBenchmark.class.getClassLoader(), 1 << 20, new FilterCounters());
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
        if (serializedCart == null || serializedCart.length < 600) {
            throw new IllegalStateException("cart serialized to " + (serializedCart == null ? "nothing"
                    : serializedCart.length + " bytes"));
        }
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
