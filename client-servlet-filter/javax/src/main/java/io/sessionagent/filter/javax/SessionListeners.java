package io.sessionagent.filter.javax;

import io.sessionagent.filter.core.session.SessionData;
import io.sessionagent.filter.core.session.SessionEvents;
import io.sessionagent.filter.core.SessionManager;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.servlet.ServletContext;
import javax.servlet.ServletException;
import javax.servlet.http.HttpSessionActivationListener;
import javax.servlet.http.HttpSessionAttributeListener;
import javax.servlet.http.HttpSessionBindingEvent;
import javax.servlet.http.HttpSessionEvent;
import javax.servlet.http.HttpSessionListener;

/**
 * The session listeners named in the filter's {@code listeners} init-param. The container's own
 * listeners cannot be enumerated through the Servlet API, and it would call them only for its
 * own sessions, so the filter instantiates its own with the web application's class loader.
 */
final class SessionListeners implements SessionEvents {
    private static final Logger LOG = Logger.getLogger(SessionListeners.class.getName());

    private final ServletContext context;
    private final List<HttpSessionListener> lifecycle = new ArrayList<>();
    private final List<HttpSessionAttributeListener> attributes = new ArrayList<>();
    /** HttpSessionIdListeners, typed Object: the interface exists from Servlet 3.1 on. */
    private final List<Object> idListeners = new ArrayList<>();
    private SessionManager manager;

    SessionListeners(ServletContext context, List<String> classNames, ClassLoader loader) throws ServletException {
        this.context = context;
        for (String name : classNames) {
            Object o;
            try {
                o = Class.forName(name, true, loader).getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                throw new ServletException("listeners: cannot instantiate " + name
                        + " (it needs a public no-argument constructor)", e);
            }
            boolean used = false;
            if (o instanceof HttpSessionListener) {
                lifecycle.add((HttpSessionListener) o);
                used = true;
            }
            if (o instanceof HttpSessionAttributeListener) {
                attributes.add((HttpSessionAttributeListener) o);
                used = true;
            }
            if (SessionIdListeners.isIdListener(o)) {
                idListeners.add(o);
                used = true;
            }
            if (!used) {
                throw new ServletException("listeners: " + name + " implements none of HttpSessionListener,"
                        + " HttpSessionAttributeListener and HttpSessionIdListener");
            }
        }
    }

    /** Set once, right after the manager that calls these events is built. */
    void manager(SessionManager m) {
        this.manager = m;
    }

    SessionManager manager() {
        return manager;
    }

    ServletContext servletContext() {
        return context;
    }

    @Override
    public void created(SessionData data) {
        HttpSessionEvent e = new HttpSessionEvent(new ReplicatedSession(data, this));
        for (HttpSessionListener l : lifecycle) {
            l.sessionCreated(e);
        }
    }

    @Override
    public void destroyed(SessionData data) {
        ReplicatedSession session = new ReplicatedSession(data, this);
        HttpSessionEvent e = new HttpSessionEvent(session);
        List<HttpSessionListener> reversed = new ArrayList<>(lifecycle);
        Collections.reverse(reversed);
        for (HttpSessionListener l : reversed) {
            try {
                l.sessionDestroyed(e);
            } catch (RuntimeException ex) {
                LOG.log(Level.WARNING, "sessionDestroyed of " + l.getClass().getName() + " failed", ex);
            }
        }
        for (String name : data.attributeNameSet()) {
            try {
                session.removed(name, data.removeAttribute(name));
            } catch (RuntimeException ex) {
                LOG.log(Level.WARNING, "unbinding attribute '" + name + "' failed", ex);
            }
        }
    }

    @Override
    public void activated(SessionData data) {
        eachActivationListener(data, "sessionDidActivate", HttpSessionActivationListener::sessionDidActivate);
    }

    /** Replication is not passivation: only a session leaving this node's memory while alive is passivated. */
    @Override
    public void passivating(SessionData data) {
        eachActivationListener(data, "sessionWillPassivate", HttpSessionActivationListener::sessionWillPassivate);
    }

    /** Calls {@code call} on every attribute value that listens for activation; one failing does not stop the rest. */
    private void eachActivationListener(SessionData data, String what,
                                        BiConsumer<HttpSessionActivationListener, HttpSessionEvent> call) {
        HttpSessionEvent e = new HttpSessionEvent(new ReplicatedSession(data, this));
        for (String name : data.attributeNameSet()) {
            Object v = data.peekAttribute(name);
            if (v instanceof HttpSessionActivationListener) {
                try {
                    call.accept((HttpSessionActivationListener) v, e);
                } catch (RuntimeException ex) {
                    LOG.log(Level.WARNING, what + " of attribute '" + name + "' failed", ex);
                }
            }
        }
    }

    @Override
    public void idChanged(SessionData data, String oldId) {
        if (!idListeners.isEmpty()) {
            SessionIdListeners.fire(idListeners, new HttpSessionEvent(new ReplicatedSession(data, this)), oldId);
        }
    }

        void attributeAdded(ReplicatedSession s, String name, Object value) {
        if (attributes.isEmpty()) {
            return;
        }
        HttpSessionBindingEvent e = new HttpSessionBindingEvent(s, name, value);
        for (HttpSessionAttributeListener l : attributes) {
            l.attributeAdded(e);
        }
    }

    void attributeReplaced(ReplicatedSession s, String name, Object oldValue) {
        if (attributes.isEmpty()) {
            return;
        }
        HttpSessionBindingEvent e = new HttpSessionBindingEvent(s, name, oldValue);
        for (HttpSessionAttributeListener l : attributes) {
            l.attributeReplaced(e);
        }
    }

    void attributeRemoved(ReplicatedSession s, String name, Object oldValue) {
        if (attributes.isEmpty()) {
            return;
        }
        HttpSessionBindingEvent e = new HttpSessionBindingEvent(s, name, oldValue);
        for (HttpSessionAttributeListener l : attributes) {
            l.attributeRemoved(e);
        }
    }
}
