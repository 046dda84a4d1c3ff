package io.sessionagent.filter.javax;

import javax.servlet.AsyncEvent;
import javax.servlet.AsyncListener;
import javax.servlet.ServletRequest;

/**
 * Ends a request that went async when its async cycle ends, not when the filter chain returns: its
 * session changes are made until then. The one class of the filter that links to Servlet 3.0's
 * async types; {@link SessionReplicationFilter} loads it only where the container has them.
 */
@Servlet30
final class AsyncCompletion implements AsyncListener {
    private final Runnable finish;

    private AsyncCompletion(Runnable finish) {
        this.finish = finish;
    }

    /**
     * @return true when the request went async: {@code finish} then runs once its cycle ends;
     *         false when it did not, and the caller finishes the request itself
     */
    static boolean deferIfAsync(ServletRequest request, Runnable finish) {
        if (!request.isAsyncStarted()) {
            return false;
        }
        request.getAsyncContext().addListener(new AsyncCompletion(finish));
        return true;
    }

    @Override
    public void onComplete(AsyncEvent event) {
        finish.run();
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        finish.run();
    }

    @Override
    public void onError(AsyncEvent event) {
        finish.run();
    }

    /** A new cycle started from this one drops its listeners: stay registered for its end. */
    @Override
    public void onStartAsync(AsyncEvent event) {
        event.getAsyncContext().addListener(this);
    }
}
