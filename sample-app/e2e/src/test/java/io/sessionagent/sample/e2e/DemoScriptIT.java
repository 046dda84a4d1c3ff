package io.sessionagent.sample.e2e;

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
 * The README's main command, run as a user runs it (on ports of its own, so runs never collide):
 * NGINX, two app servers, two agents, a kill -9 of the node holding the session.
 */
class DemoScriptIT {
    @Test
    void theDemoShowsASessionSurvivingTheKillOfItsNode() throws Exception {
        LocalCluster.nginxBinary(); // skips without nginx, fails under CI
        Path script = LocalCluster.repoRoot().resolve("demo").resolve("run.sh");
        assertThat(script).exists();
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        Map<String, String> env = pb.environment();
        for (String port : new String[] {"DEMO_HTTP", "DEMO_NODE1", "DEMO_NODE2", "DEMO_GRPC_A", "DEMO_PEER_A",
                "DEMO_METRICS_A", "DEMO_GRPC_B", "DEMO_PEER_B", "DEMO_METRICS_B"}) {
            env.put(port, Integer.toString(AgentProcess.freePort()));
        }
        env.put("DEMO_GROUP", "239.255." + r.nextInt(1, 255) + "." + r.nextInt(1, 255));
        env.put("DEMO_PORT", Integer.toString(r.nextInt(20_000, 60_000)));
        Process p = pb.start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
            Files.writeString(Path.of("target", "demo-output.txt"), out);
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("== ready: http://127.0.0.1:" + env.get("DEMO_HTTP") + "/counter",
                    "\"items\":[\"book\",\"pen\"]", "the session survived the kill of");
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }
}
