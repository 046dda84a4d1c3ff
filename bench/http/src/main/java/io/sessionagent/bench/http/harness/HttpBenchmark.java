package io.sessionagent.bench.http.harness;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
            boolean filterKind = config.kind == Configuration.Kind.FILTER;
            wrk.run(d.node1, settings.warmup(), connections, settings.threads(),
                    dir.resolve("warmup.tsv"), dir.resolve("warmup.log"));
            // The measured window starts once the warmup's last writes have reached node 2.
            Counters before = filterKind ? Counters.whenQuiet(d, settings.settle()) : null;
            Map<String, Long> cpuBefore = processes.cpuMillis();
            Wrk.Load load = wrk.run(d.node1, settings.duration(), connections, settings.threads(),
                    dir.resolve("load.tsv"), dir.resolve("load.log"));
            Map<String, Long> cpu = new LinkedHashMap<>();
            processes.cpuMillis().forEach((name, ms) -> cpu.put(name, ms - cpuBefore.getOrDefault(name, 0L)));
            ReplicaCheck.Outcome replica = null;
            FilterStatus filter = null;
            AgentMetrics agent2 = null;
            if (config.replicated()) {
                Thread.sleep(settings.settle().toMillis());
                if (filterKind) {
                    // Before the replica check, whose reads on node 2 are no writes of the measured run.
                    Counters after = Counters.read(d);
                    filter = after.filter.minus(before.filter);
                    agent2 = after.agent2.minus(before.agent2);
                }
                replica = ReplicaCheck.run(d.node2, load.users());
            }
            Result r = new Result(config, connections, load, replica, filter, agent2, cpu);
            System.out.println(String.format(Locale.ROOT,
                    "HTTP-BENCH %-11s c%-3d %8.0f req/s  p99 %7.2f ms  CPU %4.0f µs/req (%s)  errors %d  users %d"
                            + "  missing %s  stale %s%s  (%d s)%s",
                    config.id, connections, r.rps(), r.p99Ms(), r.cpuMicrosPerRequest(), r.cpuBreakdown(),
                    load.errors() + load.badResponses(), load.users().size(),
                    replica == null ? "-" : replica.missing(), replica == null ? "-" : replica.stale(),
                    filter == null ? "" : String.format(Locale.ROOT,
                            "  HTTP writes %d  coalesced %d  accepted %d  applied on node 2 %d (every write replicated: %s)"
                                    + "  agent errors %d  stream failures %d  not replicated %d  lag p99 %.2f ms",
                            r.httpWrites(), filter.coalesced(), filter.deltasSent(), agent2.deltasApplied(), r.everyWriteReplicated() ? "yes" : "NO",
                            filter.errors(), filter.streamFailures(), filter.notReplicated(), r.lagP99Ms()),
                    (System.nanoTime() - t0) / 1_000_000_000L,
                    replica == null || replica.firstProblem() == null ? "" : "  first: " + replica.firstProblem()));
            return r;
        }
    }

    /** Node 1's filter counters and agent 2's metrics, read one after the other. */
    private record Counters(FilterStatus filter, AgentMetrics agent2) {
        private static final long POLL_MS = 200;

        static Counters read(Deployment d) throws Exception {
            return new Counters(FilterStatus.fetch(d.node1), AgentMetrics.fetch(d.agent2Metrics));
        }

        /**
         * Reads the counters until neither the writes node 1's agent accepted nor the deltas agent
         * 2 applied moved between two reads {@value #POLL_MS} ms apart, for at most {@code max}:
         * after a load, the last writes are answered and replicated within milliseconds.
         */
        static Counters whenQuiet(Deployment d, Duration max) throws Exception {
            long deadline = System.nanoTime() + max.toNanos();
            Counters last = read(d);
            while (System.nanoTime() < deadline) {
                Thread.sleep(POLL_MS);
                Counters now = read(d);
                if (now.filter.deltasSent() == last.filter.deltasSent()
                        && now.agent2.deltasApplied() == last.agent2.deltasApplied()) {
                    return now;
                }
                last = now;
            }
            return last;
        }
    }
}
