package io.sessionagent.agent.process;

import io.sessionagent.agent.testing.AgentProcess;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code demo/topology.sh}, docs/operations.md's "Changing the topology" for a person to watch, run as a
 * user runs it but on ports and a multicast group of its own: two agents, a third added, the first
 * drained, replication off and on, the second stopped in order, a fourth added, nothing lost.
 */
class TopologyScriptIT {
    private static final Path TARGET = Path.of("target").toAbsolutePath();

    @Test
    void theTopologyWalkThroughLosesNoSession() throws Exception {
        Path repo = Path.of("").toAbsolutePath().getParent();
        Path script = repo.resolve("demo").resolve("topology.sh");
        assertThat(script).exists();
        // The script runs agent/target/session-agent.jar: the jar this module just packaged.
        assertThat(repo.resolve("agent/target/session-agent.jar")).isEqualTo(AgentProcess.jar().toAbsolutePath());

        ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        for (int n = 1; n <= 4; n++) {
            for (String kind : new String[] {"GRPC", "PEER", "METRICS"}) {
                env.put("DEMO_TOPO_" + kind + n, Integer.toString(AgentProcess.freePort()));
            }
        }
        ThreadLocalRandom r = ThreadLocalRandom.current();
        env.put("DEMO_TOPO_GROUP", "239.255." + r.nextInt(1, 255) + "." + r.nextInt(1, 255));
        env.put("DEMO_TOPO_PORT", Integer.toString(r.nextInt(20_000, 60_000)));
        env.put("DEMO_TOPO_RUN", TARGET.resolve("topology-run").toString());
        // Two batches of writes (four at once) instead of the demo's five: every step still has sessions.
        env.put("DEMO_TOPO_SESSIONS", "8");
        // The same JDK as the test, first on the PATH.
        env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + env.getOrDefault("PATH", ""));

        Process p = pb.start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            Files.writeString(TARGET.resolve("topology-output.txt"), out);
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).as(out)
                    .contains("node2 now sees: node3; node3 now sees: node2",
                            "the writes did not cross",
                            "node2 (pid ")
                    .containsPattern("== summary: sessions written 10, found on node3 10, on node4 10, lost 0\\n");
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }
}
