package io.sessionagent.agent.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.prometheusmetrics.PrometheusNamingConvention;

import java.util.Set;

/**
 * Prometheus names with a unit suffix only for physical base units. Prometheus' own convention
 * appends every base unit, which would turn {@code frames.dropped} counted in frames into
 * {@code frames_dropped_frames_total}; Prometheus' naming guide asks for unit suffixes in base
 * units (seconds, bytes) and names counts of things after the things, which this does. Every
 * meter still declares its unit, and docs/monitoring.md's metric table shows it. Meters outside the
 * agent's catalogue (the JVM's, from Micrometer's binders) keep Prometheus' convention, under
 * which dashboards made for them look them up.
 */
public final class PrometheusUnits implements NamingConvention {
    private static final Set<String> SUFFIXED = Set.of("bytes", "seconds");
    private final PrometheusNamingConvention prometheus = new PrometheusNamingConvention();

    @Override
    public String name(String name, Meter.Type type, String baseUnit) {
        if (!name.startsWith(MeterCatalogue.PREFIX)) {
            return prometheus.name(name, type, baseUnit);
        }
        return prometheus.name(name, type, baseUnit != null && SUFFIXED.contains(baseUnit) ? baseUnit : null);
    }

    @Override
    public String tagKey(String key) {
        return prometheus.tagKey(key);
    }

    @Override
    public String tagValue(String value) {
        return prometheus.tagValue(value);
    }
}
