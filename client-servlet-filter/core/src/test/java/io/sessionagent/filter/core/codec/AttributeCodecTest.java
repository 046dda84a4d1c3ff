package io.sessionagent.filter.core.codec;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.metrics.FilterCounters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.net.Socket;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.LogRecord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AttributeCodecTest {
    @TempDir
    Path dir;

    /** A class only a web-app-like loader can see, compiled at test time. */
    private URLClassLoader webAppLoader() throws Exception {
        Path src = dir.resolve("shop/Cart.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, """
                package shop;
                public class Cart {
                    public final java.util.List<String> items = new java.util.ArrayList<>();
                    public Cart self = this;
                    public Cart(String first) { items.add(first); }
                }
                """);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac.run(null, null, null, "-d", dir.toString(), src.toString())).isZero();
        return new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader());
    }

    @Test
    void customClassRoundTripsThroughTheGivenClassLoader() throws Exception {
        try (URLClassLoader writerLoader = webAppLoader(); URLClassLoader readerLoader = webAppLoader()) {
            Object cart = writerLoader.loadClass("shop.Cart").getConstructor(String.class).newInstance("apple");
            FilterCounters counters = new FilterCounters();
            byte[] bytes = new AttributeCodec(writerLoader, 1 << 20, counters).serialize("cart", cart);
            assertThat(bytes).isNotNull();

            Object back = new AttributeCodec(readerLoader, 1 << 20, counters).deserialize(bytes);
            assertThat(back.getClass().getClassLoader()).isSameAs(readerLoader);
            assertThat(back.getClass().getField("items").get(back)).isEqualTo(List.of("apple"));
            // References on: the cycle comes back as a cycle.
            assertThat(back.getClass().getField("self").get(back)).isSameAs(back);

            // The filter's own loader cannot see the class: the loader passed in is the one used.
            assertThatThrownBy(() -> new AttributeCodec(getClass().getClassLoader(), 1 << 20, counters)
                    .deserialize(bytes)).hasMessageContaining("shop.Cart");
        }
    }

    @Test
    void plainValuesRoundTrip() {
        AttributeCodec codec = new AttributeCodec(getClass().getClassLoader(), 1 << 20, new FilterCounters());
        Map<String, Object> m = new HashMap<>();
        m.put("n", 42);
        m.put("list", new ArrayList<>(List.of("a", "b")));
        assertThat(codec.deserialize(codec.serialize("m", m))).isEqualTo(m);
        assertThat(codec.deserialize(codec.serialize("s", "text"))).isEqualTo("text");
    }

    static final class HoldsSocket {
        final Socket socket = new Socket();
        final String name = "conn";
    }

    @Test
    void unserializableValuesAreSkippedCountedAndLoggedOncePerName() throws Exception {
        try (LogCapture log = new LogCapture(AttributeCodec.class)) {
            List<LogRecord> logged = log.records();
            FilterCounters counters = new FilterCounters();
            AttributeCodec codec = new AttributeCodec(getClass().getClassLoader(), 1 << 20, counters);
            HoldsSocket holder = new HoldsSocket();
            assertThat(codec.serialize("worker", new Thread())).isNull();
            assertThat(codec.serialize("worker", new Thread())).isNull();
            assertThat(codec.serialize("conn", holder)).isNull();
            assertThat(codec.serialize("conn", holder)).isNull();
            assertThat(counters.get(FilterCounter.SKIPPED_ATTRIBUTES)).isEqualTo(4);
            assertThat(logged).hasSize(2);
            assertThat(logged.get(0).getMessage()).contains("'worker'", "java.lang.Thread");
            assertThat(logged.get(1).getMessage()).contains("'conn'");
            // The codec still works after the failures (no half-written state left in the pool).
            assertThat(codec.deserialize(codec.serialize("ok", "fine"))).isEqualTo("fine");
            holder.socket.close();
        }
    }

    @Test
    void valuesOverTheSizeLimitAreSkippedAndCounted() {
        FilterCounters counters = new FilterCounters();
        AttributeCodec codec = new AttributeCodec(getClass().getClassLoader(), 1000, counters);
        assertThat(codec.serialize("big", new byte[5000])).isNull();
        assertThat(codec.serialize("small", new byte[500])).isNotNull();
        assertThat(counters.get(FilterCounter.SKIPPED_ATTRIBUTES)).isEqualTo(1);
    }
}
