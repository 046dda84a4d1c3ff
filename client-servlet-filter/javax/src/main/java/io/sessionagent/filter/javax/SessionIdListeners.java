package io.sessionagent.filter.javax;

import javax.servlet.http.HttpSessionEvent;
import javax.servlet.http.HttpSessionIdListener;

import java.util.List;

/**
 * Calls to HttpSessionIdListener (Servlet 3.1), kept out of {@link SessionListeners} so that no
 * other class of the filter links to the interface: on a Servlet 3.0 container it is absent and
 * this class runs only its check.
 */
final class SessionIdListeners {
    private static final boolean PRESENT = present();

    private SessionIdListeners() {
    }

    private static boolean present() {
        try {
            Class.forName("javax.servlet.http.HttpSessionIdListener", false, HttpSessionEvent.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    static boolean isIdListener(Object o) {
        return PRESENT && o instanceof HttpSessionIdListener;
    }

    /** Listener failures propagate, as from the container's own changeSessionId. */
    static void fire(List<Object> listeners, HttpSessionEvent event, String oldId) {
        for (Object l : listeners) {
            ((HttpSessionIdListener) l).sessionIdChanged(event, oldId);
        }
    }
}
