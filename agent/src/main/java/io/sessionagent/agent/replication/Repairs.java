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
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Sessions whose replicated delta could not be applied, fetched whole from their writer: one
 * fetch per writer at a time, on the peer I/O executor. Confined to the protocol thread.
 */
final class Repairs {
    private static final Logger log = LoggerFactory.getLogger(Repairs.class);
    private static final int REPAIR_BATCH = 500;

    private final LocalMember local;
    private final Membership membership;
    private final PeerClients peers;
    private final SessionTable table;
    private final AntiEntropyScheduler antiEntropy;
    private final Counters counters;
    private final Executor loop;
    private final Executor peerIo;
    private final long callTimeoutMs;
    /** Writer id → session ids to fetch whole. */
    private final Map<Long, Set<String>> pending = new HashMap<>();
    private final Set<Long> inFlight = new HashSet<>();

    Repairs(LocalMember local, Membership membership, PeerClients peers, SessionTable table,
            AntiEntropyScheduler antiEntropy, Counters counters, Executor loop, Executor peerIo, long callTimeoutMs) {
        this.local = local;
        this.membership = membership;
        this.peers = peers;
        this.table = table;
        this.antiEntropy = antiEntropy;
        this.counters = counters;
        this.loop = loop;
        this.peerIo = peerIo;
        this.callTimeoutMs = callTimeoutMs;
    }

    void add(long writer, String id) {
        pending.computeIfAbsent(writer, k -> new LinkedHashSet<>()).add(id);
    }

    /**
     * Starts a fetch for every writer without one in flight. Repairs owed by a member no longer in
     * the view are kept and sent to another READY member.
     */
    void start() {
        if (pending.isEmpty() || !local.isReady()) {
            return;
        }
        Iterator<Map.Entry<Long, Set<String>>> it = pending.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Set<String>> e = it.next();
            long writer = e.getKey();
            if (inFlight.contains(writer)) {
                continue;
            }
            Member source = membership.get(writer);
            if (source == null || source.peerAddress().isEmpty()) {
                source = membership.members().stream().filter(m -> m.isReady() && !m.peerAddress().isEmpty())
                        .findFirst().orElse(null);
            }
            if (source == null) {
                it.remove();
                continue;
            }
            List<String> ids = new ArrayList<>(REPAIR_BATCH);
            Iterator<String> idIt = e.getValue().iterator();
            while (idIt.hasNext() && ids.size() < REPAIR_BATCH) {
                ids.add(idIt.next());
                idIt.remove();
            }
            if (e.getValue().isEmpty()) {
                it.remove();
            }
            inFlight.add(writer);
            String address = source.peerAddress();
            Member fallback = source;
            peerIo.execute(() -> {
                try {
                    peers.fetch(address, ids, callTimeoutMs, r -> {
                        if (table.merge(r)) {
                            counters.increment(Counter.SESSION_REPAIRS);
                        }
                    });
                } catch (RuntimeException ex) {
                    log.warn("repair of {} sessions from {} failed: {}", ids.size(), address, ex.toString());
                    loop.execute(() -> antiEntropy.request(fallback));
                } finally {
                    loop.execute(() -> inFlight.remove(writer));
                }
            });
        }
    }
}
