package io.sessionagent.filter.core.agent;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.grpc.Status;

import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Whether the local agent is there, as the filter's calls find it. Only an agent that is really
 * gone (its connection refused or broken, its process dead) makes the filter serve sessions
 * locally; a slow one is waited for, never given up. While it is gone, calls are skipped for a
 * backoff period that doubles from {@link #INITIAL_BACKOFF_MS} to {@link #MAX_BACKOFF_MS}; the
 * first call after the period probes it. Entering and leaving that state is logged once each,
 * with the writes that were not replicated meanwhile.
 */
public final class AgentHealth {
    private static final Logger LOG = Logger.getLogger(AgentHealth.class.getName());
    static final long INITIAL_BACKOFF_MS = 100;
    /**
     * An agent restarted by its supervisor is found again within this: a probe of a local port
     * that refuses costs next to nothing, and every second more serves sessions locally.
     */
    public static final long MAX_BACKOFF_MS = 1_000;

    private final String target;
    private final FilterCounters counters;
    private final LongSupplier clockMs;
    /** Read without the lock on every request. */
    private volatile boolean down;
    // Guarded by this.
    private long backoffMs;
    private long retryAtMs;
    private long downSinceMs;
    private long notReplicatedBefore;

    public AgentHealth(String target, FilterCounters counters, LongSupplier clockMs) {
        this.target = target;
        this.counters = counters;
        this.clockMs = clockMs;
    }

    String target() {
        return target;
    }

    /** True while the filter serves sessions locally because the agent is gone. */
    public boolean isDown() {
        return down;
    }

    /**
     * Whether a call may go to the agent now: always while it is there; once per backoff period
     * while it is gone (that call is the probe, the others are skipped and counted).
     */
    boolean mayCall() {
        if (!down) {
            return true;
        }
        synchronized (this) {
            if (!down) {
                return true;
            }
            long now = clockMs.getAsLong();
            if (now < retryAtMs) {
                return false;
            }
            retryAtMs = now + backoffMs;
            return true;
        }
    }

    /** Milliseconds until the next probe while the agent is gone; 0 when it may be probed now or is there. */
    synchronized long untilProbeMs() {
        return down ? Math.max(0, retryAtMs - clockMs.getAsLong()) : 0;
    }

    /** The agent is gone: the connection failed or broke. */
    void gone(String call, Status status) {
        long now = clockMs.getAsLong();
        synchronized (this) {
            boolean wasDown = down;
            backoffMs = wasDown ? Math.min(MAX_BACKOFF_MS, backoffMs * 2) : INITIAL_BACKOFF_MS;
            retryAtMs = now + backoffMs;
            if (wasDown) {
                return;
            }
            down = true;
            downSinceMs = now;
            notReplicatedBefore = counters.get(FilterCounter.WRITES_NOT_REPLICATED);
        }
        LOG.log(Level.WARNING, "session agent at " + target + " unreachable (" + call + ": " + status.getCode() + " "
                + status.getDescription() + "); serving sessions locally, "
                + counters.get(FilterCounter.WRITES_NOT_REPLICATED)
                + " writes not replicated so far; retrying with backoff");
    }

    /** The agent answered: it is there (again). */
    void answered() {
        if (!down) {
            return;
        }
        long gone;
        long lost;
        synchronized (this) {
            if (!down) {
                return;
            }
            down = false;
            backoffMs = 0;
            gone = clockMs.getAsLong() - downSinceMs;
            lost = counters.get(FilterCounter.WRITES_NOT_REPLICATED) - notReplicatedBefore;
        }
        LOG.info("session agent at " + target + " answers again after " + gone + " ms; " + lost
                + " writes were not replicated meanwhile: their sessions go to it whole");
    }

    synchronized long backoffMs() {
        return backoffMs;
    }
}
