package io.sessionagent.filter.javax.servlet30;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletRequestWrapper;

/**
 * A Servlet 3.0 call through a request wrapper of one's own, as the filter's ReplicatedRequest is:
 * the bytecode names the wrapper, not the Servlet API type, and only a check that follows the
 * wrapper's superclasses sees it.
 */
public final class WrappedAsyncCall extends HttpServletRequestWrapper {
    public WrappedAsyncCall(HttpServletRequest request) {
        super(request);
    }

    public boolean wentAsync() {
        return isAsyncStarted();
    }
}
