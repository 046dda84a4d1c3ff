package io.sessionagent.agent.replication;

import io.sessionagent.agent.membership.Member;
import io.sessionagent.agent.membership.Membership;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.metrics.Histograms;
import io.sessionagent.agent.store.SessionTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * JOINING → READY by state transfer: a snapshot of the table is pulled from one READY member on
 * the peer I/O executor while live batches wait in the join buffer; then the buffer is applied
 * and anti-entropy covers what neither brought. Confined to the protocol thread.
 */
final class Join {
    private static final Logger log = LoggerFactory.getLogger(Join.class);

    private final ReplicationSettings s;
    private final LocalMember local;
    private final Membership membership;
    private final PeerClients peers;
    private final SessionTable table;
    private final JoinBuffer buffer;
    private final ReceiveStreams receive;
    private final Heartbeats heartbeats;
    private final AntiEntropyScheduler antiEntropy;
    private final Counters counters;
    private final Histograms histograms;
    private final LongSupplier clockMs;
    private final Executor loop;
    private final Executor peerIo;

    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final Set<Long> transferTried = new HashSet<>();
    private long startedMs;
    /** Ticks run since the join started: the time the agent was actually at work, see {@link #advance}. */
    private long ticks;
    private boolean transferRunning;
    /** The member of the last successful transfer; 0 while none succeeded. */
    private long transferSource;

    Join(ReplicationSettings settings, LocalMember local, Membership membership, PeerClients peers,
         SessionTable table, JoinBuffer buffer, ReceiveStreams receive, Heartbeats heartbeats,
         AntiEntropyScheduler antiEntropy, Counters counters, Histograms histograms, LongSupplier clockMs,
         Executor loop, Executor peerIo) {
        this.s = settings;
        this.local = local;
        this.membership = membership;
        this.peers = peers;
        this.table = table;
        this.buffer = buffer;
        this.receive = receive;
        this.heartbeats = heartbeats;
        this.antiEntropy = antiEntropy;
        this.counters = counters;
        this.histograms = histograms;
        this.clockMs = clockMs;
        this.loop = loop;
        this.peerIo = peerIo;
    }

    CompletableFuture<Void> ready() {
        return ready;
    }

    /** The join's timeouts count from here. */
    void start(long now) {
        startedMs = now;
    }

    /** Called at every tick while JOINING. */
    void advance(long now) {
        ticks++;
        if (now - startedMs >= s.stateTransferTimeoutMs()) {
            counters.increment(Counter.STATE_TRANSFER_TIMEOUTS);
            log.warn("no complete state transfer within {} ms; reporting ready with what arrived",
                    s.stateTransferTimeoutMs());
            becomeReady(now);
            return;
        }
        if (transferRunning) {
            return;
        }
        Member source = null;
        for (Member m : membership.members()) {
            if (m.isReady() && m.replicationEnabled() && !m.peerAddress().isEmpty()
                    && !transferTried.contains(m.id())) {
                source = m;
                break;
            }
        }
        if (source != null) {
            startTransfer(source);
        } else if (now - startedMs >= s.joinWaitMs() && ticks * s.tickMs() >= s.joinWaitMs()) {
            // Silence proves there is no ready member only if the agent was listening. After a stall
            // (a starved JVM right after a restart) the overdue tick runs before the heartbeats that
            // queued up behind it; the clock alone would make this agent start an empty table while
            // the cluster holds sessions. Ticks run only while the agent is at work, and the frames
            // that arrive meanwhile are handled between them.
            if (!transferTried.isEmpty()) {
                counters.increment(Counter.STATE_TRANSFER_TIMEOUTS);
                log.warn("every state transfer source failed; reporting ready with what arrived");
            } else {
                log.info("no ready member within {} ms: this agent starts the cluster's table", s.joinWaitMs());
            }
            becomeReady(now);
        }
    }

    private void startTransfer(Member source) {
        transferRunning = true;
        transferTried.add(source.id());
        String address = source.peerAddress();
        String name = source.nodeName();
        long started = clockMs.getAsLong();
        log.info("state transfer from {} at {}", name, address);
        peerIo.execute(() -> {
            long[] bytes = new long[1];
            try {
                long n = peers.snapshot(address, s.stateTransferTimeoutMs(), r -> {
                    table.merge(r);
                    bytes[0] += r.getSerializedSize();
                });
                loop.execute(() -> transferDone(source.id(), n, bytes[0], started));
            } catch (RuntimeException e) {
                log.warn("state transfer from {} failed: {}", name, e.toString());
                loop.execute(() -> transferRunning = false);
            }
        });
    }

    private void transferDone(long sourceId, long records, long bytes, long startedMs) {
        transferRunning = false;
        transferSource = sourceId;
        if (!local.isJoining()) {
            return;
        }
        counters.increment(Counter.STATE_TRANSFERS);
        counters.add(Counter.STATE_TRANSFER_RECORDS, records);
        counters.add(Counter.STATE_TRANSFER_BYTES, bytes);
        long now = clockMs.getAsLong();
        histograms.stateTransfer(now - startedMs);
        log.info("state transfer done: {} records, {} bytes in {} ms", records, bytes, now - startedMs);
        becomeReady(now);
    }

    private void becomeReady(long now) {
        receive.endJoin();
        buffer.clear();
        local.becomeReady();
        heartbeats.send(now);
        ready.complete(null);
        // Writes in flight while the snapshot was cut may have reached neither it nor this agent.
        for (Member m : membership.members()) {
            if (m.isReady() && (m.id() != transferSource || buffer.lostData())) {
                antiEntropy.request(m);
            }
        }
    }
}
