package io.sessionagent.agent.process;

import io.sessionagent.agent.testing.AgentProcess;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.GetSessionResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Agents started from the packaged jar, each in its own JVM; failures are real SIGKILLs. */
class AgentProcessIT {
    private static final Path LOGS = Path.of("target", "process-logs");
    private final Map<String, String> settings = Networks.loopbackCluster("process-" + System.nanoTime());
    private final List<AgentProcess> processes = new ArrayList<>();

    @AfterEach
    void tearDown() throws InterruptedException {
        for (AgentProcess p : processes) {
            p.close();
        }
    }

    private AgentProcess start(String name) throws Exception {
        AgentProcess p = AgentProcess.start(name, settings, LOGS);
        processes.add(p);
        return p;
    }

    private AgentProcess start(String name, Map<String, String> overrides) throws Exception {
        Map<String, String> m = new java.util.HashMap<>(settings);
        m.putAll(overrides);
        AgentProcess p = AgentProcess.start(name, m, LOGS);
        processes.add(p);
        return p;
    }

    private List<AgentProcess> startThree() throws Exception {
        List<AgentProcess> three = List.of(start("proc-a"), start("proc-b"), start("proc-c"));
        for (AgentProcess p : three) {
            p.awaitReady(Duration.ofSeconds(30));
        }
        Eventually.await(Duration.ofSeconds(10), () -> three.stream().allMatch(p -> {
            ClusterView v = p.viewOrNull();
            return v != null && v.getMembersCount() == 2;
        }), () -> "every process sees the other two");
        return three;
    }

    @Test
    void aWriteOnOneProcessIsOnAllAndAKilledProcessIsDroppedWithinFailureTimeout() throws Exception {
        List<AgentProcess> three = startThree();
        long v = three.get(0).client().put("procSession0000000000000", 0, "greeting",
                "hello".getBytes(StandardCharsets.UTF_8));
        for (AgentProcess p : three) {
            Eventually.await(Duration.ofSeconds(5), () -> {
                GetSessionResponse r = p.client().get("procSession0000000000000");
                return r.getFound() && r.getSession().getVersion() == v;
            }, () -> p.nodeName() + " holds the session");
        }

        AgentProcess victim = three.get(2);
        long start = System.nanoTime();
        victim.kill9();
        for (AgentProcess survivor : three.subList(0, 2)) {
            Eventually.await(Duration.ofMillis(3_500), () -> survivor.client().view().getMembersCount() == 1,
                    () -> survivor.nodeName() + " dropped the killed process");
        }
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThanOrEqualTo(3_500);
        ClusterView view = three.get(0).client().view();
        assertThat(view.getCountersMap().get("members.failed")).isEqualTo(1L);

        // The survivors keep replicating to each other.
        long v2 = three.get(1).client().put("afterKill000000000000000", 0, "k", new byte[] {7});
        Eventually.await(Duration.ofSeconds(5), () -> three.get(0).client().get("afterKill000000000000000")
                .getSession().getVersion() == v2, () -> "write after the kill replicated");
    }

    @Test
    void keyedProcessesReplicateAKeylessOneIsWarnedAndLeftOutAndABadKeyFileStopsTheStart() throws Exception {
        Files.createDirectories(LOGS);
        AgentProcess.CliResult gen = AgentProcess.cli("keygen", "--id", "3");
        assertThat(gen.exitCode()).isZero();
        Path keys = LOGS.resolve("cluster-" + System.nanoTime() + ".keys").toAbsolutePath();
        Files.writeString(keys, gen.output());
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-------"));
        Map<String, String> keyed = Map.of("cluster-key-file", keys.toString());
        AgentProcess a = start("proc-a", keyed);
        AgentProcess b = start("proc-b", keyed);
        AgentProcess open = start("proc-open");
        for (AgentProcess p : List.of(a, b, open)) {
            p.awaitReady(Duration.ofSeconds(30));
        }
        Eventually.await(Duration.ofSeconds(10), () -> {
            ClusterView v = a.viewOrNull();
            return v != null && v.getMembersCount() == 1;
        }, () -> "proc-a sees proc-b");

        long v = a.client().put("keyedSession000000000000", 0, "greeting", "hello".getBytes(StandardCharsets.UTF_8));
        Eventually.await(Duration.ofSeconds(5), () -> b.client().get("keyedSession000000000000").getFound(),
                () -> "proc-b has the session at version " + v);
        assertThat(open.client().get("keyedSession000000000000").getFound()).isFalse();
        assertThat(open.viewOrNull().getMembersCount()).isZero();

        String keyText = gen.output().strip();
        assertThat(a.log()).contains("keys [3] (sending with 3)").contains("sealed with AES-GCM")
                .doesNotContain(keyText.substring(2)).doesNotContain("no cluster-key-file");
        assertThat(open.log()).contains("no cluster-key-file");

        Path bad = LOGS.resolve("bad-" + System.nanoTime() + ".keys").toAbsolutePath();
        Files.writeString(bad, "3:c2hvcnQ=\n");
        AgentProcess broken = start("proc-broken", Map.of("cluster-key-file", bad.toString()));
        assertThat(broken.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(broken.process().exitValue()).isNotZero();
        assertThat(broken.log()).contains("line 1: key 3 has 5 bytes; AES keys have 16, 24 or 32");
    }

    @Test
    void aLateJoinerProcessGetsTenThousandSessionsThenLiveWrites() throws Exception {
        AgentProcess a = start("proc-a");
        AgentProcess b = start("proc-b");
        a.awaitReady(Duration.ofSeconds(30));
        b.awaitReady(Duration.ofSeconds(30));
        a.client().createAll(10_000, i -> String.format("procLate%020d", i), "payload", i -> {
            byte[] kb = new byte[1024];
            kb[0] = (byte) i;
            return kb;
        });
        Eventually.await(Duration.ofSeconds(30), () -> b.client().view().getSessionCount() == 10_000,
                () -> "10,000 sessions on proc-b");
        b.kill9();

        long started = System.nanoTime();
        AgentProcess c = start("proc-c");
        c.awaitReady(Duration.ofSeconds(60));
        long readyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        ClusterView cv = c.client().view();
        assertThat(cv.getSessionCount()).isEqualTo(10_000);
        assertThat(cv.getTableHash()).isEqualTo(a.client().view().getTableHash());
        assertThat(cv.getCountersMap().get("state_transfer.completed")).isEqualTo(1L);
        System.out.printf("PROCESS-RESULT late joiner ready with 10,000 x 1 KB sessions %d ms after its JVM was"
                + " started (JVM start and join-wait included)%n", readyMs);

        long v = a.client().put("procAfterJoin00000000000", 0, "k", new byte[] {1});
        Eventually.await(Duration.ofSeconds(5), () -> c.client().get("procAfterJoin00000000000").getSession()
                .getVersion() == v, () -> "live write reaches the joiner");
    }

    private static String cli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", AgentProcess.jar().toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void theViewGetPutAndListCommandsWorkFromScripts() throws Exception {
        List<AgentProcess> three = startThree();
        Process view = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", AgentProcess.jar().toString(), "view", "--json", "--grpc",
                "127.0.0.1:" + three.get(0).grpcPort()).redirectErrorStream(true).start();
        String out = new String(view.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(view.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(view.exitValue()).as(out).isZero();
        assertThat(out).contains("\"cluster_name\"", "\"proc-b\"", "\"proc-c\"", "\"MEMBER_STATE_READY\"",
                "\"table_hash_hex\"");

        String put = cli("put", "cliSession00000000000000", "user=alice", "cart=3 items", "--sync", "--grpc",
                "127.0.0.1:" + three.get(0).grpcPort());
        assertThat(put).contains("cliSession00000000000000 version 1 replicated (2 acks)");
        String got = cli("get", "cliSession00000000000000", "--json", "--grpc", "127.0.0.1:" + three.get(2).grpcPort());
        assertThat(got).contains("\"version\":1", "\"utf8\":\"alice\"", "\"utf8\":\"3 items\"");
        assertThat(cli("list", "--grpc", "127.0.0.1:" + three.get(1).grpcPort())).contains("cliSession00000000000000");

        Process unreachable = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", AgentProcess.jar().toString(), "view", "--grpc", "127.0.0.1:" + AgentProcess.freePort(),
                "--timeout", "1s").redirectErrorStream(true).start();
        String err = new String(unreachable.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(unreachable.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(unreachable.exitValue()).as(err).isEqualTo(3);
    }

    @Test
    void theReplicationAndDrainCommandsSwitchAndDrainARunningAgent() throws Exception {
        AgentProcess a = start("proc-a");
        AgentProcess b = start("proc-b");
        a.awaitReady(Duration.ofSeconds(30));
        b.awaitReady(Duration.ofSeconds(30));
        Eventually.await(Duration.ofSeconds(10), () -> {
            ClusterView v = b.viewOrNull();
            return v != null && v.getMembersCount() == 1;
        }, () -> "proc-b sees proc-a");
        String admin = "127.0.0.1:" + a.metricsPort();
        assertThat(AgentProcess.cli("health", "--admin", admin).exitCode()).isZero();
        assertThat(AgentProcess.cli("ready", "--admin", admin).exitCode()).isZero();

        AgentProcess.CliResult off = AgentProcess.cli("replication", "off", "--admin", admin);
        assertThat(off.exitCode()).as(off.output()).isZero();
        assertThat(off.output()).contains("replication off");
        assertThat(a.client().view().getReplicationEnabled()).isFalse();
        long v = a.client().put("procOffOn000000000000000", 0, "k", new byte[] {1});
        AgentProcess.CliResult on = AgentProcess.cli("replication", "on", "--admin", admin);
        assertThat(on.exitCode()).as(on.output()).isZero();
        assertThat(a.client().view().getReplicationEnabled()).isTrue();
        Eventually.await(Duration.ofSeconds(10), () -> b.client().get("procOffOn000000000000000").getSession()
                .getVersion() == v, () -> "the write made while off reaches proc-b");

        AgentProcess.CliResult drain = AgentProcess.cli("drain", "--admin", admin);
        assertThat(drain.exitCode()).as(drain.output()).isZero();
        assertThat(drain.output()).contains("drained");
        Eventually.await(Duration.ofMillis(2_500), () -> b.client().view().getMembersCount() == 0,
                () -> "proc-b drops the drained proc-a at once");
        assertThat(b.client().view().getCountersMap().get("members.left")).isEqualTo(1L);
        // The drained agent runs on until it is stopped: alive, but no longer ready.
        assertThat(a.process().isAlive()).isTrue();
        assertThat(AgentProcess.cli("health", "--admin", admin).exitCode()).isZero();
        AgentProcess.CliResult notReady = AgentProcess.cli("ready", "--admin", admin);
        assertThat(notReady.exitCode()).as(notReady.output()).isEqualTo(1);
        assertThat(AgentProcess.cli("health", "--admin", "127.0.0.1:" + AgentProcess.freePort()).exitCode())
                .isEqualTo(3);
        AgentProcess.CliResult again = AgentProcess.cli("replication", "on", "--admin", admin);
        assertThat(again.exitCode()).as(again.output()).isEqualTo(1);
        assertThat(again.output()).contains("409", "drained");
    }
}
