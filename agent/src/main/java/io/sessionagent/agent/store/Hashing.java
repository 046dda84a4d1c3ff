package io.sessionagent.agent.store;

import java.nio.charset.StandardCharsets;

/** 64-bit hashes used for table digests and member ids; stable across JVMs and versions. */
public final class Hashing {
    private Hashing() {
    }

    /** FNV-1a over the UTF-8 bytes, finished with a MurmurHash3 mixer so that buckets spread evenly. */
    public static long hash64(String s) {
        long h = 0xcbf29ce484222325L;
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    /** MurmurHash3's fmix64. */
    public static long mix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    /** Hash of one table entry: equal on two agents exactly when id, version and writer are. */
    public static long entryHash(long idHash, long version, long writer) {
        return mix(idHash ^ mix(version * 0x9e3779b97f4a7c15L + writer));
    }

    /** Bucket of an id among {@code buckets} (a power of two). */
    public static int bucket(long idHash, int buckets) {
        return (int) ((idHash >>> 40) & (buckets - 1));
    }
}
