package io.sessionagent.bench.http.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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
        assertThat(after.minus(before)).isEqualTo(new FilterStatus(100, 0, 3, 0, 0, 0));
        assertThat(after.minus(before).errors()).isEqualTo(3);
    }

    @Test
    void readsTheStreamFailuresAndUnreplicatedWritesOfFiltersThatCountThem() {
        FilterStatus before = FilterStatus.parse("members=0 deltas.sent=10 agent.errors=0 agent.stream_failures=1"
                + " writes.not_replicated=5 writes.coalesced=3 writes.unconfirmed=0");
        FilterStatus after = FilterStatus.parse("members=0 deltas.sent=30 agent.errors=2 agent.stream_failures=3"
                + " writes.not_replicated=45 writes.coalesced=9 writes.unconfirmed=0");
        assertThat(after.minus(before)).isEqualTo(new FilterStatus(20, 6, 2, 0, 2, 40));
    }

    /** Agent 2's scrape before and after a run: 100 lags in the run, the 99th within 4 ms. */
    private static final String SCRAPE_BEFORE = """
            # HELP session_agent_deltas_applied_total Received deltas applied to the table
            # TYPE session_agent_deltas_applied_total counter
            session_agent_deltas_applied_total 1000.0
            # HELP session_agent_deltas_applied_other_total not this one
            session_agent_deltas_applied_other_total 7.0
            # TYPE session_agent_replication_lag_seconds histogram
            session_agent_replication_lag_seconds_bucket{le="0.001"} 900
            session_agent_replication_lag_seconds_bucket{le="0.002"} 990
            session_agent_replication_lag_seconds_bucket{le="0.004"} 1000
            session_agent_replication_lag_seconds_bucket{le="60.0"} 1000
            session_agent_replication_lag_seconds_bucket{le="+Inf"} 1000
            session_agent_replication_lag_seconds_count 1000
            session_agent_replication_lag_seconds_sum 0.9
            session_agent_sync_ack_latency_seconds_bucket{outcome="replicated",le="0.001"} 5
            """;
    private static final String SCRAPE_AFTER = """
            session_agent_deltas_applied_total 1.1E3
            session_agent_replication_lag_seconds_bucket{le="0.001"} 960
            session_agent_replication_lag_seconds_bucket{le="0.002"} 1080
            session_agent_replication_lag_seconds_bucket{le="0.004"} 1099
            session_agent_replication_lag_seconds_bucket{le="60.0"} 1100
            session_agent_replication_lag_seconds_bucket{le="+Inf"} 1100
            session_agent_replication_lag_seconds_count 1100
            """;

    @Test
    void takesTheReplicasAppliedDeltasAndLagPercentileOverTheRunOnly() {
        AgentMetrics run = AgentMetrics.parse(SCRAPE_AFTER).minus(AgentMetrics.parse(SCRAPE_BEFORE));
        assertThat(run.deltasApplied()).isEqualTo(100);
        assertThat(run.lagCount()).isEqualTo(100);
        assertThat(run.lagBuckets()).containsEntry(0.001, 60L).containsEntry(0.002, 90L).containsEntry(0.004, 99L)
                .containsEntry(Double.POSITIVE_INFINITY, 100L);
        // 99 of 100 lags are within 4 ms: the p99's bucket ends there (over the whole scrape it would be 2 ms).
        assertThat(run.lagP99Seconds()).isEqualTo(0.004);
        assertThat(AgentMetrics.parse(SCRAPE_BEFORE).lagP99Seconds()).isEqualTo(0.002);
    }

    @Test
    void placesTheP99InTheSmallestBucketHoldingNinetyNinePercent() {
        TreeMap<Double, Long> b = new TreeMap<>(Map.of(0.001, 0L, 0.002, 98L, 0.005, 99L,
                Double.POSITIVE_INFINITY, 100L));
        assertThat(AgentMetrics.percentileUpperBound(b, 99)).isEqualTo(0.005);
        assertThat(AgentMetrics.percentileUpperBound(b, 50)).isEqualTo(0.002);
        b.put(0.005, 98L);
        assertThat(AgentMetrics.percentileUpperBound(b, 99)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(AgentMetrics.percentileUpperBound(new TreeMap<>(Map.of(0.001, 0L,
                Double.POSITIVE_INFINITY, 0L)), 99)).isNaN();
    }

    @Test
    void refusesAScrapeWithoutTheReplicasFigures() {
        assertThatThrownBy(() -> AgentMetrics.parse("session_agent_members{state=\"ready\"} 1.0\n"))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void showsWhetherEveryWriteReachedNodeTwo() throws Exception {
        AgentMetrics lags = AgentMetrics.parse(SCRAPE_AFTER).minus(AgentMetrics.parse(SCRAPE_BEFORE));
        Result all = result(Configuration.OURS_SYNC, 16, 100, new FilterStatus(100, 0, 0, 0, 0, 0), lags);
        Result fewer = result(Configuration.OURS_ASYNC, 16, 130_000, new FilterStatus(123_456, 6_000, 3, 2, 1, 7),
                new AgentMetrics(123_400, lags.lagBuckets()));
        Result delta = result(Configuration.DELTA_ASYNC, 16, 100);
        assertThat(all.everyWriteReplicated()).isTrue();
        assertThat(fewer.everyWriteReplicated()).isFalse();
        assertThat(fewer.notApplied()).isEqualTo(56);
        assertThat(delta.everyWriteReplicated()).isNull();
        assertThat(new Result(Configuration.OURS_SYNC, 16, all.load(), all.replica(),
                new FilterStatus(100, 0, 0, 0, 0, 1), lags, Map.of()).everyWriteReplicated()).isFalse();
        // Writes no counter saw: fewer deltas applied than requests answered, each of which wrote.
        assertThat(result(Configuration.OURS_ASYNC, 16, 101, new FilterStatus(100, 0, 0, 0, 0, 0), lags)
                .everyWriteReplicated()).isFalse();
        // Unless they were merged into a write of their session that had not left yet.
        assertThat(result(Configuration.OURS_ASYNC, 16, 130, new FilterStatus(100, 30, 0, 0, 0, 0), lags)
                .everyWriteReplicated()).isTrue();

        Report report = new Report(List.of(delta, fewer, all), settings("--connections=16"), machine(), Instant.EPOCH);
        assertThat(report.markdown("chart.png")).contains(
                "| 16 | filter + agents async | 1 | 0 | 0 | 130,000 | 6,000 | 123,456 / 123,400 | **no** | 5 | 1 | 7 | ≤ 4.00 |",
                "| 16 | filter + agents sync | 1 | 0 | 0 | 100 | 0 | 100 / 100 | yes | 0 | 0 | 0 | ≤ 4.00 |",
                "| 16 | DeltaManager async (8) | 1 | 0 | 0 | – | – | – | – | – | – | – | – |");
        assertThat(report.tsv().lines().toList().get(2))
                .endsWith("\t130000\t6000\t123456\t123400\t56\tno\t3\t2\t1\t7\t100\t4.000");
        assertThat(report.json()).contains("\"http_writes\": 130000, \"writes_coalesced\": 6000, \"deltas_sent\": 123456, \"deltas_applied_node2\": 123400, "
                + "\"not_applied_node2\": 56, \"every_write_replicated\": false", "\"replication_lag_p99_ms_node2\": 4.000");
        Path chart = dir.resolve("chart.png");
        Chart.write(List.of(delta, fewer, all), "test", chart);
        assertThat(ImageIO.read(chart.toFile()).getWidth()).isEqualTo(Chart.WIDTH);
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
        List<String> args = new ArrayList<>(List.of("--agent-jar=" + jar, "--work-dir=" + dir));
        args.addAll(List.of(more));
        return Settings.parse(args.toArray(String[]::new));
    }

    private static Machine machine() {
        return new Machine(2, "test CPU", "test JVM", "test OS", "0.00 0.00 0.00", "wrk test");
    }

    /**
     * A run of {@code rps} requests per second for 1 s, 1 ms p99, 100 ms of CPU on node 1; with
     * the filter, every write replicated.
     */
    private static Result result(Configuration c, int connections, long rps) {
        boolean filter = c.kind == Configuration.Kind.FILTER;
        return result(c, connections, rps, filter ? new FilterStatus(rps, 0, 0, 0, 0, 0) : null,
                filter ? new AgentMetrics(rps, AgentMetrics.parse(SCRAPE_AFTER).lagBuckets()) : null);
    }

    private static Result result(Configuration c, int connections, long rps, FilterStatus filter, AgentMetrics agent2) {
        Wrk.Load load = new Wrk.Load(rps, 1_000_000, 0, 0, 500, 1000, 2000,
                List.of(new Wrk.User(1, "JSESSIONID=A", rps)));
        ReplicaCheck.Outcome replica = c.replicated() ? new ReplicaCheck.Outcome(1, 0, 0, null) : null;
        return new Result(c, connections, load, replica, filter, agent2, Map.of("node1", 100L));
    }
}
