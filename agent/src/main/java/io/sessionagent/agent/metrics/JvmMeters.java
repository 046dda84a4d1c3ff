package io.sessionagent.agent.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

import java.util.Map;
import java.util.Set;

/**
 * The JVM's and the process's meters, from Micrometer's own binders, under their usual names
 * ({@code jvm_*}, {@code process_*}, {@code system_*}): the replication lag's tail follows GC
 * pauses and CPU starvation, which the agent's own meters cannot show. Closed with the agent:
 * the GC and heap-pressure binders listen to the JVM's notifications until then.
 */
public final class JvmMeters implements AutoCloseable {
    /**
     * The series the dashboard reads, with their labels: a scrape test proves each is exported,
     * so that a binder renamed in a Micrometer upgrade fails a test instead of a panel.
     */
    public static final Map<String, Set<String>> DASHBOARD_SERIES = Map.of(
            "jvm_memory_used_bytes", Set.of("area", "id"),
            "jvm_memory_max_bytes", Set.of("area", "id"),
            "jvm_gc_overhead", Set.of(),
            "jvm_gc_memory_allocated_bytes_total", Set.of(),
            "process_cpu_usage", Set.of(),
            "system_cpu_usage", Set.of(),
            "jvm_threads_live_threads", Set.of());

    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final JvmHeapPressureMetrics heapPressure = new JvmHeapPressureMetrics();

    public JvmMeters(MeterRegistry registry) {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        heapPressure.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    @Override
    public void close() {
        gc.close();
        heapPressure.close();
    }
}
