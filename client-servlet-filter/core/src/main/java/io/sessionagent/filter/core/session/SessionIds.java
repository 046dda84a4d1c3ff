package io.sessionagent.filter.core.session;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Session ids: 160 random bits in URL-safe base64 without padding (27 characters), and the
 * cookie form {@code <id>.<route>}. The agent is always called with the bare id.
 */
public final class SessionIds {
    /** Above the 128 bits the design asks for, and a multiple of 6 bits short of padding-free. */
    public static final int RANDOM_BYTES = 20;
    /** The agent's limit on id length. */
    private static final int MAX_ID_LENGTH = 128;

    private final SecureRandom random;

    public SessionIds(SecureRandom random) {
        this.random = random;
    }

    public String newId() {
        byte[] b = new byte[RANDOM_BYTES];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** The cookie value for an id served by a node with this route (no suffix when the route is empty). */
    public static String cookieValue(String id, String route) {
        return route == null || route.isEmpty() ? id : id + "." + route;
    }

    /**
     * Splits a cookie value at its last dot into id and route.
     *
     * @return null when the id part is not something this filter could have issued, so that a
     *         forged or foreign cookie never reaches the agent
     */
    public static CookieValue parse(String value) {
        if (value == null) {
            return null;
        }
        int dot = value.lastIndexOf('.');
        String id = dot < 0 ? value : value.substring(0, dot);
        String route = dot < 0 ? "" : value.substring(dot + 1);
        if (!isValidId(id)) {
            return null;
        }
        return new CookieValue(id, route);
    }

    public static boolean isValidId(String id) {
        if (id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** A parsed cookie: the bare id and the route of the node that last issued it. */
    public static final class CookieValue {
        private final String id;
        private final String route;

        CookieValue(String id, String route) {
            this.id = id;
            this.route = route;
        }

        public String id() {
            return id;
        }

        public String route() {
            return route;
        }
    }
}
