package io.sessionagent.agent.store;

import java.util.concurrent.ConcurrentHashMap;

/**
 * One String per distinct attribute name. Every delta and record parsed off the wire brings its own
 * copy of names such as "cart" or "user"; a table of many sessions would otherwise keep one copy
 * per session and attribute (about 50 bytes each, 5% of a 1 KB session). Applications use a
 * handful of names, so the set stays small; past {@link #MAX_NAMES} (names made from user input)
 * names are kept as they come, so memory stays bounded.
 */
final class AttributeNames {
    static final int MAX_NAMES = 10_000;

    private final ConcurrentHashMap<String, String> names = new ConcurrentHashMap<>();

    String canonical(String name) {
        String known = names.get(name);
        if (known != null) {
            return known;
        }
        if (names.size() >= MAX_NAMES) {
            return name;
        }
        String raced = names.putIfAbsent(name, name);
        return raced != null ? raced : name;
    }

    int size() {
        return names.size();
    }
}
