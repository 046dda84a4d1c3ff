package io.sessionagent.agent.netns;

import io.sessionagent.agent.auth.Keys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two agents on one host, joined to the group on a real (veth) interface, not {@code lo}: they
 * hear each other only through multicast loopback, which {@code lo} would provide by itself. Runs
 * in a network namespace of its own (root, {@code ip}); skipped without them, failing under CI.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SameHostIT {
    private Netns net;

    @AfterEach
    void tearDown() {
        if (net != null) {
            net.close();
        }
    }

    @Test
    void twoAgentsOnOneHostHearEachOtherOnARealInterface() throws Exception {
        Path jar = NetnsCluster.requireNamespaces();
        net = Netns.create(1);
        Path logs = Files.createDirectories(Path.of("target", "netns-logs"));
        String group = "239.255.77." + (1 + (int) (System.nanoTime() % 250));
        List<Path> agentLogs = new ArrayList<>();
        // A real interface: the agents require a key.
        Path keys = Files.createTempFile(logs, "same-host-", ".keys");
        Files.writeString(keys, Keys.fileText(Keys.key(1, System.nanoTime())));
        for (int k = 0; k < 2; k++) {
            Path log = logs.resolve("same-host-" + net.suffix() + "-agent" + k + ".log");
            agentLogs.add(log);
            net.start(1, List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m", "-jar",
                    jar.toString(), "--cluster-name=same-host-" + net.suffix(), "--node-name=agent" + k,
                    "--multicast-interface=" + net.nodeInterface(1), "--multicast-ttl=1",
                    "--cluster-key-file=" + keys,
                    "--multicast-group=" + group, "--multicast-port=45600",
                    "--grpc-port=" + (7500 + 10 * k), "--peer-address=" + net.address(1),
                    "--peer-port=" + (7501 + 10 * k), "--metrics-port=" + (7502 + 10 * k)), log);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        boolean bothJoined = false;
        while (!bothJoined && System.nanoTime() < deadline) {
            Thread.sleep(200);
            bothJoined = joined(agentLogs.get(0), "agent1") && joined(agentLogs.get(1), "agent0");
        }
        assertThat(bothJoined).as("each agent logged the other as joined; logs in " + logs).isTrue();
    }

    private static boolean joined(Path log, String other) throws Exception {
        return Files.exists(log) && Files.readAllLines(log).stream()
                .anyMatch(l -> l.contains("member " + other + "/") && l.contains(" joined"));
    }
}
