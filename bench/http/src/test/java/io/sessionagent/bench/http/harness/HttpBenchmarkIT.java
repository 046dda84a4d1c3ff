package io.sessionagent.bench.http.harness;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The whole harness, briefly: every configuration for a second of load at one connection count
 * (8: a short run for CI; the full run takes 16 and 64), the replica check, the files and the
 * README section. It checks that each configuration produces its row, that the replicated ones
 * were checked user by user and that the filter's rows carry the writes, the deltas applied on
 * node 2 and the lag p99; it asserts nothing about speed, nor that every write was replicated
 * (that is what bench/http/run.sh is for, on a quiet machine).
 */
class HttpBenchmarkIT {

    @Test
    void everyConfigurationProducesItsRow() throws Exception {
        String wrk = wrkBinary();
        Path target = Path.of(System.getProperty("bench.target", "target")).toAbsolutePath();
        Path work = target.resolve("http-bench-smoke");
        Path readme = Files.createDirectories(work).resolve("README.md");
        Files.writeString(readme, "# kept\n\n" + Report.BEGIN + "\nold\n" + Report.END + "\n\nalso kept\n");
        String classPath = target.resolve("classes") + File.pathSeparator
                + Files.readString(target.resolve("classpath.txt")).strip();

        List<Result> results = new HttpBenchmark(Settings.parse(new String[] {
                "--agent-jar=" + System.getProperty("sessionagent.jar"), "--class-path=" + classPath, "--wrk=" + wrk,
                "--work-dir=" + work, "--readme=" + readme, "--duration=1", "--warmup=1", "--settle=1",
                "--connections=8", "--threads=2", "--command=HttpBenchmarkIT"})).run();

        assertThat(results).extracting(Result::config).containsExactly(Configuration.values());
        for (Result r : results) {
            assertThat(r.connections()).as("%s connections", r.config()).isEqualTo(8);
            assertThat(r.load().requests()).as("%s requests", r.config()).isPositive();
            assertThat(r.load().users()).as("%s users", r.config()).isNotEmpty()
                    .allSatisfy(u -> assertThat(u.cookie()).as("%s cookie", r.config()).contains("SESSIONID="));
            assertThat(r.cpuMillis()).as("%s CPU time", r.config()).isPositive();
            if (r.config().kind == Configuration.Kind.FILTER) {
                // Present, not equal: whether every write was replicated is for the full run to show.
                assertThat(r.filter().deltasSent()).as("%s deltas sent", r.config()).isPositive();
                assertThat(r.agent2()).as("%s agent 2's figures", r.config()).isNotNull();
                assertThat(r.agent2().deltasApplied()).as("%s deltas applied on node 2", r.config()).isNotNegative();
                assertThat(r.notApplied()).as("%s writes not applied on node 2", r.config()).isNotNull();
                assertThat(r.everyWriteReplicated()).as("%s every write replicated", r.config()).isNotNull();
                assertThat(r.agent2().lagCount()).as("%s lags recorded on node 2", r.config()).isPositive();
                assertThat(r.lagP99Ms()).as("%s lag p99 on node 2", r.config()).isNotNaN();
            } else {
                assertThat(r.filter()).isNull();
                assertThat(r.agent2()).isNull();
                assertThat(r.everyWriteReplicated()).isNull();
            }
            if (r.config().replicated()) {
                assertThat(r.replica().checked()).as("%s checked", r.config()).isEqualTo(r.load().users().size());
            } else {
                assertThat(r.replica()).isNull();
            }
        }
        Path out = work.resolve("results");
        List<String> tsv = Files.readAllLines(out.resolve("results.tsv"));
        assertThat(tsv).hasSize(1 + Configuration.values().length);
        List<String> columns = List.of(tsv.get(0).split("\t"));
        assertThat(columns).contains("connections", "http_writes", "writes_coalesced", "deltas_sent", "deltas_applied_node2", "every_write_replicated",
                "stream_failures", "writes_not_replicated", "replication_lag_p99_ms_node2");
        for (String row : tsv.subList(1, tsv.size())) {
            String[] f = row.split("\t", -1);
            assertThat(f).as("row %s", row).hasSize(columns.size());
            assertThat(f[columns.indexOf("connections")]).isEqualTo("8");
            if (f[0].startsWith("ours-")) {
                for (String c : List.of("http_writes", "writes_coalesced", "deltas_sent", "deltas_applied_node2", "every_write_replicated", "agent_errors",
                        "stream_failures", "writes_not_replicated", "replication_lag_p99_ms_node2")) {
                    assertThat(f[columns.indexOf(c)]).as("%s %s", f[0], c).isNotEmpty();
                }
            }
        }
        assertThat(Files.readString(out.resolve("results.json")))
                .contains("\"ours-sync\"", "\"req_per_s_vs_delta_sync\"", "\"connections\": 8",
                        "\"deltas_applied_node2\"", "\"every_write_replicated\"", "\"replication_lag_p99_ms_node2\"");
        BufferedImage chart = ImageIO.read(out.resolve("http-bench.png").toFile());
        assertThat(chart.getWidth()).isEqualTo(Chart.WIDTH);
        String section = Files.readString(readme);
        assertThat(section).startsWith("# kept\n").endsWith("also kept\n").doesNotContain("\nold\n")
                .contains("| 8 | filter + agents sync ÷ DeltaManager sync (6) |", "](results/http-bench.png)",
                        "| HTTP writes | writes coalesced | writes accepted / applied on node 2 | every write replicated |");
    }

    /** wrk, or a skipped test (a failed one under CI, where .ci/run installs it). */
    private static String wrkBinary() {
        for (String dir : List.of("/usr/bin", "/usr/local/bin")) {
            if (Files.isExecutable(Path.of(dir, "wrk"))) {
                return Path.of(dir, "wrk").toString();
            }
        }
        if (System.getenv("CI") != null) {
            throw new AssertionError("wrk is not installed (apt-get install -y wrk); .ci/run installs it");
        }
        assumeTrue(false, "wrk is not installed: HTTP benchmark smoke test skipped (apt-get install -y wrk)");
        return null;
    }
}
