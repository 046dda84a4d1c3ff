package io.sessionagent.agent.metrics;

import io.micrometer.core.instrument.Meter;

import java.util.List;

/**
 * What one exported meter is: its dotted name, type, base unit, tag keys and meaning. The
 * {@link MeterCatalogue} lists every one; docs/monitoring.md's metric table is checked against it.
 */
public record MeterSpec(String name, Meter.Type type, String baseUnit, List<String> tagKeys, String description) {

    public MeterSpec {
        tagKeys = List.copyOf(tagKeys);
    }

    /**
     * The name Prometheus shows: underscores, the unit appended where {@link PrometheusUnits}
     * appends it, {@code _total} for counters; timers are histograms, queried through their
     * {@code _bucket}, {@code _count} and {@code _sum} series.
     */
    public String prometheusName() {
        String base = new PrometheusUnits().name(name, type, baseUnit);
        return type == Meter.Type.COUNTER ? base + "_total" : base;
    }
}
