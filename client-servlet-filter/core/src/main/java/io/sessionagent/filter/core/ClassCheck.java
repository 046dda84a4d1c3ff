package io.sessionagent.filter.core;

import java.util.concurrent.ConcurrentHashMap;

/** {@link ClassAllowList}'s answer per class, decided once: every class a value holds is asked about. */
final class ClassCheck {
    private final ClassAllowList list;
    private final ConcurrentHashMap<Class<?>, Boolean> decided = new ConcurrentHashMap<>();

    ClassCheck(ClassAllowList list) {
        this.list = list;
    }

    ClassAllowList list() {
        return list;
    }

    boolean allows(Class<?> c) {
        Boolean ok = decided.get(c);
        if (ok == null) {
            ok = list.allows(c);
            decided.putIfAbsent(c, ok);
        }
        return ok;
    }

    /** @throws RefusedClassException when {@code c} is not allowed */
    void check(Class<?> c) {
        if (!allows(c)) {
            throw new RefusedClassException(c.getName());
        }
    }
}
