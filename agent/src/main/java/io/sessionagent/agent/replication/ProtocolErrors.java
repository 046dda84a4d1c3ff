package io.sessionagent.agent.replication;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import org.slf4j.Logger;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Unexpected failures of the protocol thread's tasks. A task that throws must neither stop the
 * thread nor vanish: an executor keeps the exception in a {@code Future} nobody reads, and a
 * scheduled task that throws is never run again. Every failure is counted in
 * {@code protocol.errors}; the first of each kind is logged at ERROR with its stack trace, the
 * repeats only at DEBUG, so a failure that recurs on every frame cannot flood the log.
 */
final class ProtocolErrors {
    /** Kinds remembered at most; beyond, every failure is only counted (and logged at DEBUG). */
    private static final int MAX_KINDS = 256;

    private final Counters counters;
    private final Logger log;
    private final Set<String> logged = ConcurrentHashMap.newKeySet();

    ProtocolErrors(Counters counters, Logger log) {
        this.counters = counters;
        this.log = log;
    }

    /**
     * @param task    what failed, the same text for every failure of that task (it names the kind)
     * @param context what the failure concerned this time (a member id), or empty
     */
    void report(String task, String context, RuntimeException e) {
        counters.increment(Counter.PROTOCOL_ERRORS);
        if (logged.size() < MAX_KINDS && logged.add(kindOf(task, e))) {
            log.error("{}{} failed; further failures of this kind are only counted in protocol.errors", task,
                    context.isEmpty() ? "" : " " + context, e);
        } else if (log.isDebugEnabled()) {
            log.debug("{}{} failed again: {}", task, context.isEmpty() ? "" : " " + context, e.toString());
        }
    }

    /** Runs a task on the calling thread, reporting what it throws instead of passing it on. */
    void run(String task, Runnable body) {
        try {
            body.run();
        } catch (RuntimeException e) {
            report(task, "", e);
        }
    }

    /** An executor that posts every task to {@code loop} guarded by {@link #run}. */
    Executor guard(Executor loop, String task) {
        return body -> loop.execute(() -> run(task, body));
    }

    /** The same task failing with the same exception at the same place is the same kind. */
    private static String kindOf(String task, RuntimeException e) {
        StackTraceElement[] trace = e.getStackTrace();
        return task + '|' + e.getClass().getName() + '|' + (trace.length > 0 ? trace[0] : "");
    }
}
