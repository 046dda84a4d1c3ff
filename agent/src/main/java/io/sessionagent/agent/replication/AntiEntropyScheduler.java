package io.sessionagent.agent.replication;

import io.sessionagent.agent.membership.Member;
import io.sessionagent.agent.membership.Membership;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.SessionTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Decides when to pull from a member by {@link AntiEntropy}, and runs at most one pull per member
 * at a time on the peer I/O executor. Confined to the protocol thread; the pull itself is not.
 */
final class AntiEntropyScheduler {
    private static final Logger log = LoggerFactory.getLogger(AntiEntropyScheduler.class);

    private final AntiEntropy antiEntropy;
    private final LocalMember local;
    private final Membership membership;
    private final SessionTable table;
    private final Counters counters;
    private final Executor loop;
    private final Executor peerIo;
    private final Set<Long> inFlight = new HashSet<>();

    AntiEntropyScheduler(AntiEntropy antiEntropy, LocalMember local, Membership membership, SessionTable table,
                         Counters counters, Executor loop, Executor peerIo) {
        this.antiEntropy = antiEntropy;
        this.local = local;
        this.membership = membership;
        this.table = table;
        this.counters = counters;
        this.loop = loop;
        this.peerIo = peerIo;
    }

    void request(Member m) {
        // A member with replication off serves its own node only: nothing is pulled from it.
        if (!local.isReady() || !local.replicationEnabled() || !m.replicationEnabled()
                || m.peerAddress().isEmpty() || !inFlight.add(m.id())) {
            return;
        }
        long id = m.id();
        String address = m.peerAddress();
        long peerCount = m.sessionCount();
        peerIo.execute(() -> {
            try {
                antiEntropy.pullFrom(address, peerCount);
            } catch (RuntimeException e) {
                counters.increment(Counter.ANTI_ENTROPY_FAILURES);
                log.warn("anti-entropy with {} failed: {}", address, e.toString());
            } finally {
                loop.execute(() -> inFlight.remove(id));
            }
        });
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
