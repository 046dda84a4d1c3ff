package io.sessionagent.agent.auth;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * AES-GCM for datagrams. Each run of each agent seals with its own key, derived from the cluster
 * key, its member id, its incarnation and a random salt; the GCM nonce is then a plain counter of
 * that run, so no nonce is ever used twice under one key however long the cluster key lives, and
 * the counter doubles as the replay counter of control frames. The header travels in clear as
 * additional authenticated data: a receiver can route and count before decrypting, and changing
 * any header field breaks the tag.
 *
 * <p>Extension written after the 48-byte header of a sealed frame: key id (u32), salt (u64),
 * counter (u64); then the ciphertext with its 16-byte tag.
 */
public final class FrameSealer {
    public static final int EXTENSION_BYTES = 20;
    public static final int TAG_BYTES = 16;
    /** Bytes a sealed datagram carries beyond the plain one. */
    public static final int OVERHEAD = EXTENSION_BYTES + TAG_BYTES;
    private static final byte[] LABEL = "session-agent frame v1".getBytes(StandardCharsets.US_ASCII);
    /** Derived keys of senders no longer heard of are dropped past this many. */
    private static final int MAX_CACHED_KEYS = 4096;

    private final ClusterKeys keys;
    private final long salt;
    /** Data and control frames count separately, so control frames' replay window is never crowded by data. */
    private final AtomicLong dataCounter = new AtomicLong();
    private final AtomicLong controlCounter = new AtomicLong();
    private final ReplayGuard replays = new ReplayGuard();
    private final Map<SenderKey, SecretKeySpec> derived = new ConcurrentHashMap<>();
    private final ThreadLocal<Cipher> ciphers = ThreadLocal.withInitial(FrameSealer::newCipher);
    private volatile KeyRing derivedFrom;

    /**
     * @param salt random per run of this agent (a restart under the same name and, through a
     *             clock step back, the same incarnation still seals with another key)
     */
    public FrameSealer(ClusterKeys keys, long salt) {
        this.keys = keys;
        this.salt = salt;
    }

    /**
     * Writes the extension at {@code at} and the sealed body after it. The bytes of
     * {@code datagram} before the extension's end are the additional data, so the header must be
     * complete (checksum field still zero) when this is called.
     */
    public void seal(byte[] datagram, int at, long memberId, long incarnation, boolean control,
                     byte[] body, int offset, int length) {
        ClusterKey key = keys.current().sending();
        long counter = (control ? controlCounter : dataCounter).incrementAndGet();
        ByteBuffer.wrap(datagram, at, EXTENSION_BYTES).putInt(key.id()).putLong(salt).putLong(counter);
        try {
            Cipher c = ciphers.get();
            c.init(Cipher.ENCRYPT_MODE, keyFor(key, memberId, incarnation, salt), nonce(control, counter));
            c.updateAAD(datagram, 0, at + EXTENSION_BYTES);
            c.doFinal(body, offset, length, datagram, at + EXTENSION_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed: " + e.getMessage(), e);
        }
    }

    /**
     * Authenticates and decrypts a sealed datagram, then, for a control frame, checks it is not a
     * replay.
     *
     * @param aad the datagram's bytes up to the extension's end as they were sealed (checksum
     *            field zero)
     * @param at  where the extension starts in {@code datagram}
     * @return the plain body
     */
    public byte[] open(byte[] datagram, byte[] aad, int at, long memberId, long incarnation, boolean control)
            throws AuthFailure {
        ByteBuffer ext = ByteBuffer.wrap(datagram, at, EXTENSION_BYTES);
        int keyId = ext.getInt();
        long senderSalt = ext.getLong();
        long counter = ext.getLong();
        ClusterKey key = keys.current().byId(keyId);
        if (key == null) {
            throw new AuthFailure(false, "sealed with key id " + Integer.toUnsignedString(keyId)
                    + ", which this agent does not hold");
        }
        int sealedAt = at + EXTENSION_BYTES;
        SenderKey id = new SenderKey(key.id(), memberId, incarnation, senderSalt);
        SecretKeySpec k = cached(id);
        boolean fresh = k == null;
        if (fresh) {
            // Not cached before the tag checks out: forged frames with made-up salts must not be
            // able to push real senders' keys out.
            k = derive(key, memberId, incarnation, senderSalt);
        }
        byte[] plain;
        try {
            Cipher c = ciphers.get();
            c.init(Cipher.DECRYPT_MODE, k, nonce(control, counter));
            c.updateAAD(aad);
            plain = c.doFinal(datagram, sealedAt, datagram.length - sealedAt);
            if (fresh) {
                remember(id, k);
            }
        } catch (AEADBadTagException e) {
            throw new AuthFailure(false, "authentication failed (key " + keyId + ")");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed: " + e.getMessage(), e);
        }
        if (control && !replays.accept(memberId, incarnation, senderSalt, counter)) {
            throw new AuthFailure(true, "replayed control frame (counter " + counter + ")");
        }
        return plain;
    }

    private static GCMParameterSpec nonce(boolean control, long counter) {
        byte[] iv = new byte[12];
        iv[0] = (byte) (control ? 1 : 0);
        ByteBuffer.wrap(iv, 4, 8).putLong(counter);
        return new GCMParameterSpec(TAG_BYTES * 8, iv);
    }

    private SecretKeySpec keyFor(ClusterKey key, long memberId, long incarnation, long senderSalt) {
        SenderKey id = new SenderKey(key.id(), memberId, incarnation, senderSalt);
        SecretKeySpec k = cached(id);
        if (k == null) {
            k = derive(key, memberId, incarnation, senderSalt);
            remember(id, k);
        }
        return k;
    }

    private SecretKeySpec cached(SenderKey id) {
        KeyRing ring = keys.current();
        if (ring != derivedFrom) {
            // A reload may give an id new material: nothing derived from the old ring is kept.
            synchronized (this) {
                if (ring != derivedFrom) {
                    derived.clear();
                    derivedFrom = ring;
                }
            }
        }
        return derived.get(id);
    }

    private void remember(SenderKey id, SecretKeySpec k) {
        if (derived.size() >= MAX_CACHED_KEYS) {
            derived.clear();
        }
        derived.put(id, k);
    }

    private static SecretKeySpec derive(ClusterKey key, long memberId, long incarnation, long senderSalt) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.material(), "HmacSHA256"));
            mac.update(LABEL);
            mac.update(ByteBuffer.allocate(28).putInt(key.id()).putLong(memberId).putLong(incarnation)
                    .putLong(senderSalt).array());
            byte[] k = mac.doFinal();
            try {
                return new SecretKeySpec(k, "AES");
            } finally {
                Arrays.fill(k, (byte) 0);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 failed: " + e.getMessage(), e);
        }
    }

    private static Cipher newCipher() {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no AES/GCM: " + e.getMessage(), e);
        }
    }

    private record SenderKey(int keyId, long memberId, long incarnation, long salt) {
    }
}
