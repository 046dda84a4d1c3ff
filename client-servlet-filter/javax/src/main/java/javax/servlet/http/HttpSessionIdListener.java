package javax.servlet.http;

import java.util.EventListener;

/**
 * Signature of the Servlet 3.1 type, for type checking only; the build leaves it out of the jar
 * so the container's own class is always the one used.
 */
public interface HttpSessionIdListener extends EventListener {
    void sessionIdChanged(HttpSessionEvent event, String oldSessionId);
}
