package io.sessionagent.filter.core.codec;

import java.util.concurrent.ConcurrentHashMap;

/** {@link ClassAllowList}'s answer per class, decided once: every class a value holds is asked about. */
final class ClassCheck {
    private final ClassAllowList list;
    private final ConcurrentHashMap<Class<?>, Boolean> decided = new ConcurrentHashMap<>();
    /** Allowed classes by name, as Java serialization's stream names them (one class loader per codec). */
    private final ConcurrentHashMap<String, Class<?>> resolved = new ConcurrentHashMap<>();

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

    /**
     * The class {@code name} in {@code loader}, checked: Java serialization asks for each class of
     * each stream, and {@code Class.forName} through a web application's loader is not cheap.
     *
     * @throws RefusedClassException when it is not allowed
     */
    Class<?> resolve(String name, ClassLoader loader) throws ClassNotFoundException {
        Class<?> c = resolved.get(name);
        if (c == null) {
            c = Class.forName(name, false, loader);
            check(c);
            resolved.putIfAbsent(name, c);
        }
        return c;
    }

    /** @throws RefusedClassException when {@code c} is not allowed */
    void check(Class<?> c) {
        if (!allows(c)) {
            throw new RefusedClassException(c.getName());
        }
    }
}
