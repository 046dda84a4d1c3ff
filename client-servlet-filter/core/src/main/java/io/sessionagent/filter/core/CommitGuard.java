package io.sessionagent.filter.core;

/**
 * Runs the request-end work once, just before the response is committed (the first of: a
 * flush, close, sendError, sendRedirect, the declared content length being reached, the
 * response buffer filling up, or the end of the filter chain). Once a client has a response it
 * may send the next request, maybe to another node, so the agent must hold the change by then.
 */
public final class CommitGuard {
    private final Runnable action;
    private boolean done;
    private long contentLength = -1;
    private long bufferSize = -1;
    private long written;

    public CommitGuard(Runnable action) {
        this.action = action;
    }

    public synchronized void contentLength(long length) {
        contentLength = length;
    }

    /** The response's buffer size: a write that fills it makes the container commit. */
    public synchronized void bufferSize(long size) {
        bufferSize = size;
    }

    /** Call before writing {@code n} bytes (a writer passes the most bytes its chars can encode to). */
    public void beforeWrite(long n) {
        boolean fire;
        synchronized (this) {
            written += n;
            // At a full buffer rather than past it: firing a little early costs nothing, late loses the race.
            fire = (contentLength > 0 && written >= contentLength) || (bufferSize > 0 && written >= bufferSize);
        }
        if (fire) {
            run();
        }
    }

    /**
     * Runs the action unless it ran already.
     *
     * @return whether this call ran it
     */
    public boolean run() {
        synchronized (this) {
            if (done) {
                return false;
            }
            done = true;
        }
        action.run();
        return true;
    }

    public synchronized boolean isDone() {
        return done;
    }
}
