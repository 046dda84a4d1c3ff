package io.sessionagent.agent.demo;

import io.sessionagent.agent.testing.AgentProcess;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's main command, run as a user runs it (on ports of its own, so runs never collide). */
class DemoScriptIT {
    @Test
    void theDemoShowsASessionSurvivingTheKillOfItsNode() throws Exception {
        Path script = Path.of("..", "demo", "run.sh").toAbsolutePath().normalize();
        assertThat(script).exists();
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        Map<String, String> env = pb.environment();
        env.put("DEMO_GRPC_A", Integer.toString(AgentProcess.freePort()));
        env.put("DEMO_PEER_A", Integer.toString(AgentProcess.freePort()));
        env.put("DEMO_GRPC_B", Integer.toString(AgentProcess.freePort()));
        env.put("DEMO_PEER_B", Integer.toString(AgentProcess.freePort()));
        env.put("DEMO_METRICS_A", Integer.toString(AgentProcess.freePort()));
        env.put("DEMO_METRICS_B", Integer.toString(AgentProcess.freePort()));
        env.put("DEMO_GROUP", "239.255." + r.nextInt(1, 255) + "." + r.nextInt(1, 255));
        env.put("DEMO_PORT", Integer.toString(r.nextInt(20_000, 60_000)));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        Files.writeString(Path.of("target", "demo-output.txt"), out);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("counter = 5", "version 6 applied", "the session survived the failure of node-a");
    }
}
