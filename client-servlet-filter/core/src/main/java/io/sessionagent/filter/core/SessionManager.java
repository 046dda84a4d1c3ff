package io.sessionagent.filter.core;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.agent.AgentClient;
import io.sessionagent.filter.core.agent.AgentHealth;
import io.sessionagent.filter.core.agent.GrpcWriteTransport;
import io.sessionagent.filter.core.agent.PendingWrite;
import io.sessionagent.filter.core.agent.ReplicationMode;
import io.sessionagent.filter.core.agent.RequestThreads;
import io.sessionagent.filter.core.agent.WritePipeline;
import io.sessionagent.filter.core.codec.AttributeCodec;
import io.sessionagent.filter.core.codec.RefusedClassException;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.core.metrics.FilterState;
import io.sessionagent.filter.core.session.SessionData;
import io.sessionagent.filter.core.session.SessionEvents;
import io.sessionagent.filter.core.session.SessionIds;
import io.grpc.Status;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionRecord;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The sessions of one web application on this node: the local cache (a sticky request never
 * deserializes), one delta per request to the agent, restore after a failover, expiry.
 * One instance per filter; it owns its threads and its channel and releases them in {@link #close}.
 */
public final class SessionManager implements FilterState, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SessionManager.class.getName());
    /**
     * Tries of GetSession while the agent answers that it cannot answer yet (joining, or catching
     * up with a failed member's last writes, which failure detection ends within failure-timeout):
     * pauses of 100, 200, 400 and 800 ms between them.
     */
    static final int NOT_YET_RETRIES = 5;
    static final long NOT_YET_RETRY_MS = 100;
    /**
     * Tries of GetSession that failed without an answer (deadline, a broken connection) before the
     * request is answered 503: each try waits up to agent-timeout already.
     */
    static final int LOOKUP_TRIES = 2;
    static final long LOOKUP_RETRY_MS = 50;
    static final long TOUCH_FLUSH_MS = 1_000;
    static final long EXPIRY_SCAN_MS = 10_000;

    private final FilterSettings settings;
    private final SessionEvents events;
    private final LongSupplier clockMs;
    private final FilterCounters counters = new FilterCounters();
    private final AttributeCodec codec;
    private final AgentHealth health;
    private final AgentClient agent;
    private final WritePipeline writes;
    private final SessionIds ids = new SessionIds(new SecureRandom());
    private final ConcurrentHashMap<String, SessionData> cache = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> pendingTouches = new ConcurrentHashMap<>();
    private final Set<String> undecodableNames = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean unavailableLogged = new AtomicBoolean();
    /**
     * Ids evicted from the cache while alive, with the time after which they have expired anyway:
     * their restore is a cache miss, not a failover.
     */
    private final ConcurrentHashMap<String, Long> evicted = new ConcurrentHashMap<>();
    private final ReentrantLock evicting = new ReentrantLock();
    private final ScheduledExecutorService scheduler;

    public SessionManager(FilterSettings settings, ClassLoader appClassLoader, SessionEvents events,
                          LongSupplier clockMs) {
        this.settings = settings;
        this.events = events;
        this.clockMs = clockMs;
        this.codec = new AttributeCodec(appClassLoader, settings.maxAttributeBytes(), settings.allowedClasses(),
                counters);
        this.health = new AgentHealth(settings.agentHost() + ":" + settings.agentPort(), counters, clockMs);
        this.agent = new AgentClient(settings.agentHost(), settings.agentPort(), settings.agentToken(),
                settings.agentTimeoutMs(), counters, health);
        agent.warmUp();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "session-replication-" + settings.cookieName());
            t.setDaemon(true);
            // Listeners fired on expiry load application classes.
            t.setContextClassLoader(appClassLoader);
            return t;
        });
        this.writes = new WritePipeline(new GrpcWriteTransport(agent.channel()), health, counters,
                settings.replicationMode(), settings.asyncWaitForAgent(), settings.syncTimeoutMs(),
                settings.maxReplicationLagMs(), new Answers(), scheduler);
        scheduler.scheduleWithFixedDelay(this::flushTouches, TOUCH_FLUSH_MS, TOUCH_FLUSH_MS, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::expire, EXPIRY_SCAN_MS, EXPIRY_SCAN_MS, TimeUnit.MILLISECONDS);
        counters.state(this);
        // The container's thread that starts the filter outlives the application.
        RequestThreads.release();
    }

    public FilterSettings settings() {
        return settings;
    }

    public FilterCounters counters() {
        return counters;
    }

    @Override
    public int localSessionCount() {
        return cache.size();
    }

    @Override
    public boolean agentDown() {
        return health.isDown();
    }

    @Override
    public int pendingWrites() {
        return writes.pendingWrites();
    }

    @Override
    public long replicationLagMs() {
        return writes.lagMs();
    }

    public SessionData create() {
        long now = clockMs.getAsLong();
        SessionData s = new SessionData(ids.newId(), now, now, settings.maxInactiveIntervalSeconds(), true);
        cache.put(s.id(), s);
        counters.increment(FilterCounter.SESSIONS_CREATED);
        events.created(s);
        evictIfFull();
        return s;
    }

    /** The result of looking up the session a request's cookie names. */
    public static final class Found {
        private final SessionData session;
        private final boolean reissueCookie;

        Found(SessionData session, boolean reissueCookie) {
            this.session = session;
            this.reissueCookie = reissueCookie;
        }

        public SessionData session() {
            return session;
        }

        /** The cookie names another node's route: send this node's. */
        public boolean reissueCookie() {
            return reissueCookie;
        }
    }

    /**
     * Whether {@link #find} would ask the agent for the session a cookie value names: a session
     * this node does not hold (a failover, or one that left the cache). The adapter looks such a
     * session up before the application runs, so that an agent without an answer becomes a 503
     * rather than an exception inside the application.
     */
    public boolean needsAgentLookup(String cookieValue) {
        SessionIds.CookieValue cv = SessionIds.parse(cookieValue);
        return cv != null && !cache.containsKey(cv.id());
    }

    /**
     * The live session a cookie value names, from the local cache or, for an id this node does
     * not hold, from the agent. Marks the access.
     *
     * @return null when no live session has that id
     * @throws SessionUnavailableException when this node does not hold it and the agent did not answer
     */
    public Found find(String cookieValue) {
        SessionIds.CookieValue cv = SessionIds.parse(cookieValue);
        if (cv == null) {
            return null;
        }
        long now = clockMs.getAsLong();
        boolean foreignRoute = !cv.route().equals(settings.route());
        SessionData s = cache.get(cv.id());
        if (s != null && s.isExpired(now)) {
            expire(s);
            return null;
        }
        if (s != null && !s.isValid()) {
            return null;
        }
        if (s != null && foreignRoute) {
            // Another node served this user since: the local copy may be behind the agent's.
            s = refreshIfBehind(s);
        }
        boolean restored = false;
        if (s == null) {
            s = restore(cv.id(), now);
            if (s == null) {
                return null;
            }
            restored = true;
        }
        s.access(now);
        if (restored) {
            evictIfFull();
        }
        return new Found(s, foreignRoute);
    }

    private SessionData refreshIfBehind(SessionData local) {
        SessionRecord r;
        try {
            r = agent.get(local.id());
        } catch (AgentClient.AgentException e) {
            return local;
        }
        if (r == null || r.getVersion() <= local.version()) {
            return local;
        }
        SessionData fresh = decode(r);
        if (!cache.replace(local.id(), local, fresh)) {
            return cache.get(local.id());
        }
        counters.increment(FilterCounter.FAILOVER_RESTORES);
        events.activated(fresh);
        return fresh;
    }

    /**
     * @throws SessionUnavailableException when the agent gave no answer: only an answer that it
     *         holds no such session makes the id unknown, and the user a new session
     */
    private SessionData restore(String id, long now) {
        SessionRecord r;
        for (int attempt = 0; ; attempt++) {
            try {
                r = agent.get(id);
                break;
            } catch (AgentClient.AgentException e) {
                if (e.code() == Status.Code.INVALID_ARGUMENT) {
                    // The agent refuses the id itself: no later try would find a session under it.
                    r = null;
                    break;
                }
                boolean tryAgain = e.isNotYet() ? attempt + 1 < NOT_YET_RETRIES
                        : !health.isDown() && attempt + 1 < LOOKUP_TRIES;
                if (!tryAgain || !pause(e.isNotYet() ? NOT_YET_RETRY_MS << attempt : LOOKUP_RETRY_MS)) {
                    throw unavailable(id, e);
                }
            }
        }
        boolean wasEvicted = evicted.remove(id) != null;
        if (r == null || (r.getMaxInactiveSeconds() > 0
                && now - r.getLastAccessTimeMs() > r.getMaxInactiveSeconds() * 1000L)) {
            counters.increment(FilterCounter.FAILOVER_MISSES);
            return null;
        }
        SessionData s = decode(r);
        SessionData raced = cache.putIfAbsent(id, s);
        if (raced != null) {
            return raced.isValid() ? raced : null;
        }
        counters.increment(wasEvicted ? FilterCounter.CACHE_MISSES : FilterCounter.FAILOVER_RESTORES);
        events.activated(s);
        return s;
    }

    private static boolean pause(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private SessionUnavailableException unavailable(String id, AgentClient.AgentException cause) {
        counters.increment(FilterCounter.FAILOVER_UNAVAILABLE);
        SessionUnavailableException e = new SessionUnavailableException(id, cause);
        if (unavailableLogged.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, e.getMessage() + "; answered 503 keeping the cookie (logged once, every such"
                    + " request counted in session_filter.failover.unavailable)");
        } else {
            LOG.log(Level.FINE, e.getMessage());
        }
        return e;
    }

    /**
     * The agent's record as a session of this node. A value that cannot be read here is left out
     * and counted per class (refused by the allow-list; or failed, under the class missing here if
     * that is why, else the value's class as written); it is never fatal. The
     * fingerprint each value is compared against by on-read-change is that of this node's own
     * encoding of the value it just decoded, not of the agent's bytes: hash-ordered collections
     * (a HashSet of objects with identity hash codes, a HashMap keyed by enums) iterate in another
     * order in this JVM, and their bytes would differ from the agent's without any change.
     */
    private SessionData decode(SessionRecord r) {
        Map<String, Object> values = new HashMap<>();
        Map<String, byte[]> serialized = new HashMap<>();
        for (Attribute a : r.getAttributesList()) {
            byte[] bytes = a.getValue().toByteArray();
            Object value;
            try {
                value = codec.deserialize(bytes);
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                RefusedClassException refused = RefusedClassException.in(e);
                if (refused != null) {
                    codec.refusedOnRead(a.getName(), refused.className());
                    continue;
                }
                String missing = AttributeCodec.missingClass(e);
                String className = missing != null ? missing : codec.className(bytes);
                counters.increment(FilterCounter.DESERIALIZE_FAILURES);
                counters.deserializeFailuresByClass.increment(className);
                if (undecodableNames.add(a.getName())) {
                    LOG.log(Level.WARNING, "session attribute '" + a.getName() + "' (" + className
                            + ") from the agent cannot be read on this node and is left out (logged once per"
                            + " attribute name)", e);
                }
                continue;
            }
            values.put(a.getName(), value);
            byte[] own = value == null ? null : codec.reencode(value);
            serialized.put(a.getName(), own != null ? own : bytes);
        }
        return SessionData.restored(r.getId(), r.getVersion(), r.getCreationTimeMs(), r.getLastAccessTimeMs(),
                r.getMaxInactiveSeconds(), values, serialized);
    }

    /**
     * Hands what the request changed to the agent (a pure access is queued and coalesced). Never
     * throws. In sync mode waits for the agent's answer, which comes once a replica applied the
     * change, at most agent-timeout plus sync-timeout; in async mode waits until the agent holds the
     * write (a new session's first write: until its replicas do), and while replication is behind
     * max-replication-lag, at most agent-timeout in all.
     */
    public void commit(SessionData s) {
        commit(s, true);
    }

    /**
     * Sends what the request changed after its response was committed, when {@link #commit} ran
     * already: the client may hold the response by now, but a later request, here or on another
     * node, must still see the change. Sends nothing when nothing changed.
     */
    public void commitAfterResponse(SessionData s) {
        commit(s, false);
    }

    private void commit(SessionData s, boolean touchIfUnchanged) {
        if (!s.isValid()) {
            return;
        }
        PendingWrite w;
        boolean own;
        synchronized (s.commitLock) {
            if (!s.isValid()) {
                return;
            }
            if (s.needsFullSync()) {
                writeWhole(s);
                return;
            }
            SessionData.Delta d = s.takeDelta(settings.saveMode(), codec, null, 0, settings.localAttributes());
            own = !d.isEmpty();
            if (own) {
                String retired = s.takeRetiredId();
                w = handOver(s, d, retired);
                if (w != null && retired != null) {
                    awaitAsTheModeAsks(w);
                    retire(s, w, retired);
                    return;
                }
            } else if (touchIfUnchanged) {
                pendingTouches.merge(s.id(), s.thisAccessedTime(), Math::max);
                w = (PendingWrite) s.lastWrite();
            } else {
                // After the response: nothing of this request's is left to wait for.
                return;
            }
        }
        // Outside the lock: the session's concurrent requests hand their changes over meanwhile,
        // into the same write while it waits to leave, rather than queueing behind this wait.
        if (w == null) {
            return;
        }
        if (own) {
            awaitAsTheModeAsks(w);
        } else {
            awaitLatest(w);
        }
    }

    /**
     * A request with nothing of its own to write: a concurrent request of the session may have
     * taken its changes along, or it read that request's; either way its response waits for the
     * session's latest write as for its own (the lag bound aside).
     */
    private void awaitLatest(PendingWrite w) {
        if (settings.replicationMode() == ReplicationMode.SYNC) {
            if (!w.isDone()) {
                writes.awaitAnswer(w, settings.agentTimeoutMs() + settings.syncTimeoutMs());
            }
        } else if (settings.asyncWaitForAgent() && !w.isReceived()) {
            writes.awaitReceipt(w, settings.agentTimeoutMs());
        }
    }

    /**
     * Writes the whole session on top of whatever version the agent holds, once the agent has
     * answered this session's writes in flight (the version it reports is then final). An agent
     * too slow for that is tried again in the background; one that is gone counts the change as
     * not replicated, and the session stays marked until it is back.
     */
    private void writeWhole(SessionData s) {
        try {
            if (!s.awaitAnswers(settings.agentTimeoutMs())) {
                counters.increment(FilterCounter.BACKPRESSURE_TIMEOUTS);
                s.failed();
                background(() -> repair(s));
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.failed();
            return;
        }
        SessionRecord r;
        try {
            r = agent.get(s.id());
        } catch (AgentClient.AgentException e) {
            s.failed();
            if (health.isDown()) {
                counters.increment(FilterCounter.WRITES_NOT_REPLICATED);
            } else {
                background(() -> repair(s));
            }
            return;
        }
        Set<String> agentNames = new HashSet<>();
        if (r != null) {
            for (Attribute a : r.getAttributesList()) {
                agentNames.add(a.getName());
            }
        }
        send(s, s.takeDelta(settings.saveMode(), codec, agentNames, r == null ? 0 : r.getVersion(),
                settings.localAttributes()));
    }

    /**
     * Hands the delta to the write pipeline and waits as the mode asks. Whatever the outcome, the
     * session learns it (see {@link Answers}): a write the agent did not apply makes its next write
     * a whole one.
     */
    private void send(SessionData s, SessionData.Delta d) {
        String retired = s.takeRetiredId();
        PendingWrite w = handOver(s, d, retired);
        if (w != null) {
            awaitAsTheModeAsks(w);
            retire(s, w, retired);
        }
    }

    /** Under the session's commit lock. @return the write carrying the delta; null when the agent is gone */
    private PendingWrite handOver(SessionData s, SessionData.Delta d, String retired) {
        try {
            PendingWrite w = writes.submit(s, d, retired);
            s.lastWrite(w);
            return w;
        } catch (AgentClient.AgentException e) {
            // The agent is gone: the session stays here and goes whole to the agent once it is back.
            s.failed();
            if (retired != null) {
                s.retireAgain(retired);
            }
            return null;
        }
    }

    private void awaitAsTheModeAsks(PendingWrite w) {
        if (settings.replicationMode() == ReplicationMode.SYNC) {
            writes.awaitAnswer(w, settings.agentTimeoutMs() + settings.syncTimeoutMs());
        } else if (w.baseVersion == 0) {
            // A session the agent does not hold yet: once the client has its cookie, a failover must find it.
            writes.awaitAnswer(w, settings.agentTimeoutMs());
        } else if (settings.asyncWaitForAgent()) {
            // The agent holding the write is what lets it outlive this app server; the replicas are
            // not awaited, only kept within max-replication-lag.
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.agentTimeoutMs());
            writes.awaitReceipt(w, settings.agentTimeoutMs());
            writes.awaitLag(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        } else {
            writes.awaitLag(settings.agentTimeoutMs());
        }
    }

    private void retire(SessionData s, PendingWrite w, String retired) {
        if (retired != null && w.isDone() && w.failure() == null) {
            // Before the response: once the client has the new id, the old one is gone everywhere.
            w.retiredId = null;
            awaitInvalidation(invalidateAtAgent(retired, s));
        }
    }

    /** The agent's answers, on the transport's thread: update the session, never block. */
    private final class Answers implements WritePipeline.Outcomes {
        @Override
        public void applied(PendingWrite w, long version) {
            if (w.invalidation) {
                counters.increment(FilterCounter.DELTAS_SENT);
                return;
            }
            w.session.acknowledged(w.baseVersion, version);
            counters.increment(FilterCounter.DELTAS_SENT);
            counters.add(FilterCounter.DELTA_BYTES, w.bytes());
            String retired = w.retiredId;
            if (retired != null) {
                // Invalidated here unless the request that handed it over waits and does it itself.
                background(() -> {
                    if (w.retiredId != null) {
                        w.retiredId = null;
                        invalidateAtAgent(retired, w.session);
                    }
                });
            }
        }

        @Override
        public void refused(PendingWrite w, AgentClient.AgentException e) {
            if (w.invalidation) {
                counters.increment(FilterCounter.AGENT_ERRORS);
                LOG.log(Level.FINE, "session agent refused an invalidation: " + e.getMessage());
                return;
            }
            notApplied(w);
            if (e.isConflict()) {
                counters.increment(FilterCounter.WRITE_CONFLICTS);
                // Without a repair the agent would keep the other writer's version until this
                // session's next request.
                background(() -> repair(w.session));
            } else {
                counters.increment(FilterCounter.AGENT_ERRORS);
                LOG.log(Level.FINE, "session agent refused a write: " + e.getMessage());
            }
        }

        @Override
        public void lost(PendingWrite w) {
            notApplied(w);
        }

        private void notApplied(PendingWrite w) {
            if (w.invalidation) {
                return;
            }
            w.session.writeFailed();
            String retired = w.retiredId;
            if (retired == null) {
                return;
            }
            w.session.retireAgain(retired);
            if (!w.session.isValid()) {
                // No later write of the session will take the id: unless its invalidation, under
                // way, takes it first, it is invalidated here.
                background(() -> {
                    String again = w.session.takeRetiredId();
                    if (again != null) {
                        invalidateAtAgent(again, w.session);
                    }
                });
            }
        }
    }

    /** Writes the whole session if a write of it failed and no request did so since. */
    private void repair(SessionData s) {
        synchronized (s.commitLock) {
            if (s.isValid() && s.needsFullSync() && cache.get(s.id()) == s) {
                writeWhole(s);
            }
        }
    }

    /**
     * Invalidates an id at the agent on the write stream, behind the writes of that id already
     * handed over.
     *
     * @return the invalidation, or null when the agent is gone (the id then expires there by inactivity)
     */
    private PendingWrite invalidateAtAgent(String id, SessionData s) {
        try {
            return writes.invalidate(id, s, s.maxInactiveSeconds());
        } catch (AgentClient.AgentException e) {
            return null;
        }
    }

    /** Waits for an invalidation's answer as the mode waits for a new session's first write. */
    private void awaitInvalidation(PendingWrite w) {
        if (w == null) {
            return;
        }
        long timeoutMs = settings.replicationMode() == ReplicationMode.SYNC
                ? settings.agentTimeoutMs() + settings.syncTimeoutMs() : settings.agentTimeoutMs();
        writes.awaitAnswer(w, timeoutMs);
    }

    private void background(Runnable task) {
        try {
            scheduler.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "a background call to the session agent failed", e);
                }
            });
        } catch (RejectedExecutionException e) {
            // Closing: the session stays as the agent has it.
        }
    }

    /**
     * Ends a session everywhere: this node's cache, the agent (hence every node), listeners. The
     * invalidation goes to the agent on the write stream, behind the session's writes in flight and
     * in place of the one not sent yet, so that none of them reaches the agent after it and brings
     * the session back; an id the session gave up by changeSessionId and not yet invalidated goes
     * with it. The request waits for the agent's answer as for a session's first write.
     */
    public void invalidate(SessionData s) {
        if (!s.isValid()) {
            return;
        }
        cache.remove(s.id(), s);
        pendingTouches.remove(s.id());
        try {
            events.destroyed(s);
        } finally {
            s.invalidated();
            PendingWrite ended;
            PendingWrite retiredEnded = null;
            synchronized (s.commitLock) {
                ended = invalidateAtAgent(s.id(), s);
                // After the line above: a replaced write gives its retired id back to the session.
                String retired = s.takeRetiredId();
                if (retired != null) {
                    retiredEnded = invalidateAtAgent(retired, s);
                }
            }
            awaitInvalidation(ended);
            awaitInvalidation(retiredEnded);
        }
    }

    /** Gives the session a new id (against session fixation); the agent learns it at commit. */
    public String changeId(SessionData s) {
        String newId = ids.newId();
        String oldId;
        synchronized (s.commitLock) {
            oldId = s.id();
            cache.remove(oldId, s);
            s.rekeyed(newId);
            cache.put(newId, s);
        }
        events.idChanged(s, oldId);
        return newId;
    }

    private void expire(SessionData s) {
        if (cache.remove(s.id(), s)) {
            counters.increment(FilterCounter.SESSIONS_EXPIRED);
            pendingTouches.remove(s.id());
            try {
                events.destroyed(s);
            } finally {
                s.invalidated();
            }
        }
    }

    /**
     * Past max-local-sessions, drops the least recently used sessions the agent holds in full from
     * the cache. Down to 95% of the limit, so that one scan of the cache serves many creations.
     * Sessions with changes the agent lacks (it was down) stay: they would be lost.
     */
    private void evictIfFull() {
        int max = settings.maxLocalSessions();
        if (cache.size() <= max || !evicting.tryLock()) {
            return;
        }
        try {
            int excess = cache.size() - (max - max / 20);
            List<SessionData> candidates = new ArrayList<>();
            for (SessionData s : cache.values()) {
                if (s.isInSyncWithAgent()) {
                    candidates.add(s);
                }
            }
            candidates.sort(Comparator.comparingLong(SessionData::thisAccessedTime));
            for (int i = 0; i < candidates.size() && excess > 0; i++) {
                if (evict(candidates.get(i), max)) {
                    excess--;
                }
            }
        } finally {
            evicting.unlock();
        }
    }

    private boolean evict(SessionData s, int max) {
        // Under the commit lock: a write in flight finishes first, and a failed one keeps the session here.
        synchronized (s.commitLock) {
            if (!s.isInSyncWithAgent() || !cache.remove(s.id(), s)) {
                return false;
            }
        }
        int maxInactive = s.maxInactiveSeconds();
        // The record only picks the counter of a later restore; bounded like the cache.
        if (evicted.size() < max) {
            evicted.put(s.id(), maxInactive > 0 ? s.thisAccessedTime() + maxInactive * 1000L : Long.MAX_VALUE);
        }
        counters.increment(FilterCounter.CACHE_EVICTIONS);
        try {
            events.passivating(s);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "a listener failed while session " + s.id() + " left the local cache", e);
        }
        return true;
    }

    /** Drops timed-out sessions from the cache; the agents expire their copies themselves. */
    void expire() {
        long now = clockMs.getAsLong();
        evicted.values().removeIf(deadline -> deadline < now);
        for (SessionData s : cache.values()) {
            if (s.isExpired(now)) {
                try {
                    expire(s);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "a listener failed while session " + s.id() + " expired", e);
                }
            }
        }
    }

    void flushTouches() {
        if (pendingTouches.isEmpty()) {
            return;
        }
        Map<String, Long> batch = new HashMap<>();
        for (String id : pendingTouches.keySet()) {
            Long t = pendingTouches.remove(id);
            if (t != null) {
                batch.put(id, t);
            }
        }
        try {
            agent.touch(batch);
            counters.add(FilterCounter.TOUCHES_SENT, batch.size());
        } catch (AgentClient.AgentException e) {
            // Accesses are best effort: the next write or touch carries a later time.
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "sending accesses to the agent failed", e);
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        flushTouches();
        // Writes waiting and in flight are answered first: the agent applies them either way.
        writes.close();
        agent.close();
        try {
            // Its thread must be gone before the application's class loader is: a redeploy would keep it.
            scheduler.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        RequestThreads.release();
    }
}
