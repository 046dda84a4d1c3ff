package io.sessionagent.filter.core.session;

import io.sessionagent.filter.core.codec.AttributeCodec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One session as this node holds it: live attribute objects, the agent's version, and what
 * changed since the last write to the agent. Shared by concurrent requests of the same user.
 */
public final class SessionData {
    private volatile String id;
    private final long creationTime;
    private volatile long lastAccessedTime;
    private volatile long thisAccessedTime;
    private volatile int maxInactiveSeconds;
    private volatile boolean valid = true;
    private volatile boolean isNew;
    private final ConcurrentHashMap<String, Object> attributes = new ConcurrentHashMap<>();

    // Guarded by this.
    /** The version the next delta is based on: the agent's, or what it will be once the writes in flight are applied. */
    private long version;
    /** Writes handed to the agent and not answered yet (one per write, however many deltas merged into it). */
    private int inFlight;
    private boolean everWritten;
    private boolean fullSyncNeeded;
    private boolean metaChanged;
    /** Fingerprint of each value as the agent last received it; a fingerprint rather than the bytes halves memory. */
    private final Map<String, byte[]> replicated = new HashMap<>();
    private final Set<String> setNames = new HashSet<>();
    private final Set<String> removedNames = new HashSet<>();
    private final Set<String> readNames = new HashSet<>();
    /** An id given up by changeSessionId, invalidated at the agent once the new id is written. */
    private String retiredId;

    /**
     * Held while a request takes its delta and hands it over, so that two requests of one session
     * write in turn; the waits for the agent come after it.
     */
    public final Object commitLock = new Object();
    /** The session's latest write handed to the agent. */
    private volatile Write lastWrite;

    /**
     * A write of this session on its way to the agent. A request whose changes another request of
     * the session took along (they ran at once) has nothing of its own to write: it waits for the
     * session's latest write instead, as for its own.
     */
    public interface Write {
    }

    public SessionData(String id, long creationTime, long accessTime, int maxInactiveSeconds, boolean isNew) {
        this.id = id;
        this.creationTime = creationTime;
        this.lastAccessedTime = accessTime;
        this.thisAccessedTime = accessTime;
        this.maxInactiveSeconds = maxInactiveSeconds;
        this.isNew = isNew;
    }

    /** A session restored from the agent's record; values that could not be read are left out. */
    public static SessionData restored(String id, long version, long creationTime, long lastAccess, int maxInactiveSeconds,
                                Map<String, Object> values, Map<String, byte[]> serialized) {
        SessionData s = new SessionData(id, creationTime, lastAccess, maxInactiveSeconds, false);
        s.attributes.putAll(values);
        synchronized (s) {
            s.version = version;
            s.everWritten = true;
            for (Map.Entry<String, byte[]> e : serialized.entrySet()) {
                s.replicated.put(e.getKey(), digest(e.getValue()));
            }
        }
        return s;
    }

    public String id() {
        return id;
    }

    void id(String newId) {
        this.id = newId;
    }

    public long creationTime() {
        return creationTime;
    }

    public long lastAccessedTime() {
        return lastAccessedTime;
    }

    public long thisAccessedTime() {
        return thisAccessedTime;
    }

    public int maxInactiveSeconds() {
        return maxInactiveSeconds;
    }

    public void maxInactiveSeconds(int seconds) {
        synchronized (this) {
            if (seconds != maxInactiveSeconds) {
                metaChanged = true;
            }
            maxInactiveSeconds = seconds;
        }
    }

    public boolean isValid() {
        return valid;
    }

    public void invalidated() {
        valid = false;
    }

    public boolean isNew() {
        return isNew;
    }

    public synchronized long version() {
        return version;
    }

    /** A request of this session started. */
    public void access(long now) {
        lastAccessedTime = thisAccessedTime;
        thisAccessedTime = now;
        isNew = false;
    }

    public boolean isExpired(long now) {
        int max = maxInactiveSeconds;
        return max > 0 && now - thisAccessedTime > max * 1000L;
    }

    public Object getAttribute(String name) {
        Object v = attributes.get(name);
        if (v != null) {
            synchronized (this) {
                readNames.add(name);
            }
        }
        return v;
    }

    /** The value without recording a read, for listeners and expiry. */
    public Object peekAttribute(String name) {
        return attributes.get(name);
    }

    /** @return the previous value, or null */
    public Object setAttribute(String name, Object value) {
        if (value == null) {
            return removeAttribute(name);
        }
        synchronized (this) {
            setNames.add(name);
            removedNames.remove(name);
            return attributes.put(name, value);
        }
    }

    /** @return the removed value, or null */
    public Object removeAttribute(String name) {
        synchronized (this) {
            Object old = attributes.remove(name);
            setNames.remove(name);
            readNames.remove(name);
            // A value the agent never received needs no removal there.
            if (replicated.containsKey(name)) {
                removedNames.add(name);
            }
            return old;
        }
    }

    public Enumeration<String> attributeNames() {
        return Collections.enumeration(new ArrayList<>(attributes.keySet()));
    }

    public Set<String> attributeNameSet() {
        return Collections.unmodifiableSet(new HashSet<>(attributes.keySet()));
    }

    /**
     * What the agent must learn about this session since the last successful write. Drains the
     * change tracking; {@link #handedOff} or {@link #failed} must follow. Values are serialized
     * outside this object's lock, which the transport's thread takes to record answers.
     *
     * @param agentNames when not null, send the whole session and remove these names the agent
     *                   holds but this node does not
     * @param agentVersion   the agent's version, the base of a whole-session write
     * @param local      attributes that stay on this node: never serialized, and removed at the
     *                   agent if an earlier value of the same name was replicated
     */
    public Delta takeDelta(SaveMode mode, AttributeCodec codec, Set<String> agentNames, long agentVersion,
                    LocalAttributes local) {
        boolean full = agentNames != null;
        Delta d = new Delta();
        Map<String, Object> values = new LinkedHashMap<>();
        Set<String> explicit = new HashSet<>();
        synchronized (this) {
            Set<String> candidates = new HashSet<>();
            if (full) {
                candidates.addAll(attributes.keySet());
            } else {
                candidates.addAll(setNames);
                if (mode != SaveMode.SET) {
                    candidates.addAll(readNames);
                }
            }
            for (String name : candidates) {
                Object value = attributes.get(name);
                if (value == null) {
                    continue;
                }
                if (local.isLocal(name, value)) {
                    // Checked before serializing: a node-local value is not "skipped", it is not meant
                    // to travel. A copy the agent still holds (the name held a replicated value before)
                    // would otherwise come back after a failover as if it were current. A whole-session
                    // write removes it below, with every other name the agent holds and this write lacks.
                    if (!full && replicated.containsKey(name)) {
                        d.removed.add(name);
                    }
                    continue;
                }
                values.put(name, value);
                if (full || setNames.contains(name)) {
                    explicit.add(name);
                }
            }
            for (String name : removedNames) {
                if (!attributes.containsKey(name)) {
                    d.removed.add(name);
                }
            }
            d.full = full;
            d.meta = metaChanged || !everWritten;
            d.baseVersion = full ? agentVersion : version;
            setNames.clear();
            removedNames.clear();
            readNames.clear();
            metaChanged = false;
        }
        Map<String, byte[]> serialized = new LinkedHashMap<>();
        Map<String, byte[]> digests = new HashMap<>();
        List<String> unserializable = new ArrayList<>();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            byte[] bytes = codec.serialize(e.getKey(), e.getValue());
            if (bytes == null) {
                unserializable.add(e.getKey());
            } else {
                serialized.put(e.getKey(), bytes);
                digests.put(e.getKey(), digest(bytes));
            }
        }
        synchronized (this) {
            for (Map.Entry<String, byte[]> e : serialized.entrySet()) {
                String name = e.getKey();
                byte[] digest = digests.get(name);
                if (!explicit.contains(name) && mode == SaveMode.ON_READ_CHANGE
                        && Arrays.equals(digest, replicated.get(name))) {
                    continue;
                }
                d.set.put(name, e.getValue());
                d.digests.put(name, digest);
            }
            for (String name : unserializable) {
                // A stale copy at the agent would come back after a failover as if it were current.
                if (replicated.containsKey(name) || full) {
                    d.removed.add(name);
                }
            }
        }
        if (full) {
            for (String name : agentNames) {
                if (!d.set.containsKey(name) && !d.removed.contains(name)) {
                    d.removed.add(name);
                }
            }
        }
        return d;
    }

    /** The agent holds everything this copy holds: dropping it loses nothing. */
    public synchronized boolean isInSyncWithAgent() {
        return valid && inFlight == 0 && everWritten && !fullSyncNeeded && !metaChanged && setNames.isEmpty() && removedNames.isEmpty();
    }

    public synchronized boolean needsFullSync() {
        return fullSyncNeeded;
    }

    /**
     * The delta is on its way to the agent. A new write makes the agent's version base + 1 when it
     * applies, so the next delta is based on that; if the agent refuses this one, it refuses the
     * next as well (its base is then stale too), and {@link #writeFailed} asks for a whole-session
     * write. A delta merged into a write still waiting to leave changes no version.
     *
     * @param newWrite false when the delta merged into the session's waiting write
     * @return the base version of a new write
     */
    public synchronized long handedOff(Delta d, boolean newWrite) {
        everWritten = true;
        if (newWrite) {
            version = d.baseVersion + 1;
            inFlight++;
        }
        if (d.full) {
            fullSyncNeeded = false;
            replicated.clear();
        }
        for (String name : d.removed) {
            replicated.remove(name);
        }
        replicated.putAll(d.digests);
        return d.baseVersion;
    }

    /** The agent applied a write based on {@code baseVersion}. */
    public synchronized void acknowledged(long baseVersion, long newVersion) {
        inFlight--;
        if (newVersion != baseVersion + 1) {
            // Not the version the later deltas were based on: they are refused; write the whole session.
            fullSyncNeeded = true;
        }
        notifyAll();
    }

    /** The agent did not apply a delta handed off before: the next write resends the whole session. */
    public synchronized void writeFailed() {
        inFlight--;
        fullSyncNeeded = true;
        notifyAll();
    }

    /**
     * Waits until the agent answered every write of this session handed off so far, so that the
     * version it then reports is final.
     *
     * @return false when that took longer than {@code timeoutMs}
     */
    public synchronized boolean awaitAnswers(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (inFlight > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    /** Under {@link #commitLock}. */
    public void lastWrite(Write w) {
        lastWrite = w;
    }

    /** The latest write handed over, answered or not; null before the first. */
    public Write lastWrite() {
        return lastWrite;
    }

    public synchronized int writesInFlight() {
        return inFlight;
    }

    /** Gives back an id taken by {@link #takeRetiredId} whose successor's write failed. */
    public synchronized void retireAgain(String oldId) {
        if (retiredId == null) {
            retiredId = oldId;
        }
    }

    public synchronized String takeRetiredId() {
        String r = retiredId;
        retiredId = null;
        return r;
    }

    /** The agent did not take the delta: the next write resends the whole session. */
    public synchronized void failed() {
        fullSyncNeeded = true;
    }

    /** The session now lives under a new id the agent has never seen. */
    public synchronized void rekeyed(String newId) {
        if (everWritten && retiredId == null) {
            retiredId = id;
        }
        id = newId;
        version = 0;
        everWritten = false;
        fullSyncNeeded = true;
        replicated.clear();
    }

    static byte[] digest(byte[] bytes) {
        return ValueDigest.of(bytes);
    }

    /** One write's worth of changes. */
    public static final class Delta {
        public final Map<String, byte[]> set = new LinkedHashMap<>();
        public final List<String> removed = new ArrayList<>();
        final Map<String, byte[]> digests = new HashMap<>();
        public long baseVersion;
        public boolean full;
        boolean meta;

        public boolean isEmpty() {
            return set.isEmpty() && removed.isEmpty() && !meta && !full;
        }

        public int bytes() {
            int n = 0;
            for (byte[] b : set.values()) {
                n += b.length;
            }
            return n;
        }

        Set<String> setNames() {
            return set.keySet();
        }

        List<String> removedNames() {
            return removed;
        }
    }
}
