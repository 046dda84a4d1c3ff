package io.sessionagent.agent.replication;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.proto.v1.VersionEntry;

import java.util.ArrayList;
import java.util.List;

/**
 * Pulls from one peer whatever it holds in a newer version (by the conflict rule): compare
 * bucket hashes, list the entries of the buckets that differ, fetch the records that win.
 * Each side pulls for itself, so after both have run they hold the same table.
 */
final class AntiEntropy {
    private static final int MIN_BUCKETS = 16;
    private static final int MAX_BUCKETS = 65_536;
    private static final int ENTRIES_PER_BUCKET = 32;
    /** About 32 entries a bucket: a call's answer stays near 1.5 MB, well inside the message limit. */
    private static final int BUCKETS_PER_CALL = 1_024;
    private static final int IDS_PER_FETCH = 1_000;

    private final SessionTable table;
    private final PeerClients peers;
    private final Counters counters;
    private final long timeoutMs;

    AntiEntropy(SessionTable table, PeerClients peers, Counters counters, long timeoutMs) {
        this.table = table;
        this.peers = peers;
        this.counters = counters;
        this.timeoutMs = timeoutMs;
    }

    /** Enough buckets that a differing bucket lists few entries. */
    static int bucketsFor(long entries) {
        long wanted = Math.max(MIN_BUCKETS, entries / ENTRIES_PER_BUCKET);
        int b = Integer.highestOneBit((int) Math.min(MAX_BUCKETS, wanted));
        return b < wanted && b < MAX_BUCKETS ? b << 1 : b;
    }

    /**
     * @param peerCount the peer's table size as it last announced it: the buckets are sized for
     *                  the larger table, so that a bucket of either side lists few entries
     * @return the number of records taken
     */
    long pullFrom(String address, long peerCount) {
        int buckets = bucketsFor(Math.max(peerCount, table.liveCount() + table.tombstoneCount()));
        List<Long> remote = peers.digest(address, buckets, timeoutMs);
        long[] local = table.digest(buckets);
        List<Integer> differing = new ArrayList<>();
        for (int i = 0; i < buckets && i < remote.size(); i++) {
            if (remote.get(i) != local[i]) {
                differing.add(i);
            }
        }
        long taken = 0;
        for (int from = 0; from < differing.size(); from += BUCKETS_PER_CALL) {
            List<Integer> slice = differing.subList(from, Math.min(differing.size(), from + BUCKETS_PER_CALL));
            List<String> wanted = new ArrayList<>();
            for (VersionEntry e : peers.bucketEntries(address, buckets, slice, timeoutMs)) {
                VersionEntry mine = table.versionOf(e.getId());
                if (mine == null || beats(e, mine)) {
                    wanted.add(e.getId());
                }
            }
            for (int i = 0; i < wanted.size(); i += IDS_PER_FETCH) {
                long[] n = new long[1];
                peers.fetch(address, wanted.subList(i, Math.min(wanted.size(), i + IDS_PER_FETCH)), timeoutMs, r -> {
                    if (table.merge(r)) {
                        n[0]++;
                    }
                });
                taken += n[0];
            }
        }
        counters.increment(Counter.ANTI_ENTROPY_RUNS);
        counters.add(Counter.ANTI_ENTROPY_RECORDS, taken);
        return taken;
    }

    private static boolean beats(VersionEntry a, VersionEntry b) {
        int c = Long.compareUnsigned(a.getVersion(), b.getVersion());
        return c > 0 || (c == 0 && Long.compareUnsigned(a.getWriter(), b.getWriter()) > 0);
    }
}
