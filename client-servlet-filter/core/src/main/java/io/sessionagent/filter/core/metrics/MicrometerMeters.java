package io.sessionagent.filter.core.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Tags;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The only class that links to Micrometer, so that the filter runs without it: it is loaded only
 * after {@link FilterMetrics#micrometerUsable} found the application's Micrometer. Micrometer is
 * neither bundled nor relocated in the filter's jar, so these meters land in the application's
 * own registry. Every meter reads {@link FilterCounters} when the registry asks, one per entry of the
 * {@link FilterCounter} catalogue.
 */
final class MicrometerMeters {
    private static final Logger LOG = Logger.getLogger(MicrometerMeters.class.getName());

    private MicrometerMeters() {
    }

    static AutoCloseable bind(Object candidate, String attributeName, FilterCounters counters,
                              FilterState state, String context, String filter) {
        MeterRegistry registry;
        String where;
        if (candidate instanceof MeterRegistry) {
            registry = (MeterRegistry) candidate;
            where = "the ServletContext attribute " + attributeName;
        } else {
            if (candidate != null) {
                LOG.warning("ServletContext attribute " + attributeName + " holds a " + candidate.getClass().getName()
                        + ", not a MeterRegistry of the application's Micrometer; using Metrics.globalRegistry");
            }
            registry = Metrics.globalRegistry;
            where = "Metrics.globalRegistry";
        }
        Tags tags = Tags.of("context", context, "filter", filter);
        boolean replaced = removeExisting(registry, tags);
        List<Meter> meters = new ArrayList<>();
        meters.add(FunctionTimer.builder(FilterMetrics.SERIALIZE_METER, counters,
                        x -> x.get(FilterCounter.SERIALIZATIONS), x -> x.get(FilterCounter.SERIALIZE_NANOS),
                        TimeUnit.NANOSECONDS)
                .description(FilterMetrics.SERIALIZE_DESCRIPTION).tags(tags).register(registry));
        for (FilterCounter c : FilterCounter.values()) {
            if (c.ownMeter()) {
                meters.add(FunctionCounter.builder(c.meter(), counters, x -> x.get(c))
                        .baseUnit(c.baseUnit()).description(c.description()).tags(tags).register(registry));
            }
        }
        for (FilterMetrics.Reading l : FilterMetrics.READINGS) {
            // Strong: the registry must not lose the state before close() removes the gauge.
            meters.add(Gauge.builder(l.meter, state, x -> l.read.applyAsLong(x)).strongReference(true)
                    .baseUnit(l.baseUnit).description(l.description).tags(tags).register(registry));
        }
        // A meter per class, registered when the class is first counted (on the thread counting it).
        List<Meter> perClass = new CopyOnWriteArrayList<>();
        List<Runnable> detach = new ArrayList<>();
        for (FilterMetrics.ByClass b : FilterMetrics.BY_CLASS) {
            ClassCounts counts = b.counts.apply(counters);
            Consumer<String> add = name -> perClass.add(FunctionCounter.builder(b.meter, counts, c -> c.count(name))
                    .baseUnit(b.baseUnit).description(b.description).tags(tags.and("class", name)).register(registry));
            counts.onNewName(add);
            detach.add(() -> counts.removeListener(add));
            for (String name : counts.snapshot().keySet()) {
                add.accept(name);
            }
        }
        LOG.info("session replication filter meters for context " + context + ", filter " + filter
                + " registered in " + where + (replaced ? " (replacing meters left by an earlier instance)" : ""));
        return () -> {
            for (Runnable r : detach) {
                r.run();
            }
            meters.addAll(perClass);
            for (Meter m : meters) {
                // Only our own: a later instance with the same tags may have replaced it.
                if (registry.find(m.getId().getName()).tags(m.getId().getTags()).meter() == m) {
                    registry.remove(m);
                }
            }
        };
    }

    /** Meters of an earlier instance that was never destroyed would otherwise keep reading its counters. */
    private static boolean removeExisting(MeterRegistry registry, Tags tags) {
        List<String> names = new ArrayList<>();
        names.add(FilterMetrics.SERIALIZE_METER);
        for (FilterMetrics.Reading l : FilterMetrics.READINGS) {
            names.add(l.meter);
        }
        for (FilterCounter c : FilterCounter.values()) {
            if (c.ownMeter()) {
                names.add(c.meter());
            }
        }
        for (FilterMetrics.ByClass b : FilterMetrics.BY_CLASS) {
            names.add(b.meter);
        }
        boolean any = false;
        for (String name : names) {
            for (Meter m : registry.find(name).tags(tags).meters()) {
                registry.remove(m);
                any = true;
            }
        }
        return any;
    }
}
