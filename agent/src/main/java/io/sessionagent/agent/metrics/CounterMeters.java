package io.sessionagent.agent.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Exports the {@link Counter} catalogue as function counters: the registry reads the
 * {@link Counters} at scrape time, so counting stays one {@code LongAdder} increment.
 */
public final class CounterMeters {
    private CounterMeters() {
    }

    public static void bind(Counters counters, MeterRegistry registry) {
        for (Counter c : Counter.values()) {
            MeterCatalogue.CounterMeter m = MeterCatalogue.meterOf(c);
            FunctionCounter.Builder<Counters> b = FunctionCounter.builder(m.spec().name(), counters,
                            cs -> cs.get(c))
                    .description(m.spec().description())
                    .baseUnit(m.spec().baseUnit());
            if (m.tagKey() != null) {
                b.tag(m.tagKey(), m.tagValue());
            }
            b.register(registry);
        }
    }
}
