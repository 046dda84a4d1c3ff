package io.sessionagent.filter.javax;

import io.sessionagent.filter.core.FilterSettings;
import io.sessionagent.filter.core.session.SessionData;
import io.sessionagent.filter.core.session.SessionIds;
import io.sessionagent.filter.core.SessionManager;

import javax.servlet.http.Cookie;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletRequestWrapper;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;

/** Gives the application the replicated session instead of the container's. */
final class ReplicatedRequest extends HttpServletRequestWrapper {
    private final SessionManager manager;
    private final SessionListeners listeners;
    private final HttpServletResponse response;
    private ReplicatedSession session;
    private boolean lookedUp;
    private String requestedId;

    ReplicatedRequest(HttpServletRequest request, HttpServletResponse response, SessionManager manager,
                      SessionListeners listeners) {
        super(request);
        this.response = response;
        this.manager = manager;
        this.listeners = listeners;
    }

    /** The session this request used, if any, for the commit at its end. */
    SessionData sessionData() {
        return session == null ? null : session.data();
    }

    /**
     * Looks up, before the application runs, the session the cookie names when this node does not
     * hold it: the one lookup that asks the agent, and may find it without an answer.
     *
     * @throws io.sessionagent.filter.core.SessionUnavailableException when the agent gave none
     */
    void lookUpUnheldSession() {
        Cookie[] cookies = getCookies();
        String name = manager.settings().cookieName();
        for (int i = 0; cookies != null && i < cookies.length; i++) {
            if (name.equals(cookies[i].getName()) && manager.needsAgentLookup(cookies[i].getValue())) {
                getSession(false);
                return;
            }
        }
    }

    @Override
    public HttpSession getSession() {
        return getSession(true);
    }

    @Override
    public HttpSession getSession(boolean create) {
        if (session != null && session.data().isValid()) {
            return session;
        }
        if (!lookedUp) {
            lookedUp = true;
            Cookie[] cookies = getCookies();
            String name = manager.settings().cookieName();
            for (int i = 0; cookies != null && i < cookies.length && session == null; i++) {
                if (!name.equals(cookies[i].getName())) {
                    continue;
                }
                SessionIds.CookieValue cv = SessionIds.parse(cookies[i].getValue());
                if (cv != null && requestedId == null) {
                    requestedId = cv.id();
                }
                SessionManager.Found found = manager.find(cookies[i].getValue());
                if (found != null) {
                    requestedId = found.session().id();
                    session = new ReplicatedSession(found.session(), listeners);
                    if (found.reissueCookie()) {
                        writeCookie(found.session().id());
                    }
                    return session;
                }
            }
        }
        if (!create) {
            return null;
        }
        if (response.isCommitted()) {
            throw new IllegalStateException("cannot create a session after the response has been committed");
        }
        session = new ReplicatedSession(manager.create(), listeners);
        writeCookie(session.getId());
        return session;
    }

    private void writeCookie(String id) {
        if (response.isCommitted()) {
            return;
        }
        FilterSettings s = manager.settings();
        // A raw header: Servlet 3.0's Cookie has no SameSite.
        response.addHeader("Set-Cookie", s.setCookieHeader(SessionIds.cookieValue(id, s.route())));
    }

    @Override
    public String getRequestedSessionId() {
        if (!lookedUp) {
            getSession(false);
        }
        return requestedId;
    }

    @Override
    public boolean isRequestedSessionIdValid() {
        String id = getRequestedSessionId();
        HttpSession s = getSession(false);
        return id != null && s != null && id.equals(s.getId());
    }

    @Override
    public boolean isRequestedSessionIdFromCookie() {
        return getRequestedSessionId() != null;
    }

    @Override
    public boolean isRequestedSessionIdFromURL() {
        return false;
    }

    @Override
    @Deprecated
    public boolean isRequestedSessionIdFromUrl() {
        return false;
    }

    /** Servlet 3.1; on older containers nothing calls it, and nothing here links to 3.1 types. */
    public String changeSessionId() {
        HttpSession s = getSession(false);
        if (s == null) {
            throw new IllegalStateException("changeSessionId: the request has no session");
        }
        String newId = manager.changeId(((ReplicatedSession) s).data());
        writeCookie(newId);
        return newId;
    }
}
