package io.sessionagent.agent.transport;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a payload larger than one datagram into fragments, and joins them again.
 *
 * <p>Fragments of one payload travel with consecutive sequence numbers, so the reliable stream
 * delivers them in order and {@link Joiner} only needs to concatenate.
 */
public final class Fragments {
    public static final int MAX_FRAGMENTS = 0xffff;
    /** Room reserved at a first fragment; more only as fragments really arrive. */
    private static final int INITIAL_BYTES = 64 * 1024;

    private Fragments() {
    }

    /** Start offsets of the chunks of a payload; the last chunk may be shorter. */
    public static int count(int payloadBytes, int maxChunk) {
        return Math.max(1, (payloadBytes + maxChunk - 1) / maxChunk);
    }

    /** Joins in-order fragments; a fragment out of place (after a skipped gap) resets it. */
    public static final class Joiner {
        private ByteArrayOutputStream parts;
        private int expectedIndex;
        private int count;

        /**
         * @return the whole payload once its last fragment arrives, else null
         */
        public byte[] accept(int index, int fragmentCount, byte[] body) {
            if (fragmentCount == 1) {
                reset();
                return body;
            }
            if (index == 0) {
                // The count is the sender's word: reserving count × size up front would let one
                // forged first fragment claiming 65,535 parts allocate ~88 MB.
                parts = new ByteArrayOutputStream((int) Math.min((long) body.length * fragmentCount, INITIAL_BYTES));
                count = fragmentCount;
                expectedIndex = 0;
            }
            if (parts == null || index != expectedIndex || fragmentCount != count) {
                // The start of this payload was skipped: it is repaired by other means.
                reset();
                return null;
            }
            parts.write(body, 0, body.length);
            expectedIndex++;
            if (expectedIndex == count) {
                byte[] whole = parts.toByteArray();
                reset();
                return whole;
            }
            return null;
        }

        private void reset() {
            parts = null;
            expectedIndex = 0;
            count = 0;
        }

        public boolean inProgress() {
            return parts != null;
        }
    }

    /** Splits {@code payload} into chunks of at most {@code maxChunk} bytes. */
    public static List<int[]> ranges(int payloadBytes, int maxChunk) {
        int n = count(payloadBytes, maxChunk);
        List<int[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int from = i * maxChunk;
            out.add(new int[] {from, Math.min(maxChunk, payloadBytes - from)});
        }
        return out;
    }
}
