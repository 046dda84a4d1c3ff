package io.sessionagent.agent.testing;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class FreePortsTest {

    @Test
    void portsLieBelowTheEphemeralRangeAreDistinctAndBindable() throws IOException {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            int port = FreePorts.next();
            assertThat(port).isBetween(10_000, FreePorts.ephemeralLow() - 1);
            assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            }
        }
    }

    @Test
    void aPortSomeoneListensOnIsNeverHandedOut() throws IOException {
        // 2,000 draws over ~22,000 ports hit a block of 200 about 18 times unless listening ports are skipped.
        int base = FreePorts.next();
        Set<Integer> occupied = new HashSet<>();
        List<ServerSocket> servers = new ArrayList<>();
        try {
            for (int p = base; p < base + 200 && p < FreePorts.ephemeralLow(); p++) {
                try {
                    ServerSocket s = new ServerSocket();
                    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), p));
                    servers.add(s);
                    occupied.add(p);
                } catch (IOException inUse) {
                    // someone else's; it must not be handed out either, but we cannot tell who holds it
                }
            }
            for (int i = 0; i < 2_000; i++) {
                assertThat(occupied).doesNotContain(FreePorts.next());
            }
        } finally {
            for (ServerSocket s : servers) {
                s.close();
            }
        }
    }
}
