package io.sessionagent.filter.javax.servlet30;

import javax.servlet.ServletRequest;

/** A Servlet 3.0 call on a Servlet API type: what the filter did on every request before it ran on 2.5. */
public final class DirectAsyncCall {
    private DirectAsyncCall() {
    }

    public static boolean wentAsync(ServletRequest request) {
        return request.isAsyncStarted();
    }
}
