package io.sessionagent.bench.http.harness;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * wrk against node 1 of each configuration in turn, then the replica check on node 2; writes
 * results.tsv, results.json, http-bench.png and (with {@code --readme}) the README's results section.
 * {@code bench/http/run.sh} is the way to run it; every argument is listed in {@link Settings}.
 */
public final class HttpBenchmark {
    private final Settings settings;

    HttpBenchmark(Settings settings) {
        this.settings = settings;
    }

    public static void main(String[] args) throws Exception {
        new HttpBenchmark(Settings.parse(args)).run();
    }

    List<Result> run() throws Exception {
        Instant started = Instant.now();
        Machine machine = Machine.describe(settings.wrk());
        Files.createDirectories(settings.outDir());
        Wrk wrk = new Wrk(settings.wrk(), settings.workDir());
        List<Result> results = new ArrayList<>();
        for (int connections : settings.connections()) {
            for (Configuration config : settings.configurations()) {
                results.add(measure(config, connections, wrk));
            }
        }
        Report report = new Report(results, settings, machine, started);
        Files.writeString(settings.outDir().resolve("results.tsv"), report.tsv());
        Files.writeString(settings.outDir().resolve("results.json"), report.json());
        Path chart = settings.outDir().resolve("http-bench.png");
        Chart.write(results, "HTTP, 1 KB session attribute written per request, one user per connection, "
                + machine.cpus() + " CPUs", chart);
        if (settings.readme() != null) {
            String relative = settings.readme().getParent().relativize(chart).toString();
            Report.intoReadme(settings.readme(), report.markdown(relative));
        }
        System.out.println("HTTP-BENCH results in " + settings.outDir() + " ("
                + (Instant.now().getEpochSecond() - started.getEpochSecond()) + " s)");
        System.out.print(report.tsv());
        return results;
    }

    /** One configuration at one connection count: its own processes, warmup, measured run and checks. */
    private Result measure(Configuration config, int connections, Wrk wrk) throws Exception {
        Path dir = settings.workDir().resolve(config.id).resolve("c" + connections);
        Path jfr = config == settings.profile() ? dir.resolve("node1.jfr") : null;
        long t0 = System.nanoTime();
        try (Processes processes = new Processes(dir)) {
            Deployment d = Deployment.start(config, processes, settings, jfr);
            wrk.run(d.node1, settings.warmup(), connections, settings.threads(),
                    dir.resolve("warmup.tsv"), dir.resolve("warmup.log"));
            Map<String, Long> cpuBefore = processes.cpuMillis();
            FilterStatus before = config.kind == Configuration.Kind.FILTER ? FilterStatus.fetch(d.node1) : null;
            Wrk.Load load = wrk.run(d.node1, settings.duration(), connections, settings.threads(),
                    dir.resolve("load.tsv"), dir.resolve("load.log"));
            Map<String, Long> cpu = new LinkedHashMap<>();
            processes.cpuMillis().forEach((name, ms) -> cpu.put(name, ms - cpuBefore.getOrDefault(name, 0L)));
            ReplicaCheck.Outcome replica = null;
            if (config.replicated()) {
                Thread.sleep(settings.settle().toMillis());
                replica = ReplicaCheck.run(d.node2, load.users());
            }
            FilterStatus filter = before == null ? null : FilterStatus.fetch(d.node1).minus(before);
            Result r = new Result(config, connections, load, replica, filter, cpu);
            System.out.println(String.format(Locale.ROOT,
                    "HTTP-BENCH %-11s c%-3d %8.0f req/s  p99 %7.2f ms  CPU %4.0f µs/req (%s)  errors %d  users %d  agent calls failed/skipped %s"
                            + "  missing %s  stale %s  (%d s)%s",
                    config.id, connections, r.rps(), r.p99Ms(), r.cpuMicrosPerRequest(), r.cpuBreakdown(), load.errors() + load.badResponses(), load.users().size(),
                    filter == null ? "-" : filter.failedOrSkipped(),
                    replica == null ? "-" : replica.missing(), replica == null ? "-" : replica.stale(),
                    (System.nanoTime() - t0) / 1_000_000_000L,
                    replica == null || replica.firstProblem() == null ? "" : "  first: " + replica.firstProblem()));
            return r;
        }
    }
}
