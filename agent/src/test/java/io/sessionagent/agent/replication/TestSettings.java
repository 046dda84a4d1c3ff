package io.sessionagent.agent.replication;

import io.sessionagent.agent.config.AgentConfig;

import java.util.HashMap;
import java.util.Map;

/**
 * The protocol's settings for a replicator under test: a small buffer and window, no periodic
 * anti-entropy, and whatever else the test names, by setting name as an operator would.
 */
final class TestSettings {
    private TestSettings() {
    }

    /** @param overrides setting names and values, in pairs */
    static ReplicationSettings replication(long selfId, String peerAddress, String... overrides) {
        Map<String, String> m = new HashMap<>(Map.of("cluster-name", "c", "node-name", "self",
                "retransmit-buffer-frames", "64", "retransmit-buffer-bytes", "1MiB", "receive-buffer-frames", "64",
                "anti-entropy-interval", "0", "access-flush-interval", "5s", "expiry-scan-interval", "1s"));
        for (int i = 0; i < overrides.length; i += 2) {
            m.put(overrides[i], overrides[i + 1]);
        }
        return ReplicationSettings.from(AgentConfig.fromMap(m), selfId, 1, peerAddress);
    }
}
