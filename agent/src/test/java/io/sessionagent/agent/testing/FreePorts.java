package io.sessionagent.agent.testing;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * TCP ports for servers a test starts later in another process (an agent, Tomcat, NGINX).
 *
 * <p>A port the kernel hands out for {@code bind(0)} lies in its ephemeral range, from which every
 * outgoing connection on the machine takes its local port too: between the probe and the server's
 * bind, any client (a scrape, a gRPC call, another build) can take it, and the server fails with
 * "Address already in use". Ports below that range are never taken that way, and the random pick
 * plus the set of ports handed out keeps tests in this JVM from choosing the same one.
 */
public final class FreePorts {
    private static final int LOWEST = 10_000;
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /** A loopback port nothing listens on, below the ephemeral range, not handed out before here. */
    public static int next() throws IOException {
        int highest = ephemeralLow() - 1;
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, highest + 1);
            if (!HANDED_OUT.add(port)) {
                continue;
            }
            try (ServerSocket probe = new ServerSocket()) {
                probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                return port;
            } catch (BindException taken) {
                // in use by a server already; try another
            }
        }
        throw new IOException("no free port between " + LOWEST + " and " + highest + " after 1000 attempts");
    }

    /** First port of the kernel's ephemeral range (32768 when it cannot be read). */
    static int ephemeralLow() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            int low = Integer.parseInt(range.split("\\s+")[0]);
            return low > LOWEST + 1_000 ? low : 32_768;
        } catch (IOException | RuntimeException unreadable) {
            return 32_768;
        }
    }
}
