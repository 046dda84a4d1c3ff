package io.sessionagent.agent.store;

import com.google.protobuf.ByteString;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ReplicatedDelta;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SessionSummary;
import io.sessionagent.proto.v1.VersionEntry;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The session table: every session this agent holds, local or replicated, with versions,
 * expiry, tombstones and memory accounting.
 *
 * <p>Every change goes through {@link ConcurrentHashMap#compute}, which serialises changes of
 * one id while other ids proceed in parallel. Callbacks that must see changes in commit order
 * (the replication queue) run inside that critical section.
 */
public final class SessionTable {
    /**
     * The version of a tombstone left for an id this table did not hold: the session may exist
     * elsewhere at any version, or be on its way here, and the tombstone must beat all of them.
     * Session ids are random and never reused, so nothing legitimate is ever refused by it.
     */
    public static final long UNKNOWN_SESSION_TOMBSTONE_VERSION = Long.MAX_VALUE;

    private final ConcurrentHashMap<String, StoredSession> entries = new ConcurrentHashMap<>();
    private final AtomicLong liveCount = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong tombstones = new AtomicLong();
    /** Sum of entry hashes (mod 2^64): order-independent and cheap to keep up to date. */
    private final AtomicLong tableHash = new AtomicLong();
    /**
     * Live sessions and bytes by writer id, for the metrics' "held by origin". Writers are the
     * members that ever wrote (a handful; a restart keeps its member id), so entries are kept
     * once created and a zero tally is simply not reported.
     */
    private final ConcurrentHashMap<Long, WriterTally> byWriter = new ConcurrentHashMap<>();
    private final AttributeNames names = new AttributeNames();
    private final Limits limits;
    private final LongSupplier clockMs;
    private final long expiryGraceMs;
    private final long tombstoneTtlMs;
    private final long maxTombstones;
    private final Counters counters;
    /**
     * Told of every replicated delta this table applied, on the applying thread, after the id's
     * critical section: lets a benchmark time origin commit to replica apply precisely. Must be quick.
     */
    private volatile Consumer<ReplicatedDelta> appliedObserver = d -> {
    };
    /** Told of every branch the conflict rule dropped, after the id's critical section. */
    private volatile Consumer<DiscardedBranch> discardObserver = b -> {
    };

    /**
     * @param expiryGraceMs  added to every session's timeout, so that a replica whose last
     *                       coalesced access is a little behind never expires a live session
     * @param tombstoneTtlMs how long an invalidated id is remembered at least
     */
    public SessionTable(Limits limits, LongSupplier clockMs, long expiryGraceMs, long tombstoneTtlMs) {
        this(limits, clockMs, expiryGraceMs, tombstoneTtlMs, Long.MAX_VALUE, new Counters());
    }

    /**
     * @param maxTombstones past this many tombstones, the expiry scan removes the oldest of those
     *                      past {@code tombstoneTtlMs} before their time (counted)
     * @param counters      counts what tombstones refused, expired records refused and tombstones removed early
     */
    public SessionTable(Limits limits, LongSupplier clockMs, long expiryGraceMs, long tombstoneTtlMs,
                        long maxTombstones, Counters counters) {
        this.limits = limits;
        this.clockMs = clockMs;
        this.expiryGraceMs = expiryGraceMs;
        this.tombstoneTtlMs = tombstoneTtlMs;
        this.maxTombstones = maxTombstones;
        this.counters = counters;
    }

    /** A local write whose writer does not wait for replicas. */
    public long writeLocal(SessionChange change, long writer, Consumer<ReplicatedDelta> onCommit)
            throws StaleBaseException, LimitExceededException {
        return writeLocal(change, writer, false, onCommit);
    }

    /**
     * Applies a change made by the local application.
     *
     * @param writer   this agent's member id
     * @param sync     the writer waits for replicas: if a concurrent branch later wins, the
     *                 members that drop this write report an acknowledged write discarded
     * @param onCommit receives the delta to replicate, inside the id's critical section, so
     *                 deltas of one session are handed over in version order
     * @return the new version
     */
    public long writeLocal(SessionChange change, long writer, boolean sync, Consumer<ReplicatedDelta> onCommit)
            throws StaleBaseException, LimitExceededException {
        String id = change.getId();
        Object[] failure = new Object[1];
        long[] newVersion = new long[1];
        long now = clockMs.getAsLong();
        entries.compute(id, (k, cur) -> {
            long curVersion = cur == null ? 0 : cur.version;
            if (cur != null && !cur.invalidated && isDead(cur, now)) {
                // Reviving it here could lose to a replica's older copy by the conflict rule.
                failure[0] = new StaleBaseException("session " + id + " expired at version " + curVersion,
                        curVersion);
                return cur;
            }
            if (cur != null && cur.invalidated) {
                counters.increment(Counter.TOMBSTONES_REFUSED);
                failure[0] = new StaleBaseException("session " + id + " was invalidated at version " + curVersion,
                        curVersion);
                return cur;
            }
            if (change.getBaseVersion() != curVersion) {
                failure[0] = new StaleBaseException("session " + id + " is at version " + curVersion
                        + " but the change was based on version " + change.getBaseVersion(), curVersion);
                return cur;
            }
            Map<String, ByteString> attrs = merged(cur == null ? Map.of() : cur.attributes,
                    change.getSetList(), change.getRemovedList());
            long idHash = cur == null ? Hashing.hash64(id) : cur.idHash;
            long[] lineage = cur == null ? Lineage.single(1, writer)
                    : Lineage.extend(cur.lineage, cur.version, cur.writer, curVersion + 1, writer);
            StoredSession next = new StoredSession(id, idHash, curVersion + 1, writer,
                    cur == null ? change.getCreationTimeMs() : cur.creationTimeMs,
                    Math.max(change.getAccessTimeMs(), cur == null ? 0 : cur.lastAccessMs),
                    change.getMaxInactiveSeconds(), attrs, false, lineage,
                    sync ? curVersion + 1 : cur == null ? 0 : cur.syncVersion);
            String refusal = checkLimits(cur, next);
            if (refusal != null) {
                failure[0] = new LimitExceededException(refusal);
                return cur;
            }
            account(cur, next);
            newVersion[0] = next.version;
            boolean whole = setsEveryAttribute(change.getSetList(), attrs);
            ReplicatedDelta.Builder delta = ReplicatedDelta.newBuilder()
                    .setId(id)
                    .setBaseVersion(curVersion)
                    .setBaseWriter(cur == null ? 0 : cur.writer)
                    .setNewVersion(next.version)
                    .setWriter(writer)
                    .setCreationTimeMs(next.creationTimeMs)
                    .setAccessTimeMs(next.lastAccessMs)
                    .setMaxInactiveSeconds(next.maxInactiveSeconds)
                    .addAllSet(change.getSetList())
                    .addAllRemoved(change.getRemovedList())
                    .setWrittenAtMs(now)
                    .setWhole(whole)
                    .setSync(sync);
            if (whole) {
                withHistory(delta, next);
            }
            onCommit.accept(delta.build());
            return next;
        });
        if (failure[0] instanceof StaleBaseException e) {
            throw e;
        }
        if (failure[0] instanceof LimitExceededException e) {
            throw e;
        }
        return newVersion[0];
    }

    /** What an invalidation left: the tombstone's version, and whether a live session was there. */
    public record Invalidation(long version, boolean existed) {
    }

    /**
     * Invalidates a session, leaving a tombstone: at the next version of a session held here, at
     * {@link #UNKNOWN_SESSION_TOMBSTONE_VERSION} for an id not held (a create or write of it may
     * still be on its way, from the local application or another member). An id already
     * invalidated keeps its tombstone.
     *
     * @param maxInactiveSeconds the session's timeout as the caller knows it (0 or less: never
     *                           expires, or unknown); of a session held here, the longer of it and
     *                           the held one counts. It decides how long the tombstone is kept.
     */
    public Invalidation invalidateLocal(String id, long writer, long nowMs, int maxInactiveSeconds,
                                        Consumer<ReplicatedDelta> onCommit) {
        Invalidation[] result = new Invalidation[1];
        long committedAt = clockMs.getAsLong();
        entries.compute(id, (k, cur) -> {
            if (cur != null && cur.invalidated) {
                result[0] = new Invalidation(cur.version, false);
                return cur;
            }
            StoredSession tomb = cur == null
                    ? new StoredSession(id, Hashing.hash64(id), UNKNOWN_SESSION_TOMBSTONE_VERSION, writer, nowMs, nowMs,
                            maxInactiveSeconds, Map.of(), true)
                    : new StoredSession(id, cur.idHash, cur.version + 1, writer, cur.creationTimeMs,
                            Math.max(nowMs, cur.lastAccessMs), cur.maxInactiveSeconds <= 0 ? cur.maxInactiveSeconds
                            : Math.max(cur.maxInactiveSeconds, maxInactiveSeconds), Map.of(), true);
            account(cur, tomb);
            result[0] = new Invalidation(tomb.version, cur != null && !isDead(cur, committedAt));
            onCommit.accept(ReplicatedDelta.newBuilder()
                    .setId(id)
                    .setBaseVersion(cur == null ? 0 : cur.version)
                    .setBaseWriter(cur == null ? 0 : cur.writer)
                    .setNewVersion(tomb.version)
                    .setWriter(writer)
                    .setCreationTimeMs(tomb.creationTimeMs)
                    .setAccessTimeMs(tomb.lastAccessMs)
                    // Receivers keep the tombstone as long as this says a copy could live.
                    .setMaxInactiveSeconds(tomb.maxInactiveSeconds)
                    .setInvalidate(true)
                    .setWrittenAtMs(committedAt)
                    .setWhole(true)
                    .build());
            return tomb;
        });
        return result[0];
    }

    /**
     * Applies a delta replicated by another member, by the apply rule of the design. A whole delta
     * does not need its base: it is taken when it beats the held version by the conflict rule.
     */
    public ApplyOutcome applyReplicated(ReplicatedDelta d) {
        ApplyOutcome[] outcome = new ApplyOutcome[1];
        DiscardedBranch[] discarded = new DiscardedBranch[1];
        entries.compute(d.getId(), (k, cur) -> {
            outcome[0] = classify(cur, d);
            if (outcome[0] == ApplyOutcome.CONFLICT_LOCAL_WINS) {
                long[] runs = d.getWhole() ? Lineage.fromWire(d.getLineageList(), d.getNewVersion(), d.getWriter())
                        : Lineage.single(d.getNewVersion(), d.getWriter());
                discarded[0] = refused(cur, d.getNewVersion(), d.getWriter(), runs,
                        d.getWhole() ? d.getSyncVersion() : 0, d.getSync());
            }
            if (!outcome[0].applied()) {
                if (cur != null && cur.invalidated && !d.getInvalidate()) {
                    counters.increment(Counter.TOMBSTONES_REFUSED);
                }
                return cur;
            }
            StoredSession next = applyTo(cur, d, outcome[0] == ApplyOutcome.APPLIED);
            if (outcome[0] != ApplyOutcome.APPLIED && cur != null) {
                discarded[0] = replaced(cur, next);
                if (discarded[0] != null) {
                    // Its history shows the delta forked below the held version: not a gap but a conflict.
                    outcome[0] = ApplyOutcome.WHOLE_OVER_CONFLICT;
                }
            }
            account(cur, next);
            return next;
        });
        if (outcome[0].applied()) {
            appliedObserver.accept(d);
        }
        if (discarded[0] != null) {
            discardObserver.accept(discarded[0]);
        }
        return outcome[0];
    }

    /**
     * The held branch dropped when {@code next} replaces {@code cur}, or null when {@code next}
     * descends from it (or its history is too short to tell, which an agent that predates the
     * lineage causes: nothing is reported then, as before).
     */
    private static DiscardedBranch replaced(StoredSession cur, StoredSession next) {
        if (next.verdictOn(cur.version, cur.writer) != Lineage.Verdict.CONCURRENT) {
            return null;
        }
        long fork = Lineage.fork(cur.lineage, cur.version, cur.writer, next.lineage, next.version, next.writer);
        return new DiscardedBranch(cur.id, true, cur.version, cur.writer, next.version, next.writer,
                Long.compareUnsigned(cur.syncVersion, fork) > 0);
    }

    /**
     * The incoming branch dropped when a version {@code (version, writer)} with history
     * {@code runs} loses to {@code cur}, or null when {@code cur} holds that version (a
     * re-delivery) or cannot tell.
     *
     * @param syncWrite the refused version itself was written by a write that waited for replicas
     */
    private static DiscardedBranch refused(StoredSession cur, long version, long writer, long[] runs,
                                           long syncVersion, boolean syncWrite) {
        if (cur.verdictOn(version, writer) != Lineage.Verdict.CONCURRENT) {
            return null;
        }
        long fork = Lineage.fork(cur.lineage, cur.version, cur.writer, runs, version, writer);
        return new DiscardedBranch(cur.id, false, version, writer, cur.version, cur.writer,
                syncWrite || Long.compareUnsigned(syncVersion, fork) > 0);
    }

    /** The apply rule: what a delta does to the record held (null for none). */
    private static ApplyOutcome classify(StoredSession cur, ReplicatedDelta d) {
        if (cur == null) {
            if (d.getBaseVersion() == 0) {
                return ApplyOutcome.APPLIED;
            }
            return d.getWhole() ? ApplyOutcome.WHOLE_OVER_GAP : ApplyOutcome.GAP;
        }
        int cmp = StoredSession.compareVersions(d.getNewVersion(), d.getWriter(), cur.version, cur.writer);
        int byVersion = Long.compareUnsigned(d.getNewVersion(), cur.version);
        if (cmp == 0) {
            return ApplyOutcome.DUPLICATE;
        }
        if (byVersion < 0) {
            // An older version is a re-delivery only if this lineage holds it; one another writer
            // wrote at that number forked from an earlier version and loses to the held one.
            return cur.verdictOn(d.getNewVersion(), d.getWriter()) == Lineage.Verdict.CONCURRENT
                    ? ApplyOutcome.CONFLICT_LOCAL_WINS : ApplyOutcome.DUPLICATE;
        }
        if (byVersion == 0) {
            // Same version number by another writer: two members wrote concurrently.
            return cmp < 0 ? ApplyOutcome.CONFLICT_LOCAL_WINS
                    : d.getWhole() ? ApplyOutcome.WHOLE_OVER_CONFLICT : ApplyOutcome.CONFLICT_REMOTE_WINS;
        }
        if (d.getBaseVersion() == cur.version && d.getBaseWriter() == cur.writer) {
            return ApplyOutcome.APPLIED;
        }
        // The delta is newer but was built on something this table does not hold: either versions
        // in between are missing, or it descends from a concurrent branch. In both cases its writer
        // holds the winning record, and a whole delta is that record.
        boolean gap = Long.compareUnsigned(d.getBaseVersion(), cur.version) > 0;
        if (d.getWhole()) {
            return gap ? ApplyOutcome.WHOLE_OVER_GAP : ApplyOutcome.WHOLE_OVER_CONFLICT;
        }
        return gap ? ApplyOutcome.GAP : ApplyOutcome.CONFLICT_REMOTE_WINS;
    }

    /**
     * Replaces the observer of branches dropped by the conflict rule: every member that drops one
     * (replacing the version it held, or refusing a concurrent one) tells it once per version
     * dropped. Called on the applying thread, outside the id's critical section; must be quick.
     */
    public void observeDiscardedBranches(Consumer<DiscardedBranch> observer) {
        this.discardObserver = observer;
    }

    /** Replaces the observer of applied replicated deltas (see {@link #appliedObserver}). */
    public void observeReplicatedApplies(Consumer<ReplicatedDelta> observer) {
        this.appliedObserver = observer;
    }

    /**
     * Takes a whole record (state transfer, repair, anti-entropy) when it beats the local one by
     * the conflict rule. A live record that has already expired by its own last access and timeout
     * is not taken (counted): it may be the copy of a session invalidated here long ago, whose
     * tombstone has gone, kept by a member that was away since.
     *
     * @return true when the record was taken
     */
    public boolean merge(SessionRecord record) {
        long now = clockMs.getAsLong();
        boolean[] taken = new boolean[1];
        DiscardedBranch[] discarded = new DiscardedBranch[1];
        entries.compute(record.getId(), (k, cur) -> {
            int cmp = cur == null ? 1 : StoredSession.compareVersions(record.getVersion(), record.getWriter(),
                    cur.version, cur.writer);
            if (cmp < 0) {
                discarded[0] = refused(cur, record.getVersion(), record.getWriter(),
                        Lineage.fromWire(record.getLineageList(), record.getVersion(), record.getWriter()),
                        record.getSyncVersion(), false);
                if (cur.invalidated && !record.getInvalidated()) {
                    counters.increment(Counter.TOMBSTONES_REFUSED);
                }
                return cur;
            }
            if (cmp == 0) {
                // Same version: only the access time can be newer.
                if (record.getLastAccessTimeMs() > cur.lastAccessMs && !cur.invalidated) {
                    return cur.withAccess(record.getLastAccessTimeMs());
                }
                return cur;
            }
            StoredSession next = StoredSession.fromRecord(record, cur == null ? Hashing.hash64(k) : cur.idHash,
                    names::canonical);
            if (cur != null && !cur.invalidated && !next.invalidated) {
                next = next.lastAccessMs >= cur.lastAccessMs ? next : next.withAccess(cur.lastAccessMs);
            }
            if (isDead(next, now)) {
                if (!next.invalidated) {
                    counters.increment(Counter.RECORDS_REFUSED_EXPIRED);
                }
                return cur;
            }
            if (cur != null) {
                discarded[0] = replaced(cur, next);
            }
            account(cur, next);
            taken[0] = true;
            return next;
        });
        if (discarded[0] != null) {
            discardObserver.accept(discarded[0]);
        }
        return taken[0];
    }

    /**
     * Records a pure access (the latest access time wins).
     *
     * @return true when this table holds a live session of that id
     */
    public boolean touch(String id, long accessMs) {
        boolean[] known = new boolean[1];
        entries.computeIfPresent(id, (k, cur) -> {
            if (cur.invalidated) {
                return cur;
            }
            known[0] = true;
            return accessMs > cur.lastAccessMs ? cur.withAccess(accessMs) : cur;
        });
        return known[0];
    }

    /** A live session, or empty (absent, invalidated or expired). */
    public Optional<SessionRecord> get(String id) {
        StoredSession s = entries.get(id);
        if (s == null || s.invalidated || isDead(s, clockMs.getAsLong())) {
            return Optional.empty();
        }
        return Optional.of(s.toRecord());
    }

    /** Any record, tombstones included, for repair requests from peers. */
    public Optional<SessionRecord> getForPeer(String id) {
        StoredSession s = entries.get(id);
        return s == null ? Optional.empty() : Optional.of(s.toRecord());
    }

    /** True when the table holds this version of the session, or one that beats it by the conflict rule. */
    public boolean holdsAtLeast(String id, long version, long writer) {
        StoredSession s = entries.get(id);
        return s != null && StoredSession.compareVersions(s.version, s.writer, version, writer) >= 0;
    }

    /**
     * Hands over the held record as a whole delta, inside the id's critical section, so that it
     * is queued in version order with the deltas of local writes.
     *
     * @return false when the table holds no record of that id
     */
    public boolean resendWhole(String id, Consumer<ReplicatedDelta> onCommit) {
        boolean[] held = new boolean[1];
        entries.computeIfPresent(id, (k, cur) -> {
            held[0] = true;
            onCommit.accept(ReplicatedDelta.newBuilder()
                    .setId(id)
                    // Its own version as its base: an agent that ignores `whole` then never merges it
                    // into an older version (which would keep attributes removed since) but fetches it.
                    .setBaseVersion(cur.version)
                    .setBaseWriter(cur.writer)
                    .setNewVersion(cur.version)
                    .setWriter(cur.writer)
                    .setCreationTimeMs(cur.creationTimeMs)
                    .setAccessTimeMs(cur.lastAccessMs)
                    .setMaxInactiveSeconds(cur.maxInactiveSeconds)
                    .addAllSet(cur.toRecord().getAttributesList())
                    .setInvalidate(cur.invalidated)
                    .setWhole(true)
                    .addAllLineage(Lineage.toWire(cur.lineage, cur.writer))
                    .setSyncVersion(cur.syncVersion)
                    .build());
            return cur;
        });
        return held[0];
    }

    /** The (version, writer) held for an id, or null. */
    public VersionEntry versionOf(String id) {
        StoredSession s = entries.get(id);
        return s == null ? null : VersionEntry.newBuilder().setId(id).setVersion(s.version).setWriter(s.writer).build();
    }

    /**
     * Removes sessions past their inactivity timeout (plus grace) and tombstones at the end of
     * their life (see {@link #isDead}); past max-tombstones, then also the oldest tombstones past
     * tombstone-ttl.
     *
     * @return the number of sessions expired (tombstones not counted)
     */
    public int expire(long nowMs) {
        int expired = 0;
        for (StoredSession s : entries.values()) {
            if (isDead(s, nowMs)) {
                boolean[] removed = new boolean[1];
                entries.computeIfPresent(s.id, (k, cur) -> {
                    if (!isDead(cur, nowMs)) {
                        return cur;
                    }
                    account(cur, null);
                    removed[0] = !cur.invalidated;
                    return null;
                });
                if (removed[0]) {
                    expired++;
                }
            }
        }
        if (tombstones.get() > maxTombstones) {
            removeOldestTombstones(nowMs);
        }
        return expired;
    }

    /**
     * Down to max-tombstones, oldest invalidation first, among the tombstones past tombstone-ttl: a
     * bound on memory where invalidated sessions that never expire (or expire late) pile up. A
     * tombstone removed early no longer stops a copy kept by a member away since from coming back.
     */
    private void removeOldestTombstones(long nowMs) {
        List<StoredSession> old = new ArrayList<>();
        for (StoredSession s : entries.values()) {
            if (s.invalidated && nowMs - s.lastAccessMs > tombstoneTtlMs) {
                old.add(s);
            }
        }
        old.sort(Comparator.comparingLong(s -> s.lastAccessMs));
        long excess = tombstones.get() - maxTombstones;
        for (int i = 0; i < old.size() && excess > 0; i++) {
            StoredSession s = old.get(i);
            boolean[] removed = new boolean[1];
            entries.computeIfPresent(s.id, (k, cur) -> {
                if (cur != s) {
                    return cur;
                }
                account(cur, null);
                removed[0] = true;
                return null;
            });
            if (removed[0]) {
                counters.increment(Counter.TOMBSTONES_EVICTED);
                excess--;
            }
        }
    }

    /**
     * A session is dead past its timeout plus grace. A tombstone is dead once every copy of the
     * session it kills has expired: its invalidation time (its last access, no earlier than the
     * session's) plus the session's timeout and grace, and the grace once more for clock skew
     * between the members, but never before tombstone-ttl. A tombstone of a session that never
     * expires (or whose timeout the invalidating agent did not know) lives until max-tombstones
     * removes it.
     */
    private boolean isDead(StoredSession s, long nowMs) {
        if (!s.invalidated) {
            return nowMs > s.expiresAtMs(expiryGraceMs);
        }
        if (s.maxInactiveSeconds <= 0) {
            return false;
        }
        long life = Math.max(tombstoneTtlMs, s.maxInactiveSeconds * 1000L + 2 * expiryGraceMs);
        return nowMs - s.lastAccessMs > life;
    }

    /** Every record, tombstones included, in no particular order (weakly consistent). */
    public void forEachRecord(Consumer<SessionRecord> sink) {
        for (StoredSession s : entries.values()) {
            sink.accept(s.toRecord());
        }
    }

    /** Hashes of the table cut into {@code buckets} buckets by id (a power of two). */
    public long[] digest(int buckets) {
        long[] out = new long[buckets];
        for (StoredSession s : entries.values()) {
            out[Hashing.bucket(s.idHash, buckets)] += s.entryHash();
        }
        return out;
    }

    /** The (id, version, writer) of every entry in the given buckets. */
    public List<VersionEntry> bucketEntries(int buckets, Collection<Integer> bucketIds) {
        boolean[] wanted = new boolean[buckets];
        for (int b : bucketIds) {
            if (b >= 0 && b < buckets) {
                wanted[b] = true;
            }
        }
        List<VersionEntry> out = new ArrayList<>();
        for (StoredSession s : entries.values()) {
            if (wanted[Hashing.bucket(s.idHash, buckets)]) {
                out.add(VersionEntry.newBuilder().setId(s.id).setVersion(s.version).setWriter(s.writer).build());
            }
        }
        return out;
    }

    /** Live sessions with ids after {@code afterId}, ordered by id, at most {@code limit}. */
    public List<SessionSummary> listAfter(String afterId, int limit) {
        List<StoredSession> page = new ArrayList<>();
        long now = clockMs.getAsLong();
        for (StoredSession s : entries.values()) {
            if (!s.invalidated && s.id.compareTo(afterId) > 0 && !isDead(s, now)) {
                page.add(s);
            }
        }
        page.sort((a, b) -> a.id.compareTo(b.id));
        List<SessionSummary> out = new ArrayList<>(Math.min(limit, page.size()));
        for (StoredSession s : page.subList(0, Math.min(limit, page.size()))) {
            out.add(SessionSummary.newBuilder().setId(s.id).setVersion(s.version).setWriter(s.writer)
                    .setLastAccessTimeMs(s.lastAccessMs).setBytes(s.bytes).build());
        }
        return out;
    }

    public long liveCount() {
        return liveCount.get();
    }

    public long liveBytes() {
        return liveBytes.get();
    }

    public long tombstoneCount() {
        return tombstones.get();
    }

    /**
     * Live sessions and their bytes by the member id of their writer (the last member that
     * changed them); writers holding nothing are left out. Each tally is read on its own, so the
     * whole is consistent per writer, not across writers.
     */
    public Map<Long, Held> heldByWriter() {
        Map<Long, Held> out = new HashMap<>();
        byWriter.forEach((writer, t) -> {
            long sessions = t.sessions.get();
            if (sessions > 0) {
                out.put(writer, new Held(sessions, t.bytes.get()));
            }
        });
        return out;
    }

    /** Live sessions and their bytes held for one writer. */
    public record Held(long sessions, long bytes) {
    }

    private static final class WriterTally {
        final AtomicLong sessions = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
    }

    private WriterTally tally(long writer) {
        WriterTally t = byWriter.get(writer);
        return t != null ? t : byWriter.computeIfAbsent(writer, w -> new WriterTally());
    }

    /** Order-independent hash of every (id, version, writer), tombstones included. */
    public long tableHash() {
        return tableHash.get();
    }

    /** Adds the history of {@code s} to a whole delta, which a receiver may take on any base. */
    private static void withHistory(ReplicatedDelta.Builder delta, StoredSession s) {
        delta.addAllLineage(Lineage.toWire(s.lineage, s.writer)).setSyncVersion(s.syncVersion);
    }

    /** @param onBase the delta builds on the held version (APPLIED), which its history extends */
    private StoredSession applyTo(StoredSession cur, ReplicatedDelta d, boolean onBase) {
        long idHash = cur == null ? Hashing.hash64(d.getId()) : cur.idHash;
        if (d.getInvalidate()) {
            return new StoredSession(d.getId(), idHash, d.getNewVersion(), d.getWriter(), d.getCreationTimeMs(),
                    d.getAccessTimeMs(), d.getMaxInactiveSeconds(), Map.of(), true);
        }
        // A whole delta is the record: what the held version had beyond it is not part of it.
        boolean replace = cur == null || d.getWhole();
        Map<String, ByteString> attrs = replace ? merged(Map.of(), d.getSetList(), List.of())
                : merged(cur.attributes, d.getSetList(), d.getRemovedList());
        long access = Math.max(d.getAccessTimeMs(), cur == null || cur.invalidated ? 0 : cur.lastAccessMs);
        long[] lineage;
        long syncVersion;
        if (onBase && cur != null) {
            lineage = Lineage.extend(cur.lineage, cur.version, cur.writer, d.getNewVersion(), d.getWriter());
            syncVersion = d.getSync() ? d.getNewVersion() : cur.syncVersion;
        } else if (d.getWhole()) {
            lineage = Lineage.fromWire(d.getLineageList(), d.getNewVersion(), d.getWriter());
            syncVersion = d.getSync() ? d.getNewVersion() : d.getSyncVersion();
        } else {
            // A create (base 0) into an empty slot: the only delta without its base that applies.
            lineage = Lineage.single(d.getNewVersion(), d.getWriter());
            syncVersion = d.getSync() ? d.getNewVersion() : 0;
        }
        return new StoredSession(d.getId(), idHash, d.getNewVersion(), d.getWriter(),
                replace ? d.getCreationTimeMs() : cur.creationTimeMs, access, d.getMaxInactiveSeconds(), attrs,
                false, lineage, syncVersion);
    }

    /** True when a change's {@code set} names every attribute of the session after it. */
    private static boolean setsEveryAttribute(List<Attribute> set, Map<String, ByteString> after) {
        if (set.size() < after.size()) {
            return false;
        }
        Set<String> names = new HashSet<>(set.size() * 2);
        for (Attribute a : set) {
            names.add(a.getName());
        }
        return names.size() == after.size();
    }

    private Map<String, ByteString> merged(Map<String, ByteString> base, List<Attribute> set,
                                                  List<String> removed) {
        if (set.isEmpty() && removed.isEmpty()) {
            return base;
        }
        Map<String, ByteString> m = new HashMap<>(base);
        for (String name : removed) {
            m.remove(name);
        }
        for (Attribute a : set) {
            m.put(names.canonical(a.getName()), a.getValue());
        }
        return Map.copyOf(m);
    }

    /** Null when the local write may proceed, else why not. */
    private String checkLimits(StoredSession cur, StoredSession next) {
        if (next.bytes > limits.maxSessionBytes()) {
            return "session " + next.id + " would hold " + next.bytes + " bytes; max-session-bytes is "
                    + limits.maxSessionBytes();
        }
        if (next.attributes.size() > limits.maxAttributes()) {
            return "session " + next.id + " would have " + next.attributes.size()
                    + " attributes; max-attributes is " + limits.maxAttributes();
        }
        if ((cur == null || cur.invalidated) && liveCount.get() >= limits.maxSessions()) {
            return "the table holds " + liveCount.get() + " sessions; max-sessions is " + limits.maxSessions();
        }
        long growth = next.bytes - (cur == null || cur.invalidated ? 0 : cur.bytes);
        if (growth > 0 && liveBytes.get() + growth > limits.maxTotalBytes()) {
            return "the table would hold " + (liveBytes.get() + growth) + " bytes; max-total-bytes is "
                    + limits.maxTotalBytes();
        }
        return null;
    }

    /** Keeps the counters and the table hash in step with one replacement of an entry. */
    private void account(StoredSession old, StoredSession next) {
        long hashDelta = 0;
        if (old != null) {
            hashDelta -= old.entryHash();
            if (old.invalidated) {
                tombstones.decrementAndGet();
            } else {
                liveCount.decrementAndGet();
                liveBytes.addAndGet(-old.bytes);
                WriterTally t = tally(old.writer);
                t.sessions.decrementAndGet();
                t.bytes.addAndGet(-old.bytes);
            }
        }
        if (next != null) {
            hashDelta += next.entryHash();
            if (next.invalidated) {
                tombstones.incrementAndGet();
            } else {
                liveCount.incrementAndGet();
                liveBytes.addAndGet(next.bytes);
                WriterTally t = tally(next.writer);
                t.sessions.incrementAndGet();
                t.bytes.addAndGet(next.bytes);
            }
        }
        tableHash.addAndGet(hashDelta);
    }
}
