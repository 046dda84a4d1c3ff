package io.sessionagent.filter.core.session;

/**
 * The 128-bit fingerprint of a serialized attribute value that tells whether a value read by a
 * request changed since the agent received it (MurmurHash3, x64 128-bit variant). Two equal byte
 * arrays always give equal fingerprints; a changed value gives the same one with a chance of about
 * 2<sup>-128</sup>. Not a cryptographic hash, and it need not be: the bytes are the application's
 * own, and a collision would only keep one change of one session from being sent. About five
 * times faster than MD5, which this replaced on every request's path.
 */
final class ValueDigest {
    private static final long C1 = 0x87c37b91114253d5L;
    private static final long C2 = 0x4cf5ad432745937fL;

    private ValueDigest() {
    }

    /** The fingerprint of {@code bytes}, as 16 bytes. */
    static byte[] of(byte[] bytes) {
        long h1 = 0;
        long h2 = 0;
        int blocks = bytes.length / 16;
        for (int i = 0; i < blocks; i++) {
            long k1 = littleEndian(bytes, i * 16);
            long k2 = littleEndian(bytes, i * 16 + 8);
            h1 ^= mixK1(k1);
            h1 = Long.rotateLeft(h1, 27) + h2;
            h1 = h1 * 5 + 0x52dce729;
            h2 ^= mixK2(k2);
            h2 = Long.rotateLeft(h2, 31) + h1;
            h2 = h2 * 5 + 0x38495ab5;
        }
        int tail = blocks * 16;
        long k1 = 0;
        long k2 = 0;
        switch (bytes.length & 15) {
            case 15: k2 ^= (long) (bytes[tail + 14] & 0xff) << 48; // fall through
            case 14: k2 ^= (long) (bytes[tail + 13] & 0xff) << 40; // fall through
            case 13: k2 ^= (long) (bytes[tail + 12] & 0xff) << 32; // fall through
            case 12: k2 ^= (long) (bytes[tail + 11] & 0xff) << 24; // fall through
            case 11: k2 ^= (long) (bytes[tail + 10] & 0xff) << 16; // fall through
            case 10: k2 ^= (long) (bytes[tail + 9] & 0xff) << 8; // fall through
            case 9: k2 ^= bytes[tail + 8] & 0xff;
                h2 ^= mixK2(k2);
                // fall through
            case 8: k1 ^= (long) (bytes[tail + 7] & 0xff) << 56; // fall through
            case 7: k1 ^= (long) (bytes[tail + 6] & 0xff) << 48; // fall through
            case 6: k1 ^= (long) (bytes[tail + 5] & 0xff) << 40; // fall through
            case 5: k1 ^= (long) (bytes[tail + 4] & 0xff) << 32; // fall through
            case 4: k1 ^= (long) (bytes[tail + 3] & 0xff) << 24; // fall through
            case 3: k1 ^= (long) (bytes[tail + 2] & 0xff) << 16; // fall through
            case 2: k1 ^= (long) (bytes[tail + 1] & 0xff) << 8; // fall through
            case 1: k1 ^= bytes[tail] & 0xff;
                h1 ^= mixK1(k1);
                break;
            default:
                break;
        }
        h1 ^= bytes.length;
        h2 ^= bytes.length;
        h1 += h2;
        h2 += h1;
        h1 = fmix(h1);
        h2 = fmix(h2);
        h1 += h2;
        h2 += h1;
        byte[] out = new byte[16];
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (h1 >>> (8 * i));
            out[8 + i] = (byte) (h2 >>> (8 * i));
        }
        return out;
    }

    private static long littleEndian(byte[] b, int at) {
        return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16 | (b[at + 3] & 0xffL) << 24
                | (b[at + 4] & 0xffL) << 32 | (b[at + 5] & 0xffL) << 40 | (b[at + 6] & 0xffL) << 48
                | (b[at + 7] & 0xffL) << 56;
    }

    private static long mixK1(long k1) {
        return Long.rotateLeft(k1 * C1, 31) * C2;
    }

    private static long mixK2(long k2) {
        return Long.rotateLeft(k2 * C2, 33) * C1;
    }

    private static long fmix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
