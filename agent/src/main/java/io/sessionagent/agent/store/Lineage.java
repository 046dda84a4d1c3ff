package io.sessionagent.agent.store;

import java.util.ArrayList;
import java.util.List;

/**
 * Who wrote each version of a session's history, kept as runs of one writer: pairs
 * {@code (first version of the run, writer)}, oldest first, the last run lasting to the held
 * version and being the held writer's. A {@code (version, writer)} pair names one write (a member
 * commits a version only on top of the version before it), so two records share their history up
 * to the highest version at which both name the same writer, and differ everywhere above it.
 *
 * <p>Runs rather than one writer per version: a session served by one node has a single run
 * however many versions it has, and {@code null} stands for "one run from version 1 by the held
 * writer", so the common case costs no array at all. A writer change adds a run; past
 * {@link #MAX_RUNS} the oldest are dropped, and versions below the first run kept are unknown.
 * All versions are compared unsigned, as the wire carries them.
 */
final class Lineage {
    /**
     * Eight runs keep the history of a session passed between nodes a few times (failovers,
     * broken stickiness) in at most 16 + 16 × 8 = 144 bytes; only a concurrent delta older than
     * that history is taken for a re-delivery.
     */
    static final int MAX_RUNS = 8;

    private Lineage() {
    }

    /** The lowest version whose writer is known. */
    static long floor(long[] runs) {
        return runs == null ? 1 : runs[0];
    }

    /** True when the writer of {@code x} is known in the history of {@code (version, writer)}. */
    static boolean knows(long[] runs, long version, long x) {
        return x != 0 && Long.compareUnsigned(x, floor(runs)) >= 0 && Long.compareUnsigned(x, version) <= 0;
    }

    /** The writer of version {@code x}; only meaningful when {@link #knows} it. */
    static long writerAt(long[] runs, long writer, long x) {
        if (runs == null) {
            return writer;
        }
        for (int i = runs.length - 2; i >= 0; i -= 2) {
            if (Long.compareUnsigned(x, runs[i]) >= 0) {
                return runs[i + 1];
            }
        }
        return writer;
    }

    /** What a history says of one version: held, not held (another writer wrote it), or unknown. */
    enum Verdict { HELD, CONCURRENT, UNKNOWN }

    static Verdict verdict(long[] runs, long version, long writer, long x, long xWriter) {
        if (!knows(runs, version, x)) {
            return Verdict.UNKNOWN;
        }
        return writerAt(runs, writer, x) == xWriter ? Verdict.HELD : Verdict.CONCURRENT;
    }

    /**
     * The history after a write of {@code next} by {@code nextWriter} on top of the held version.
     * A version that does not follow the held one (which no local write or delta on its base
     * makes) starts the history afresh, since the versions in between have no known writer.
     */
    static long[] extend(long[] runs, long version, long writer, long next, long nextWriter) {
        if (next != version + 1) {
            return single(next, nextWriter);
        }
        if (nextWriter == writer) {
            return runs;
        }
        long[] base = runs == null ? new long[] {1, writer} : runs;
        int keep = Math.min(base.length, 2 * (MAX_RUNS - 1));
        long[] out = new long[keep + 2];
        System.arraycopy(base, base.length - keep, out, 0, keep);
        out[keep] = next;
        out[keep + 1] = nextWriter;
        return out;
    }

    /** The history of a version whose predecessors are unknown (or that is the first version). */
    static long[] single(long version, long writer) {
        return version == 1 ? null : new long[] {version, writer};
    }

    /**
     * The runs as the wire carries them, or, when they do not describe {@code (version, writer)}
     * consistently (an agent that predates them sent none), only that version.
     */
    static long[] fromWire(List<Long> wire, long version, long writer) {
        int n = wire.size();
        if (n == 0 || n % 2 != 0 || wire.get(n - 1) != writer
                || Long.compareUnsigned(wire.get(n - 2), version) > 0 || wire.get(0) == 0) {
            return single(version, writer);
        }
        for (int i = 2; i < n; i += 2) {
            if (Long.compareUnsigned(wire.get(i - 2), wire.get(i)) >= 0) {
                return single(version, writer);
            }
        }
        int from = Math.max(0, n - 2 * MAX_RUNS);
        if (n - from == 2 && wire.get(from) == 1) {
            return null;
        }
        long[] runs = new long[n - from];
        for (int i = from; i < n; i++) {
            runs[i - from] = wire.get(i);
        }
        return runs;
    }

    static List<Long> toWire(long[] runs, long writer) {
        if (runs == null) {
            return List.of(1L, writer);
        }
        List<Long> out = new ArrayList<>(runs.length);
        for (long r : runs) {
            out.add(r);
        }
        return out;
    }

    /**
     * The highest version two histories may share: below it both name the same writers, above it
     * at least one of them differs or is unknown. Where neither history knows enough to find the
     * fork, the answer is the highest version it may be, so that a version above it was
     * certainly on one side only.
     */
    static long fork(long[] runsA, long versionA, long writerA, long[] runsB, long versionB, long writerB) {
        long lo = Long.compareUnsigned(floor(runsA), floor(runsB)) >= 0 ? floor(runsA) : floor(runsB);
        long hi = Long.compareUnsigned(versionA, versionB) <= 0 ? versionA : versionB;
        if (Long.compareUnsigned(lo, hi) > 0) {
            return hi;
        }
        if (!agree(runsA, writerA, runsB, writerB, lo)) {
            return lo - 1;
        }
        // Histories that agree at a version agree at every version below it: search the boundary.
        while (lo != hi) {
            long mid = lo + ((hi - lo + 1) >>> 1);
            if (agree(runsA, writerA, runsB, writerB, mid)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private static boolean agree(long[] runsA, long writerA, long[] runsB, long writerB, long x) {
        return writerAt(runsA, writerA, x) == writerAt(runsB, writerB, x);
    }
}
