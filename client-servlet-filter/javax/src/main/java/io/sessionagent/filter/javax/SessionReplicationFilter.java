package io.sessionagent.filter.javax;

import io.sessionagent.filter.core.CommitGuard;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.core.metrics.FilterMetrics;
import io.sessionagent.filter.core.FilterSettings;
import io.sessionagent.filter.core.agent.RequestThreads;
import io.sessionagent.filter.core.session.SessionData;
import io.sessionagent.filter.core.SessionManager;
import io.sessionagent.filter.core.SessionUnavailableException;

import java.io.IOException;
import java.lang.reflect.Method;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.servlet.Filter;
import javax.servlet.FilterChain;
import javax.servlet.FilterConfig;
import javax.servlet.ServletContext;
import javax.servlet.ServletException;
import javax.servlet.ServletRequest;
import javax.servlet.ServletResponse;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * Gives the web application a session replicated through the local session agent. Map it
 * first, on /*, for the REQUEST, FORWARD, INCLUDE, ERROR and (Servlet 3.0 and later) ASYNC
 * dispatchers; see docs/filter.md, "Init-params". Links to Servlet 2.5 only: what is newer is
 * looked up at run time ({@link ServletApi}, {@link AsyncCompletion}).
 */
public class SessionReplicationFilter implements Filter {
    private static final Logger LOG = Logger.getLogger(SessionReplicationFilter.class.getName());
    /** Marks a request this filter already handles, so nested dispatches pass through. */
    static final String ACTIVE = SessionReplicationFilter.class.getName() + ".ACTIVE";
    /** ServletContext attribute holding the {@link FilterCounters} of the filter. */
    public static final String COUNTERS_ATTRIBUTE = "io.sessionagent.filter.counters";

    private SessionManager manager;
    private SessionListeners listeners;
    private FilterMetrics metrics;
    /** Whether the container has Servlet 3.0's async requests (Tomcat 6 and Jetty 6 do not). */
    private boolean asyncRequests;

    @Override
    public void init(FilterConfig config) throws ServletException {
        ServletContext context = config.getServletContext();
        FilterSettings settings;
        try {
            settings = FilterSettings.parse(config::getInitParameter, context.getContextPath());
        } catch (IllegalArgumentException e) {
            throw new ServletException(e.getMessage(), e);
        }
        Integer containerTimeout = containerSessionTimeoutMinutes(context);
        if (containerTimeout != null) {
            settings = settings.withMaxInactiveIntervalSeconds(containerTimeout * 60);
        }
        ClassLoader loader = applicationClassLoader(context);
        asyncRequests = ServletApi.find(ServletRequest.class, "isAsyncStarted") != null;
        listeners = new SessionListeners(context, settings.listenerClasses(), loader);
        manager = new SessionManager(settings, loader, listeners, clock());
        listeners.manager(manager);
        context.setAttribute(COUNTERS_ATTRIBUTE, manager.counters());
        metrics = FilterMetrics.start(manager.counters(), manager, context.getContextPath(),
                config.getFilterName(), loader, context.getAttribute(settings.meterRegistryAttribute()),
                settings.meterRegistryAttribute());
        LOG.info("session replication filter for " + (context.getContextPath().isEmpty() ? "/" : context.getContextPath())
                + ": agent " + settings.agentHost() + ":" + settings.agentPort() + ", route '" + settings.route()
                + "', cookie " + settings.cookieName() + ", " + settings.replicationMode().name().toLowerCase()
                + " replication, save mode " + settings.saveMode().paramValue() + ", attribute classes allowed: "
                + settings.allowedClasses());
    }

    /**
     * The web application's class loader. ServletContext.getClassLoader exists from Servlet 3.0 on;
     * before it, the thread that initializes a filter runs with the application's loader.
     */
    private static ClassLoader applicationClassLoader(ServletContext context) {
        Method m = ServletApi.find(ServletContext.class, "getClassLoader");
        ClassLoader loader = null;
        if (m != null) {
            try {
                loader = (ClassLoader) m.invoke(context);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // A security manager may refuse it: the thread's loader below is the same one.
            }
        }
        return loader != null ? loader : Thread.currentThread().getContextClassLoader();
    }

    /** The session-config timeout; the getter exists from Servlet 4 on. */
    private static Integer containerSessionTimeoutMinutes(ServletContext context) {
        Method m = ServletApi.find(ServletContext.class, "getSessionTimeout");
        if (m == null) {
            return null;
        }
        try {
            return (Integer) m.invoke(context);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** Milliseconds since the epoch for session times and the agent backoff; tests drive expiry with their own. */
    protected LongSupplier clock() {
        return System::currentTimeMillis;
    }

    /** What this filter did so far. */
    public FilterCounters getCounters() {
        return manager.counters();
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        if (!(req instanceof HttpServletRequest) || !(res instanceof HttpServletResponse)
                || req.getAttribute(ACTIVE) != null) {
            chain.doFilter(req, res);
            return;
        }
        req.setAttribute(ACTIVE, Boolean.TRUE);
        ReplicatedRequest request = new ReplicatedRequest((HttpServletRequest) req, (HttpServletResponse) res,
                manager, listeners);
        CommitGuard guard = new CommitGuard(() -> commit(request, false));
        CommittingResponse response = new CommittingResponse((HttpServletResponse) res, guard);
        try {
            try {
                request.lookUpUnheldSession();
            } catch (SessionUnavailableException e) {
                // Not a new session: that would replace the user's cookie and lose the session for good.
                response.setHeader("Retry-After", "1");
                response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "session temporarily unavailable");
                return;
            }
            chain.doFilter(request, response);
        } finally {
            boolean async = asyncRequests && AsyncCompletion.deferIfAsync(request, () -> finish(guard, request));
            if (!async) {
                finish(guard, request);
                req.removeAttribute(ACTIVE);
            }
            RequestThreads.release();
        }
    }

    /** The request is over: its commit, or a second one for what changed after the response was committed. */
    private void finish(CommitGuard guard, ReplicatedRequest request) {
        if (!guard.run()) {
            commit(request, true);
        }
        RequestThreads.release();
    }

    private void commit(ReplicatedRequest request, boolean afterResponse) {
        SessionData data = request.sessionData();
        if (data == null) {
            return;
        }
        try {
            if (afterResponse) {
                manager.commitAfterResponse(data);
            } else {
                manager.commit(data);
            }
        } catch (RuntimeException e) {
            // The app's response must not fail because replication did.
            LOG.log(Level.WARNING, "replicating session " + data.id() + " failed", e);
        }
    }

    @Override
    public void destroy() {
        if (metrics != null) {
            metrics.close();
        }
        if (manager != null) {
            manager.close();
        }
    }
}
