package io.sessionagent.agent.replication;

/**
 * The datagrams this member sent that some receiver may still ask for, by sequence. Bounded by
 * frame count and bytes: when full the oldest go first, and a NAK for them is answered with GONE.
 * Freed from below as receivers report what they delivered (stability).
 *
 * <p>Not thread-safe: owned by the protocol thread.
 */
final class RetransmitBuffer {
    private final byte[][] ring;
    private final long maxBytes;
    /** Lowest sequence held; {@code highest + 1} when empty. */
    private long lowest = 1;
    private long highest;
    private long bytes;

    RetransmitBuffer(int maxFrames, long maxBytes) {
        this.ring = new byte[maxFrames][];
        this.maxBytes = maxBytes;
    }

    /** Adds the next datagram; {@code seq} must follow the last one added. */
    void add(long seq, byte[] datagram) {
        if (seq != highest + 1) {
            throw new IllegalArgumentException("sequence " + seq + " after " + highest);
        }
        while (size() >= ring.length || (size() > 0 && bytes + datagram.length > maxBytes)) {
            evictLowest();
        }
        ring[slot(seq)] = datagram;
        highest = seq;
        bytes += datagram.length;
        if (lowest > highest) {
            lowest = highest;
        }
    }

    /** The datagram of {@code seq}, or null when it was never sent or is gone. */
    byte[] get(long seq) {
        return seq >= lowest && seq <= highest ? ring[slot(seq)] : null;
    }

    /** Frees everything up to and including {@code seq}: every receiver has it. */
    void releaseThrough(long seq) {
        while (lowest <= highest && lowest <= seq) {
            evictLowest();
        }
    }

    /** Lowest sequence still held; the next sequence to send when empty. */
    long lowestRetained() {
        return size() == 0 ? highest + 1 : lowest;
    }

    long highestSent() {
        return highest;
    }

    int size() {
        return (int) (highest - lowest + 1);
    }

    long bytes() {
        return bytes;
    }

    private void evictLowest() {
        int s = slot(lowest);
        bytes -= ring[s].length;
        ring[s] = null;
        lowest++;
    }

    private int slot(long seq) {
        return (int) Long.remainderUnsigned(seq, ring.length);
    }
}
