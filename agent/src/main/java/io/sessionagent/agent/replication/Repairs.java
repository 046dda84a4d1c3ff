package io.sessionagent.agent.replication;

import io.sessionagent.agent.membership.Member;
import io.sessionagent.agent.membership.Membership;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.SessionTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * Sessions whose replicated delta could not be applied, fetched whole: from their writer while it
 * is in the view, else from any other READY member (they all hold the replicated table). One fetch
 * per writer at a time, on the peer I/O executor. A fetch that fails is not the end of the
 * repair: its ids wait {@link #RETRY_MS} and are asked of another member if there is one.
 * Confined to the protocol thread.
 */
final class Repairs {
    private static final Logger log = LoggerFactory.getLogger(Repairs.class);
    private static final int REPAIR_BATCH = 500;
    /** Wait after a failed fetch before the ids are asked for again. */
    static final long RETRY_MS = 250;

    /** The last fetch for a writer's sessions failed: from which member, and when. */
    private record Failure(long sourceId, long atMs) {
    }

    private final LocalMember local;
    private final Membership membership;
    private final PeerClients peers;
    private final SessionTable table;
    private final AntiEntropyScheduler antiEntropy;
    private final Counters counters;
    private final Executor loop;
    private final Executor peerIo;
    private final long callTimeoutMs;
    private final LongSupplier clockMs;
    /** Writer id → session ids to fetch whole, each with the version wanted. */
    private final Map<Long, Map<String, Long>> pending = new HashMap<>();
    /** Writer id → the session ids its fetch in flight asks for, each with the version wanted. */
    private final Map<Long, Map<String, Long>> inFlight = new HashMap<>();
    private final Map<Long, Failure> failures = new HashMap<>();

    Repairs(LocalMember local, Membership membership, PeerClients peers, SessionTable table,
            AntiEntropyScheduler antiEntropy, Counters counters, Executor loop, Executor peerIo, long callTimeoutMs,
            LongSupplier clockMs) {
        this.local = local;
        this.membership = membership;
        this.peers = peers;
        this.table = table;
        this.antiEntropy = antiEntropy;
        this.counters = counters;
        this.loop = loop;
        this.peerIo = peerIo;
        this.callTimeoutMs = callTimeoutMs;
        this.clockMs = clockMs;
    }

    /** The delta of session {@code id} to {@code version} that {@code writer} wrote could not be applied. */
    void add(long writer, String id, long version) {
        pending.computeIfAbsent(writer, k -> new LinkedHashMap<>()).merge(id, version, Math::max);
    }

    /**
     * A fetch of the session waits or is under way, and the table does not hold the version it
     * is for yet (a whole re-send or another repair may have brought it meanwhile).
     */
    boolean pending(String id) {
        return awaited(pending, id) || awaited(inFlight, id);
    }

    private boolean awaited(Map<Long, Map<String, Long>> byWriter, String id) {
        for (Map.Entry<Long, Map<String, Long>> e : byWriter.entrySet()) {
            Long version = e.getValue().get(id);
            if (version != null && !table.holdsAtLeast(id, version, e.getKey())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Starts a fetch for every writer without one in flight. Ids are dropped only when no member
     * in the view could serve them; what the fetch does not bring is left to anti-entropy.
     */
    void start() {
        if (pending.isEmpty() || !local.isReady()) {
            return;
        }
        long now = clockMs.getAsLong();
        Iterator<Map.Entry<Long, Map<String, Long>>> it = pending.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Map<String, Long>> e = it.next();
            long writer = e.getKey();
            if (inFlight.containsKey(writer)) {
                continue;
            }
            Failure failure = failures.get(writer);
            if (failure != null && now - failure.atMs() < RETRY_MS) {
                continue;
            }
            Member source = sourceFor(writer, failure == null ? null : failure.sourceId());
            if (source == null) {
                it.remove();
                failures.remove(writer);
                continue;
            }
            Map<String, Long> ids = new LinkedHashMap<>();
            Iterator<Map.Entry<String, Long>> idIt = e.getValue().entrySet().iterator();
            while (idIt.hasNext() && ids.size() < REPAIR_BATCH) {
                Map.Entry<String, Long> wanted = idIt.next();
                idIt.remove();
                // Brought meanwhile by a whole delta or a re-send: nothing to fetch.
                if (!table.holdsAtLeast(wanted.getKey(), wanted.getValue(), writer)) {
                    ids.put(wanted.getKey(), wanted.getValue());
                }
            }
            if (e.getValue().isEmpty()) {
                it.remove();
            }
            if (!ids.isEmpty()) {
                fetch(writer, source, ids);
            }
        }
    }

    /**
     * The writer itself while it is in the view, else a READY member; a member whose fetch just
     * failed only when there is no other. Null when no member could serve.
     */
    private Member sourceFor(long writer, Long failedSource) {
        Member fallback = null;
        Member w = membership.get(writer);
        if (w != null && !w.peerAddress().isEmpty()) {
            if (failedSource == null || failedSource != w.id()) {
                return w;
            }
            fallback = w;
        }
        for (Member m : membership.members()) {
            if (m.isReady() && !m.peerAddress().isEmpty() && m.id() != writer) {
                if (failedSource == null || failedSource != m.id()) {
                    return m;
                }
                fallback = m;
            }
        }
        return fallback;
    }

    private void fetch(long writer, Member source, Map<String, Long> ids) {
        inFlight.put(writer, ids);
        String address = source.peerAddress();
        List<String> asked = new ArrayList<>(ids.keySet());
        peerIo.execute(() -> {
            boolean ok = false;
            try {
                peers.fetch(address, asked, callTimeoutMs, r -> {
                    if (table.merge(r)) {
                        counters.increment(Counter.SESSION_REPAIRS);
                    }
                });
                ok = true;
            } catch (RuntimeException ex) {
                log.warn("repair of {} sessions from {} failed: {}", asked.size(), address, ex.toString());
            } finally {
                boolean succeeded = ok;
                loop.execute(() -> fetched(writer, source, ids, succeeded));
            }
        });
    }

    private void fetched(long writer, Member source, Map<String, Long> ids, boolean succeeded) {
        inFlight.remove(writer);
        if (succeeded) {
            failures.remove(writer);
            return;
        }
        failures.put(writer, new Failure(source.id(), clockMs.getAsLong()));
        ids.forEach((id, version) -> add(writer, id, version));
        antiEntropy.request(source);
    }
}
