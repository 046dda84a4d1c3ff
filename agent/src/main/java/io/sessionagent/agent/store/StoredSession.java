package io.sessionagent.agent.store;

import com.google.protobuf.ByteString;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionRecord;

import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One session (or tombstone) as the table holds it. Immutable: every change replaces the
 * object inside {@code ConcurrentHashMap.compute}, so readers never see half a change.
 */
final class StoredSession {
    final String id;
    final long idHash;
    final long version;
    final long writer;
    final long creationTimeMs;
    final long lastAccessMs;
    final int maxInactiveSeconds;
    /** Attribute name to opaque value. Immutable; shared between versions when unchanged. */
    final Map<String, ByteString> attributes;
    final boolean invalidated;
    /** Attribute names and values plus the id, in bytes: what the limits count. */
    final long bytes;
    /** Writers of the versions before this one, as {@link Lineage} runs; null for one run from version 1. */
    final long[] lineage;
    /** The highest version of this lineage written by a write that waited for replicas; 0 for none. */
    final long syncVersion;

    /** A record whose earlier versions are unknown and that holds no acknowledged write. */
    StoredSession(String id, long idHash, long version, long writer, long creationTimeMs, long lastAccessMs,
                  int maxInactiveSeconds, Map<String, ByteString> attributes, boolean invalidated) {
        this(id, idHash, version, writer, creationTimeMs, lastAccessMs, maxInactiveSeconds, attributes, invalidated,
                Lineage.single(version, writer), 0);
    }

    StoredSession(String id, long idHash, long version, long writer, long creationTimeMs, long lastAccessMs,
                  int maxInactiveSeconds, Map<String, ByteString> attributes, boolean invalidated,
                  long[] lineage, long syncVersion) {
        this.id = id;
        this.idHash = idHash;
        this.version = version;
        this.writer = writer;
        this.creationTimeMs = creationTimeMs;
        this.lastAccessMs = lastAccessMs;
        this.maxInactiveSeconds = maxInactiveSeconds;
        this.attributes = attributes;
        this.invalidated = invalidated;
        this.bytes = sizeOf(id, attributes);
        this.lineage = lineage;
        this.syncVersion = syncVersion;
    }

    static long sizeOf(String id, Map<String, ByteString> attributes) {
        long n = id.length();
        for (Map.Entry<String, ByteString> e : attributes.entrySet()) {
            n += e.getKey().length() + e.getValue().size();
        }
        return n;
    }

    long entryHash() {
        return Hashing.entryHash(idHash, version, writer);
    }

    /** Orders versions by the conflict rule: higher version wins, ties by higher writer id. */
    static int compareVersions(long versionA, long writerA, long versionB, long writerB) {
        int c = Long.compareUnsigned(versionA, versionB);
        return c != 0 ? c : Long.compareUnsigned(writerA, writerB);
    }

    /** What this record's history says of version {@code x} by {@code xWriter}. */
    Lineage.Verdict verdictOn(long x, long xWriter) {
        return Lineage.verdict(lineage, version, writer, x, xWriter);
    }

    StoredSession withAccess(long accessMs) {
        return new StoredSession(id, idHash, version, writer, creationTimeMs, accessMs, maxInactiveSeconds,
                attributes, invalidated, lineage, syncVersion);
    }

    /** Expiry instant in ms, or Long.MAX_VALUE for a session that never expires. */
    long expiresAtMs(long graceMs) {
        if (maxInactiveSeconds <= 0) {
            return Long.MAX_VALUE;
        }
        return lastAccessMs + maxInactiveSeconds * 1000L + graceMs;
    }

    SessionRecord toRecord() {
        SessionRecord.Builder b = SessionRecord.newBuilder()
                .setId(id)
                .setVersion(version)
                .setWriter(writer)
                .setCreationTimeMs(creationTimeMs)
                .setLastAccessTimeMs(lastAccessMs)
                .setMaxInactiveSeconds(maxInactiveSeconds)
                .setInvalidated(invalidated)
                .addAllLineage(Lineage.toWire(lineage, writer))
                .setSyncVersion(syncVersion);
        for (Map.Entry<String, ByteString> e : attributes.entrySet()) {
            b.addAttributes(Attribute.newBuilder().setName(e.getKey()).setValue(e.getValue()));
        }
        return b.build();
    }

    /** @param names gives the one instance of each attribute name the table keeps */
    static StoredSession fromRecord(SessionRecord r, long idHash, UnaryOperator<String> names) {
        Map<String, ByteString> attrs = new java.util.HashMap<>(r.getAttributesCount() * 2);
        for (Attribute a : r.getAttributesList()) {
            attrs.put(names.apply(a.getName()), a.getValue());
        }
        return new StoredSession(r.getId(), idHash, r.getVersion(), r.getWriter(), r.getCreationTimeMs(),
                r.getLastAccessTimeMs(), r.getMaxInactiveSeconds(), Map.copyOf(attrs), r.getInvalidated(),
                Lineage.fromWire(r.getLineageList(), r.getVersion(), r.getWriter()), r.getSyncVersion());
    }
}
