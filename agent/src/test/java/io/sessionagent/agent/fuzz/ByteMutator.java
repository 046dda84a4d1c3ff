package io.sessionagent.agent.fuzz;

import java.util.Arrays;
import java.util.Random;

/** Byte-level damage of the kinds a protobuf parser must survive. */
final class ByteMutator {
    private ByteMutator() {
    }

    static byte[] mutate(Random random, byte[] in) {
        byte[] b = in.length == 0 ? new byte[] {(byte) random.nextInt(256)} : in.clone();
        int ops = 1 + random.nextInt(4);
        for (int i = 0; i < ops && b.length > 0; i++) {
            int at = random.nextInt(b.length);
            switch (random.nextInt(6)) {
                case 0 -> b[at] = (byte) random.nextInt(256);
                case 1 -> b[at] = (byte) 0xff; // an endless varint continuation
                case 2 -> b = Arrays.copyOf(b, at); // a field cut short
                case 3 -> { // a length that overruns the message
                    b[at] = (byte) (0x0a + 8 * random.nextInt(12));
                    if (at + 1 < b.length) {
                        b[at + 1] = (byte) (0x40 + random.nextInt(0x40));
                    }
                }
                case 4 -> b[at] = (byte) ((random.nextInt(16) << 3) | (6 + random.nextInt(2))); // no such wire type
                default -> { // a slice of the message repeated at its end
                    int len = random.nextInt(Math.min(64, b.length - at) + 1);
                    byte[] grown = Arrays.copyOf(b, b.length + len);
                    System.arraycopy(b, at, grown, b.length, len);
                    b = grown;
                }
            }
        }
        return b;
    }
}
