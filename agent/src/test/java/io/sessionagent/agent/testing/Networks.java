package io.sessionagent.agent.testing;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** Random, loopback-only multicast settings, so that concurrent test runs never share a group. */
public final class Networks {
    private Networks() {
    }

    /** Settings for one test cluster: a random 239.x group and port on {@code lo}, ephemeral TCP ports. */
    public static Map<String, String> loopbackCluster(String clusterName) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        Map<String, String> m = new HashMap<>();
        m.put("cluster-name", clusterName);
        m.put("multicast-group", "239.255." + r.nextInt(1, 255) + "." + r.nextInt(1, 255));
        m.put("multicast-port", Integer.toString(r.nextInt(20_000, 60_000)));
        m.put("multicast-interface", "lo");
        m.put("multicast-ttl", "0");
        m.put("grpc-port", "0");
        m.put("peer-port", "0");
        m.put("metrics-port", "0");
        m.put("peer-address", "127.0.0.1");
        m.put("join-wait", "800ms");
        return m;
    }
}
