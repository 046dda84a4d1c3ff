package io.sessionagent.filter.core.agent;

import io.sessionagent.filter.core.session.SessionData;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionChange;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One session's write to the agent. While it waits to leave, later changes of the same session
 * merge into it (attributes are last-value-wins), so that a session has at most one write
 * waiting however fast its requests come; once it left in a batch it is frozen until the agent
 * answers, and requests that made it may wait for that answer.
 *
 * <p>An invalidation is a write too: it carries no attributes, and takes the place of the
 * session's write that has not left yet, so that it reaches the agent behind every write of the
 * session already sent and cannot be overtaken by one.
 *
 * <p>The content is written under {@link WritePipeline}'s lock only, and read by the sender after it
 * took the write out of the queue under that lock; the outcome is guarded by this object.
 */
public final class PendingWrite implements SessionData.Write {
    /** The session written; for an invalidation, the session it ends, or null. */
    public final SessionData session;
    final String id;
    /** The version the agent must hold for this write to apply. */
    public final long baseVersion;
    /** When the oldest change merged here was made ({@code System.nanoTime}). */
    final long sinceNanos;
    /** A whole-session write: the agent drops what it holds beyond {@link #set} by the removals. */
    final boolean full;
    /** Invalidates the session at the agent instead of writing it. */
    public final boolean invalidation;
    private final long creationTime;
    private final Map<String, ByteString> set = new LinkedHashMap<>();
    private final Set<String> removed = new LinkedHashSet<>();
    private long accessTime;
    private int maxInactiveSeconds;
    private int bytes;
    /** Changes merged into this write, the first included. */
    private int changes;
    /** An id given up by changeSessionId, to invalidate at the agent once this write is applied. */
    public String retiredId;

    // Guarded by this.
    /** The agent holds it (an interim answer or the final one came, or the write failed). */
    private boolean received;
    private boolean done;
    private long version;
    private AgentClient.AgentException failure;

    PendingWrite(SessionData session, long baseVersion, boolean full, long sinceNanos) {
        this.session = session;
        this.id = session.id();
        this.baseVersion = baseVersion;
        this.full = full;
        this.invalidation = false;
        this.sinceNanos = sinceNanos;
        this.creationTime = session.creationTime();
    }

    /**
     * An invalidation of {@code id}.
     *
     * @param maxInactiveSeconds the session's timeout: the agent keeps the tombstone at least as long
     *                           as a copy of the session could live
     */
    PendingWrite(String id, SessionData session, int maxInactiveSeconds, long sinceNanos) {
        this.session = session;
        this.id = id;
        this.baseVersion = 0;
        this.full = false;
        this.invalidation = true;
        this.sinceNanos = sinceNanos;
        this.creationTime = 0;
        this.maxInactiveSeconds = maxInactiveSeconds;
        this.changes = 1;
    }

    /** Merges one request's changes: a value set replaces an earlier one, a removal cancels a set. */
    void merge(SessionData.Delta d, long accessTime, int maxInactiveSeconds) {
        for (Map.Entry<String, byte[]> e : d.set.entrySet()) {
            // The codec made each array for this delta alone and nothing writes to it again.
            ByteString old = set.put(e.getKey(), UnsafeByteOperations.unsafeWrap(e.getValue()));
            bytes += e.getValue().length - (old == null ? 0 : old.size());
            removed.remove(e.getKey());
        }
        for (String name : d.removed) {
            ByteString old = set.remove(name);
            if (old != null) {
                bytes -= old.size();
            }
            removed.add(name);
        }
        this.accessTime = Math.max(this.accessTime, accessTime);
        this.maxInactiveSeconds = maxInactiveSeconds;
        changes++;
    }

    /** Serialized attribute bytes this write carries. */
    public int bytes() {
        return bytes;
    }

    /** How many requests' changes this write carries. */
    int changes() {
        return changes;
    }

    /**
     * The change to send; the write lets go of its values, which the batch message now holds and
     * nothing else needs (a write is never sent twice: a session whose write failed goes whole).
     */
    SessionChange takeChange() {
        SessionChange c = toChange();
        set.clear();
        removed.clear();
        return c;
    }

    private SessionChange toChange() {
        if (invalidation) {
            return SessionChange.newBuilder().setId(id).setInvalidate(true).setMaxInactiveSeconds(maxInactiveSeconds)
                    .build();
        }
        SessionChange.Builder c = SessionChange.newBuilder()
                .setId(id)
                .setBaseVersion(baseVersion)
                .setCreationTimeMs(creationTime)
                .setAccessTimeMs(accessTime)
                .setMaxInactiveSeconds(maxInactiveSeconds)
                .addAllRemoved(removed);
        for (Map.Entry<String, ByteString> e : set.entrySet()) {
            c.addSet(Attribute.newBuilder().setName(e.getKey()).setValue(e.getValue()));
        }
        return c.build();
    }

    /** The agent applied it and replicates it; the final answer follows. */
    synchronized void received() {
        received = true;
        notifyAll();
    }

    synchronized void succeeded(long v) {
        version = v;
        received = true;
        done = true;
        notifyAll();
    }

    synchronized void failed(AgentClient.AgentException e) {
        failure = e;
        received = true;
        done = true;
        notifyAll();
    }

    public synchronized boolean isDone() {
        return done;
    }

    /** Whether the agent holds it (applied there), or it failed. */
    public synchronized boolean isReceived() {
        return received;
    }

    /** Null when the agent applied it (or it is not answered yet). */
    public synchronized AgentClient.AgentException failure() {
        return failure;
    }

    synchronized long version() {
        return version;
    }

    /**
     * Waits for the agent's answer, or only for the agent to hold the write.
     *
     * @param received enough that the agent applied it, its replicas not awaited
     * @return false when none came within the time
     */
    synchronized boolean await(long timeoutMs, boolean received) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!(received ? this.received : done)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }
}
