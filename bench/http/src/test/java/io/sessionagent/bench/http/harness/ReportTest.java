package io.sessionagent.bench.http.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReportTest {
    @TempDir
    Path dir;

    @Test
    void replacesOnlyTheSectionBetweenTheMarkers() throws Exception {
        Path readme = dir.resolve("README.md");
        Files.writeString(readme, "intro\n" + Report.BEGIN + "\nfirst\n" + Report.END + "\noutro\n");
        Report.intoReadme(readme, "second\n");
        assertThat(Files.readString(readme)).isEqualTo("intro\n" + Report.BEGIN + "\nsecond\n" + Report.END + "\noutro\n");
    }

    @Test
    void appendsTheSectionWhereThereAreNoMarkers() throws Exception {
        Path readme = dir.resolve("README.md");
        Files.writeString(readme, "intro");
        Report.intoReadme(readme, "table\n");
        assertThat(Files.readString(readme)).isEqualTo("intro\n" + Report.BEGIN + "\ntable\n" + Report.END + "\n");
    }

    @Test
    void readsWhatTheWrkScriptWrote() {
        Wrk.Load load = Wrk.parse(List.of("requests\t1200", "duration_us\t2000000", "errors\t3", "p50_us\t1500",
                "p99_us\t9000", "max_us\t12000", "user\t1000001\tJSESSIONID=ABC\t17", "user\t2000001\t\t1",
                "bad_responses\t2"));
        assertThat(load.requestsPerSecond()).isEqualTo(600.0);
        assertThat(load.p99Us()).isEqualTo(9000);
        assertThat(load.badResponses()).isEqualTo(2);
        assertThat(load.users()).containsExactly(new Wrk.User(1000001, "JSESSIONID=ABC", 17),
                new Wrk.User(2000001, "", 1));
    }

    @Test
    void countsTheReadyMembersAnAgentReports() {
        String metrics = "# HELP session_agent_members Other members\nsession_agent_members{state=\"joining\"} 0.0\n"
                + "session_agent_members{state=\"ready\"} 1.0\n";
        assertThat(Deployment.readyMembers(metrics)).isEqualTo(1.0);
        assertThat(Deployment.readyMembers("session_agent_members{state=\"ready\"} 0.0\n")).isZero();
    }

    @Test
    void readsTheFilterCountersOfTheStatusPage() {
        FilterStatus before = FilterStatus.parse("members=0 serialize.nanos=5 deltas.sent=10 agent.errors=1 agent.calls_skipped=2\n");
        FilterStatus after = FilterStatus.parse("members=0 deltas.sent=110 agent.errors=4 agent.calls_skipped=2");
        assertThat(after.minus(before)).isEqualTo(new FilterStatus(100, 3, 0));
        assertThat(after.minus(before).failedOrSkipped()).isEqualTo(3);
    }

    @Test
    void runsEveryConnectionCountListed() throws Exception {
        assertThat(settings().connections()).containsExactly(16, 64);
        assertThat(settings("--connections=8").connections()).containsExactly(8);
        assertThat(settings("--connections=64, 16").connections()).containsExactly(64, 16);
        assertThatThrownBy(() -> settings("--connections=1,16", "--threads=2")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> settings("--connections=16,16")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void comparesWithDeltaManagerAtTheSameConnectionCount() throws Exception {
        List<Result> results = List.of(
                result(Configuration.DELTA_ASYNC, 16, 1000), result(Configuration.OURS_ASYNC, 16, 500),
                result(Configuration.DELTA_ASYNC, 64, 2000), result(Configuration.OURS_ASYNC, 64, 3000));
        Report report = new Report(results, settings("--connections=16,64"), machine(), Instant.EPOCH);
        String md = report.markdown("chart.png");
        assertThat(md).contains("| 16 | filter + agents async ÷ DeltaManager async (8) | 0.50× |",
                "| 64 | filter + agents async ÷ DeltaManager async (8) | 1.50× |", "16 and 64 connections");
        assertThat(report.tsv().lines()).hasSize(5).element(1).asString().startsWith("delta-async\t16\t");
        assertThat(report.json()).contains("\"connections\": [16, 64]", "\"configuration\": \"ours-async\", \"label\": "
                + "\"filter + agents async\", \"connections\": 64", "\"req_per_s_vs_delta_async\": 1.500");
    }

    private Settings settings(String... more) throws Exception {
        Path jar = dir.resolve("agent.jar");
        if (!Files.exists(jar)) {
            Files.createFile(jar);
        }
        List<String> args = new java.util.ArrayList<>(List.of("--agent-jar=" + jar, "--work-dir=" + dir));
        args.addAll(List.of(more));
        return Settings.parse(args.toArray(String[]::new));
    }

    private static Machine machine() {
        return new Machine(2, "test CPU", "test JVM", "test OS", "0.00 0.00 0.00", "wrk test");
    }

    /** A run of {@code rps} requests per second for 1 s, 1 ms p99, 100 ms of CPU on node 1. */
    private static Result result(Configuration c, int connections, long rps) {
        Wrk.Load load = new Wrk.Load(rps, 1_000_000, 0, 0, 500, 1000, 2000,
                List.of(new Wrk.User(1, "JSESSIONID=A", rps)));
        ReplicaCheck.Outcome replica = c.replicated() ? new ReplicaCheck.Outcome(1, 0, 0, null) : null;
        FilterStatus filter = c.kind == Configuration.Kind.FILTER ? new FilterStatus(rps, 0, 0) : null;
        return new Result(c, connections, load, replica, filter, Map.of("node1", 100L));
    }
}
