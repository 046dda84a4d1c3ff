package io.sessionagent.filter.javax;

import io.sessionagent.filter.core.session.SessionData;

import java.util.Enumeration;

import javax.servlet.ServletContext;
import javax.servlet.http.HttpSession;
import javax.servlet.http.HttpSessionBindingEvent;
import javax.servlet.http.HttpSessionBindingListener;

/** The application's view of a replicated session. */
final class ReplicatedSession implements HttpSession {
    private final SessionData data;
    private final SessionListeners listeners;

    ReplicatedSession(SessionData data, SessionListeners listeners) {
        this.data = data;
        this.listeners = listeners;
    }

    SessionData data() {
        return data;
    }

    private void checkValid(String method) {
        if (!data.isValid()) {
            throw new IllegalStateException(method + ": the session has been invalidated");
        }
    }

    @Override
    public long getCreationTime() {
        checkValid("getCreationTime");
        return data.creationTime();
    }

    @Override
    public String getId() {
        return data.id();
    }

    @Override
    public long getLastAccessedTime() {
        checkValid("getLastAccessedTime");
        return data.lastAccessedTime();
    }

    @Override
    public ServletContext getServletContext() {
        return listeners.servletContext();
    }

    @Override
    public void setMaxInactiveInterval(int interval) {
        data.maxInactiveSeconds(interval);
    }

    @Override
    public int getMaxInactiveInterval() {
        return data.maxInactiveSeconds();
    }

    /** Deprecated since Servlet 2.1 and gone in later APIs; null is what containers return. */
    @Override
    @Deprecated
    public javax.servlet.http.HttpSessionContext getSessionContext() {
        return null;
    }

    @Override
    public Object getAttribute(String name) {
        checkValid("getAttribute");
        return data.getAttribute(name);
    }

    @Override
    @Deprecated
    public Object getValue(String name) {
        return getAttribute(name);
    }

    @Override
    public Enumeration<String> getAttributeNames() {
        checkValid("getAttributeNames");
        return data.attributeNames();
    }

    @Override
    @Deprecated
    public String[] getValueNames() {
        checkValid("getValueNames");
        return data.attributeNameSet().toArray(new String[0]);
    }

    @Override
    public void setAttribute(String name, Object value) {
        if (name == null) {
            throw new IllegalArgumentException("attribute name must not be null");
        }
        checkValid("setAttribute");
        if (value == null) {
            removeAttribute(name);
            return;
        }
        Object current = data.peekAttribute(name);
        if (value != current && value instanceof HttpSessionBindingListener) {
            ((HttpSessionBindingListener) value).valueBound(new HttpSessionBindingEvent(this, name, value));
        }
        Object old = data.setAttribute(name, value);
        if (old != null && old != value && old instanceof HttpSessionBindingListener) {
            ((HttpSessionBindingListener) old).valueUnbound(new HttpSessionBindingEvent(this, name, old));
        }
        if (old == null) {
            listeners.attributeAdded(this, name, value);
        } else {
            listeners.attributeReplaced(this, name, old);
        }
    }

    @Override
    @Deprecated
    public void putValue(String name, Object value) {
        setAttribute(name, value);
    }

    @Override
    public void removeAttribute(String name) {
        checkValid("removeAttribute");
        removed(name, data.removeAttribute(name));
    }

    void removed(String name, Object old) {
        if (old == null) {
            return;
        }
        if (old instanceof HttpSessionBindingListener) {
            ((HttpSessionBindingListener) old).valueUnbound(new HttpSessionBindingEvent(this, name, old));
        }
        listeners.attributeRemoved(this, name, old);
    }

    @Override
    @Deprecated
    public void removeValue(String name) {
        removeAttribute(name);
    }

    @Override
    public void invalidate() {
        checkValid("invalidate");
        listeners.manager().invalidate(data);
    }

    @Override
    public boolean isNew() {
        checkValid("isNew");
        return data.isNew();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReplicatedSession && ((ReplicatedSession) o).data == data;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(data);
    }
}
