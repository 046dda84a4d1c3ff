package io.sessionagent.filter.core.session;

import com.google.common.hash.Hashing;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class ValueDigestTest {
    @Test
    void isMurmurHash3OfX64With128BitsAsGuavaComputesIt() {
        assertThat(ValueDigest.of(new byte[0])).isEqualTo(new byte[16]);
        assertThat(hex(ValueDigest.of("hello".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("029bbd41b3a7d8cb191dae486a901e5b");
        Random random = new Random(7);
        // Every tail length, then values of the sizes sessions hold.
        for (int n = 0; n < 2_000; n++) {
            byte[] b = new byte[n < 64 ? n : random.nextInt(20_000)];
            random.nextBytes(b);
            assertThat(ValueDigest.of(b)).as("%d bytes", b.length).isEqualTo(Hashing.murmur3_128().hashBytes(b).asBytes());
        }
    }

    @Test
    void aSingleChangedBitChangesTheFingerprint() {
        byte[] value = new byte[1024];
        new Random(3).nextBytes(value);
        byte[] before = ValueDigest.of(value);
        for (int bit = 0; bit < value.length * 8; bit += 7) {
            value[bit / 8] ^= (byte) (1 << (bit % 8));
            assertThat(ValueDigest.of(value)).isNotEqualTo(before);
            value[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        assertThat(ValueDigest.of(value)).isEqualTo(before);
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }
}
