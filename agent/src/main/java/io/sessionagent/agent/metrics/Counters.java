package io.sessionagent.agent.metrics;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/** The live values of the {@link Counter} catalogue for one agent. Thread-safe. */
public final class Counters {
    private final LongAdder[] adders = new LongAdder[Counter.values().length];

    public Counters() {
        for (int i = 0; i < adders.length; i++) {
            adders[i] = new LongAdder();
        }
    }

    public void increment(Counter counter) {
        adders[counter.ordinal()].increment();
    }

    public void add(Counter counter, long amount) {
        adders[counter.ordinal()].add(amount);
    }

    public long get(Counter counter) {
        return adders[counter.ordinal()].sum();
    }

    /** Every counter by its dotted name, sorted. */
    public Map<String, Long> snapshotByName() {
        Map<String, Long> out = new TreeMap<>();
        for (Counter c : Counter.values()) {
            out.put(c.metricName(), get(c));
        }
        return out;
    }

    public Map<Counter, Long> snapshot() {
        Map<Counter, Long> out = new EnumMap<>(Counter.class);
        for (Counter c : Counter.values()) {
            out.put(c, get(c));
        }
        return out;
    }
}
