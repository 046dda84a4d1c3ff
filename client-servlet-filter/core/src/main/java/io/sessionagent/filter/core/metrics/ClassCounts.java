package io.sessionagent.filter.core.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * A count per class name. At most {@link #MAX_NAMES} names are kept apart; later ones are
 * counted together under {@link #OTHER}, so that bytes naming ever new classes cannot grow the
 * map or a metrics backend's series without bound.
 */
public final class ClassCounts {
    static final int MAX_NAMES = 100;
    /** The name under which classes past {@link #MAX_NAMES} are counted. */
    public static final String OTHER = "(other)";

    private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

    public void increment(String className) {
        String name = className == null ? "unknown" : className;
        LongAdder a = counts.get(name);
        if (a == null) {
            if (counts.size() >= MAX_NAMES) {
                name = OTHER;
            }
            LongAdder fresh = new LongAdder();
            a = counts.putIfAbsent(name, fresh);
            if (a == null) {
                a = fresh;
                for (Consumer<String> l : listeners) {
                    l.accept(name);
                }
            }
        }
        a.increment();
    }

    /** The count of one name (0 if never counted). */
    public long count(String className) {
        LongAdder a = counts.get(className);
        return a == null ? 0 : a.sum();
    }

    /** Every name counted so far, sorted, with its count. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new TreeMap<>();
        for (Map.Entry<String, LongAdder> e : counts.entrySet()) {
            m.put(e.getKey(), e.getValue().sum());
        }
        return m;
    }

    /**
     * Tells {@code listener} of each name counted for the first time from now on (on the counting
     * thread), for a metrics registry that needs a meter per name. The names counted already are
     * those of {@link #snapshot}.
     */
    void onNewName(Consumer<String> listener) {
        listeners.add(listener);
    }

    void removeListener(Consumer<String> listener) {
        listeners.remove(listener);
    }
}
