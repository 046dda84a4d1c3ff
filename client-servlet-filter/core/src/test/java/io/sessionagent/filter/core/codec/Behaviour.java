package io.sessionagent.filter.core.codec;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

/**
 * What a collection or map does when used, written down so that two copies can be compared: the
 * answers and exceptions of adds and removes (an unmodifiable wrapper throws, a checked one
 * refuses a wrong type, a bounded queue fills up, an LRU map evicts, an access-ordered map moves
 * what was read to the end), and whether a synchronized wrapper really locks itself: another
 * thread calling it while this one holds the wrapper's monitor must block.
 */
final class Behaviour {
    private Behaviour() {
    }

    static String of(Object o) {
        StringBuilder log = new StringBuilder();
        if (o.getClass().getName().startsWith("java.util.Collections$Synchronized")) {
            log.append("locks itself: ").append(locksItself(o)).append("; ");
        }
        if (o instanceof Collection) {
            collection(log, castCollection(o));
        } else if (o instanceof Map) {
            map(log, castMap(o));
        }
        return log.toString();
    }

    @SuppressWarnings("unchecked")
    private static Collection<Object> castCollection(Object o) {
        return (Collection<Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> castMap(Object o) {
        return (Map<Object, Object>) o;
    }

    /** Runs {@code action}, writing its result or the class of what it threw. */
    private static void step(StringBuilder log, String what, Action action) {
        String r;
        try {
            r = Canon.of(action.run());
        } catch (RuntimeException e) {
            r = "threw " + e.getClass().getName();
        }
        log.append(what).append(" -> ").append(r).append("; ");
    }

    private interface Action {
        Object run();
    }

    private static void collection(StringBuilder log, Collection<Object> c) {
        Iterator<Object> it = c.iterator();
        Object first = it.hasNext() ? it.next() : "x";
        step(log, "add existing", () -> c.add(first));
        step(log, "remove", () -> c.remove(first));
        step(log, "add back", () -> c.add(first));
        Object stranger = new Object();
        step(log, "add an Object", () -> c.add(stranger));
        step(log, "remove the Object", () -> c.remove(stranger));
        if (c instanceof Queue) {
            Queue<Object> q = (Queue<Object>) c;
            int accepted = 0;
            for (int i = 0; i < 100; i++) {
                try {
                    if (q.offer(first)) {
                        accepted++;
                    }
                } catch (RuntimeException e) {
                    break;
                }
            }
            log.append("offers accepted of 100 -> ").append(accepted).append("; ");
        }
        log.append("then ").append(Canon.of(c)).append("; ");
    }

    private static void map(StringBuilder log, Map<Object, Object> m) {
        List<Object> keys = new ArrayList<>(m.keySet());
        Object k = keys.isEmpty() ? "k" : keys.get(0);
        Object v = keys.isEmpty() ? "v" : m.get(k);
        log.append("order -> ").append(Canon.of(new ArrayList<>(m.keySet()))).append("; ");
        step(log, "get first", () -> m.get(k));
        log.append("order after get -> ").append(Canon.of(new ArrayList<>(m.keySet()))).append("; ");
        step(log, "put existing", () -> m.put(k, v));
        step(log, "remove", () -> m.remove(k));
        step(log, "put back", () -> m.put(k, v));
        Object stranger = new Object();
        step(log, "put an Object", () -> m.put(stranger, stranger));
        step(log, "remove the Object", () -> m.remove(stranger));
        step(log, "put 40 strings", () -> {
            for (int i = 0; i < 40; i++) {
                m.put("key" + i, "value" + i);
            }
            return m.size();
        });
        log.append("then ").append(Canon.of(m)).append("; ");
    }

    /**
     * Whether {@code t} is blocked on the monitor of {@code o}: a thread also blocks for a moment
     * on monitors of its own, its thread group's when it ends among others, which say nothing of
     * the wrapper.
     */
    private static boolean blockedOn(Thread t, Object o) {
        ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(t.getId());
        LockInfo lock = info == null ? null : info.getLockInfo();
        return lock != null && info.getThreadState() == Thread.State.BLOCKED
                && lock.getIdentityHashCode() == System.identityHashCode(o)
                && lock.getClassName().equals(o.getClass().getName());
    }

    /**
     * Whether {@code size()} called from another thread waits while this thread holds the monitor
     * of {@code wrapper}: it blocks (the thread is seen BLOCKED), or it returns at once (TERMINATED).
     * A wrapper rebuilt without its mutex would throw instead.
     */
    static String locksItself(Object wrapper) {
        Object[] outcome = new Object[1];
        Thread t = new Thread(() -> {
            try {
                outcome[0] = wrapper instanceof Map ? ((Map<?, ?>) wrapper).size() : ((Collection<?>) wrapper).size();
            } catch (RuntimeException e) {
                outcome[0] = e;
            }
        }, "behaviour-probe");
        String seen = null;
        synchronized (wrapper) {
            t.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Thread.State s = t.getState();
            while (seen == null && System.nanoTime() < deadline) {
                s = t.getState();
                if (s == Thread.State.TERMINATED) {
                    seen = "does not block (" + s + ")";
                } else if (s == Thread.State.BLOCKED && blockedOn(t, wrapper)) {
                    seen = "blocks";
                } else {
                    Thread.onSpinWait();
                }
            }
            if (seen == null) {
                seen = "does not block (" + s + ")";
            }
        }
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (outcome[0] instanceof RuntimeException) {
            return "threw " + outcome[0].getClass().getName();
        }
        return seen;
    }
}
