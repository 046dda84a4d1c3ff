package io.sessionagent.agent.replication;

import io.sessionagent.agent.membership.Member;
import io.sessionagent.agent.membership.Membership;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.SessionTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * Decides when to pull from a member by {@link AntiEntropy}, and runs at most one pull per member
 * at a time on the peer I/O executor. Confined to the protocol thread; the pull itself is not.
 */
final class AntiEntropyScheduler {
    private static final Logger log = LoggerFactory.getLogger(AntiEntropyScheduler.class);
    /** First retry after a failed pull (a peer channel that was cut is still reconnecting). */
    private static final long FIRST_RETRY_MS = 250;
    private static final long MAX_RETRY_MS = 10_000;
    /** Least time between two pulls that a quiet divergence asks for. */
    private static final long DIVERGENCE_PULL_INTERVAL_MS = 5_000;

    /** A failed pull to be tried again: the member's table may hold what this one lacks. */
    private record Retry(long atMs, long delayMs) {
    }

    /** What the last heartbeat of a member showed, to tell a quiet divergence from traffic in flight. */
    private record Seen(long remoteHash, long localHash, long lastPullRequestMs) {
    }

    private final AntiEntropy antiEntropy;
    private final LocalMember local;
    private final Membership membership;
    private final SessionTable table;
    private final Counters counters;
    private final Executor loop;
    private final Executor peerIo;
    private final LongSupplier clockMs;
    private final Set<Long> inFlight = new HashSet<>();
    /** Members asked for again while a pull was in flight: that pull may have started too early. */
    private final Set<Long> requestedAgain = new HashSet<>();
    /** Member id → when the last successful pull from it started. */
    private final Map<Long, Long> pulledAt = new HashMap<>();
    private final Map<Long, Retry> retries = new HashMap<>();
    private final Map<Long, Seen> seen = new HashMap<>();

    AntiEntropyScheduler(AntiEntropy antiEntropy, LocalMember local, Membership membership, SessionTable table,
                         Counters counters, Executor loop, Executor peerIo, LongSupplier clockMs) {
        this.antiEntropy = antiEntropy;
        this.local = local;
        this.membership = membership;
        this.table = table;
        this.counters = counters;
        this.loop = loop;
        this.peerIo = peerIo;
        this.clockMs = clockMs;
    }

    void request(Member m) {
        // A member with replication off serves its own node only: nothing is pulled from it.
        if (!local.isReady() || !local.replicationEnabled() || !m.replicationEnabled()
                || m.peerAddress().isEmpty()) {
            return;
        }
        if (!inFlight.add(m.id())) {
            // What this request is for may have happened after the pull under way started.
            requestedAgain.add(m.id());
            return;
        }
        long id = m.id();
        String address = m.peerAddress();
        long peerCount = m.sessionCount();
        long started = clockMs.getAsLong();
        peerIo.execute(() -> {
            boolean ok = false;
            try {
                antiEntropy.pullFrom(address, peerCount);
                ok = true;
            } catch (RuntimeException e) {
                counters.increment(Counter.ANTI_ENTROPY_FAILURES);
                log.warn("anti-entropy with {} failed: {}", address, e.toString());
            } finally {
                boolean succeeded = ok;
                loop.execute(() -> finished(id, succeeded, started, clockMs.getAsLong()));
            }
        });
    }

    private void finished(long memberId, boolean succeeded, long startedMs, long nowMs) {
        inFlight.remove(memberId);
        boolean again = requestedAgain.remove(memberId);
        if (succeeded) {
            retries.remove(memberId);
            pulledAt.merge(memberId, startedMs, Math::max);
            Member m = membership.get(memberId);
            if (again && m != null) {
                request(m);
            }
            return;
        }
        // A failed pull is retried, which covers a request made while it ran.
        Retry previous = retries.get(memberId);
        long delay = previous == null ? FIRST_RETRY_MS : Math.min(MAX_RETRY_MS, previous.delayMs() * 2);
        retries.put(memberId, new Retry(nowMs + delay, delay));
    }

    /** True when a pull from the member that started at or after {@code sinceMs} succeeded. */
    boolean pulledSince(long memberId, long sinceMs) {
        Long at = pulledAt.get(memberId);
        return at != null && at >= sinceMs;
    }

    /** Tries failed pulls again, with a doubling delay, while their member is in the view. */
    void retryDue(long nowMs) {
        Iterator<Map.Entry<Long, Retry>> it = retries.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Retry> e = it.next();
            Member m = membership.get(e.getKey());
            if (m == null) {
                it.remove();
            } else if (nowMs >= e.getValue().atMs() && !inFlight.contains(m.id())) {
                request(m);
            }
        }
    }

    /**
     * Called at every heartbeat of a ready member: when its table and ours both stayed the same
     * since its previous heartbeat and still differ, no traffic in flight explains it (a missed
     * repair, a partition that healed within the failure timeout), so pull from it now rather
     * than at the next periodic run.
     */
    void onHeartbeat(Member m, long nowMs) {
        long mine = table.tableHash();
        Seen before = seen.get(m.id());
        long lastRequest = before == null ? Long.MIN_VALUE / 2 : before.lastPullRequestMs();
        boolean quietDivergence = before != null && before.remoteHash() == m.tableHash()
                && before.localHash() == mine && m.tableHash() != mine;
        if (quietDivergence && m.isReady() && nowMs - lastRequest >= DIVERGENCE_PULL_INTERVAL_MS) {
            lastRequest = nowMs;
            request(m);
        }
        seen.put(m.id(), new Seen(m.tableHash(), mine, lastRequest));
    }

    /** A member left the view. */
    void forget(long memberId) {
        retries.remove(memberId);
        seen.remove(memberId);
        requestedAgain.remove(memberId);
        pulledAt.remove(memberId);
    }

    /**
     * The periodic backstop: only members whose announced table hash differs have anything to
     * give, so a converged cluster makes no calls.
     */
    void requestWhereTablesDiffer() {
        long mine = table.tableHash();
        membership.members().stream().filter(m -> m.isReady() && m.tableHash() != mine).forEach(this::request);
    }
}
