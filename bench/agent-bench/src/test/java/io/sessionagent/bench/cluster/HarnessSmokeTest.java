package io.sessionagent.bench.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the whole cluster harness in quick mode so that it cannot rot: every phase must produce its
 * figures and files. It judges no figure: timings belong to the benchmark run, not the build.
 */
class HarnessSmokeTest {
    private static final List<String> KEYS = List.of("agent_deltas_per_s", "jgroups_msgs_per_s",
            "raw_multicast_per_s", "ratio_agent_jgroups", "agent_ethernet_deltas_per_s", "agent_cpu_us_per_delta",
            "jgroups_cpu_us_per_msg", "ratio_cpu_agent_jgroups", "ratio_agent_raw", "lag_25_p50_ms", "lag_25_p99_ms",
            "lag_25_p999_ms", "lag_50_p50_ms", "lag_50_p99_ms", "lag_50_p999_ms", "lag_75_p50_ms", "lag_75_p99_ms",
            "lag_75_p999_ms", "state_transfer_ms", "state_join_to_ready_ms", "heap_replica_ratio",
            "heap_origin_ratio", "heap_per_100k_sessions_mib");

    @Test
    @Timeout(120)
    void quickRunProducesEveryFigureAndFile(@TempDir Path dir) throws Exception {
        Path readme = dir.resolve("README.md");
        // Another benchmark's row and chart in the table survive a run of this harness; its own old rows do not.
        Files.writeString(readme, String.join("\n", "# bench", ReadmeTable.BEGIN,
                "| benchmark | result | ratio | target | status |", "| --- | --- | --- | --- | --- |",
                "| Replication, stale row | 1 | | | |", "| HTTP, other row | 2 | | | |", "",
                "![results](results/results.png)", "![http](results/http.png)", ReadmeTable.END, "after", ""));

        long t0 = System.nanoTime();
        Results r = Harness.run(Harness.Plan.quick(), "smoke test", System.out::println);
        Harness.write(r, dir, readme);
        System.out.printf("harness smoke test: quick run took %.1f s; figures: %s%n", (System.nanoTime() - t0) / 1e9,
                r.figures().stream().collect(Collectors.toMap(Figure::key, f -> Results.number(f.value()))));

        for (String key : KEYS) {
            assertThat(r.has(key)).as(key).isTrue();
        }
        // Rates, lags and sizes of a run that worked are all above zero; a phase that measured
        // nothing (no delta applied, no message received) shows up here.
        for (Figure f : r.figures()) {
            assertThat(f.value()).as(f.key()).isPositive().isFinite();
        }
        assertThat(r.get("state_sessions")).isEqualTo(Harness.Plan.quick().stateSessions());
        assertThat(r.get("lag_50_samples")).isGreaterThan(0);

        String json = Files.readString(dir.resolve("results.json"));
        assertThat(json).contains("\"agent_deltas_per_s\"", "\"nproc\"", "\"cpu\"", "\"java\"");
        List<String> tsv = Files.readAllLines(dir.resolve("results.tsv"));
        assertThat(tsv).hasSize(r.figures().size() + 1);
        byte[] png = Files.readAllBytes(dir.resolve("results.png"));
        assertThat(png).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
        String table = Files.readString(readme);
        assertThat(table).doesNotContain("stale row").contains("| benchmark |", "× JGroups", "| HTTP, other row | 2 |",
                "![http](results/http.png)", "after\n");
        assertThat(table.indexOf("| HTTP, other row")).isGreaterThan(table.indexOf("| Agent heap"))
                .isLessThan(table.indexOf("![results]"));
    }
}
