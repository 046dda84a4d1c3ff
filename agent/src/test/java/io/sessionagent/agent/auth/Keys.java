package io.sessionagent.agent.auth;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;

/** Test keys: deterministic material per (id, seed), rings and key-file lines. */
public final class Keys {
    private Keys() {}

    public static ClusterKey key(int id, long seed) {
        byte[] m = new byte[32];
        new Random(seed * 31 + id).nextBytes(m);
        return new ClusterKey(id, m);
    }

    public static KeyRing ring(ClusterKey... keys) {
        return new KeyRing(List.of(keys));
    }

    public static ClusterKeys fixed(ClusterKey... keys) {
        return ClusterKeys.of(ring(keys));
    }

    /** Key-file text for the keys, the sending one first. */
    public static String fileText(ClusterKey... keys) {
        List<String> lines = new ArrayList<>();
        lines.add("# cluster keys, sending key first");
        for (ClusterKey k : keys) {
            lines.add(k.id() + ":" + Base64.getEncoder().encodeToString(k.material()));
        }
        return String.join("\n", lines) + "\n";
    }
}
