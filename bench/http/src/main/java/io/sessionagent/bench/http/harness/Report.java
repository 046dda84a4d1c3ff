package io.sessionagent.bench.http.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** results.tsv, results.json and the Markdown that goes into the README between two markers. */
final class Report {
    static final String BEGIN = "<!-- results:begin (written by bench/http/run.sh) -->";
    static final String END = "<!-- results:end -->";

    private final List<Result> results;
    private final Settings settings;
    private final Machine machine;
    private final Instant when;

    Report(List<Result> results, Settings settings, Machine machine, Instant when) {
        this.results = results;
        this.settings = settings;
        this.machine = machine;
        this.when = when.truncatedTo(ChronoUnit.SECONDS);
    }

    private Optional<Result> find(Configuration c, int connections) {
        return results.stream().filter(r -> r.config() == c && r.connections() == connections).findFirst();
    }

    /**
     * A ratio of this configuration's value to another's at the same connection count; NaN when
     * the other is absent.
     */
    private double ratio(Result r, Configuration base, boolean p99) {
        return find(base, r.connections()).map(b -> p99 ? r.p99Ms() / b.p99Ms() : r.rps() / b.rps())
                .orElse(Double.NaN);
    }

    String tsv() {
        StringBuilder sb = new StringBuilder("configuration\tconnections\treq_per_s\tp50_ms\tp99_ms\tmax_ms\trequests\terrors"
                + "\tbad_responses\tusers\tchecked\tmissing\tstale\tcpu_us_per_req\treq_per_s_vs_alone\tp99_vs_alone"
                + "\thttp_writes\twrites_coalesced\tdeltas_sent\tdeltas_applied_node2\tnot_applied_node2\tevery_write_replicated\tagent_errors"
                + "\tagent_calls_skipped\tstream_failures\twrites_not_replicated\treplication_lags_node2"
                + "\treplication_lag_p99_ms_node2\n");
        for (Result r : results) {
            Wrk.Load l = r.load();
            FilterStatus f = r.filter();
            AgentMetrics a = r.agent2();
            sb.append(String.join("\t", r.config().id, Integer.toString(r.connections()), f1(r.rps()), f2(r.p50Ms()), f2(r.p99Ms()),
                    f2(l.maxUs() / 1000.0), Long.toString(l.requests()), Long.toString(l.errors()),
                    Long.toString(l.badResponses()), Integer.toString(l.users().size()),
                    r.replica() == null ? "" : Integer.toString(r.replica().checked()),
                    r.replica() == null ? "" : Integer.toString(r.replica().missing()),
                    r.replica() == null ? "" : Integer.toString(r.replica().stale()),
                    f1(r.cpuMicrosPerRequest()),
                    f3(ratio(r, Configuration.ALONE, false)), f3(ratio(r, Configuration.ALONE, true)),
                    f == null ? "" : Long.toString(r.httpWrites()),
                    f == null ? "" : Long.toString(f.coalesced()),
                    f == null ? "" : Long.toString(f.deltasSent()),
                    a == null ? "" : Long.toString(a.deltasApplied()),
                    r.notApplied() == null ? "" : Long.toString(r.notApplied()),
                    r.everyWriteReplicated() == null ? "" : r.everyWriteReplicated() ? "yes" : "no",
                    f == null ? "" : Long.toString(f.agentErrors()),
                    f == null ? "" : Long.toString(f.callsSkipped()),
                    f == null ? "" : Long.toString(f.streamFailures()),
                    f == null ? "" : Long.toString(f.notReplicated()),
                    a == null ? "" : Long.toString(a.lagCount()),
                    a == null ? "" : lagTsv(r))).append('\n');
        }
        return sb.toString();
    }

    String json() {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"measured\": \"").append(when).append("\",\n");
        sb.append("  \"machine\": {\"cpus\": ").append(machine.cpus()).append(", \"cpu\": ").append(q(machine.cpuModel()))
                .append(", \"java\": ").append(q(machine.java())).append(", \"os\": ").append(q(machine.os()))
                .append(", \"load_at_start\": ").append(q(machine.loadAtStart())).append(", \"wrk\": ")
                .append(q(machine.wrkVersion())).append("},\n");
        sb.append("  \"settings\": {\"duration_s\": ").append(settings.duration().toMillis() / 1000.0)
                .append(", \"warmup_s\": ").append(settings.warmup().toMillis() / 1000.0)
                .append(", \"settle_s\": ").append(settings.settle().toMillis() / 1000.0)
                .append(", \"connections\": ").append(settings.connections().stream().map(String::valueOf)
                        .collect(Collectors.joining(", ", "[", "]")))
                .append(", \"threads\": ").append(settings.threads()).append("},\n");
        sb.append("  \"results\": [\n");
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            Wrk.Load l = r.load();
            sb.append("    {\"configuration\": ").append(q(r.config().id)).append(", \"label\": ").append(q(r.config().label))
                    .append(", \"connections\": ").append(r.connections())
                    .append(", \"req_per_s\": ").append(f1(r.rps())).append(", \"p50_ms\": ").append(f2(r.p50Ms()))
                    .append(", \"p99_ms\": ").append(f2(r.p99Ms())).append(", \"max_ms\": ").append(f2(l.maxUs() / 1000.0))
                    .append(", \"cpu_us_per_req\": ").append(f1(r.cpuMicrosPerRequest()))
                    .append(", \"cpu_us_per_req_by_process\": ").append(q(r.cpuBreakdown()))
                    .append(", \"requests\": ").append(l.requests()).append(", \"errors\": ").append(l.errors())
                    .append(", \"bad_responses\": ").append(l.badResponses()).append(", \"users\": ").append(l.users().size());
            if (r.replica() != null) {
                sb.append(", \"checked\": ").append(r.replica().checked()).append(", \"missing\": ")
                        .append(r.replica().missing()).append(", \"stale\": ").append(r.replica().stale());
            }
            if (r.filter() != null && r.agent2() != null) {
                FilterStatus f = r.filter();
                sb.append(", \"http_writes\": ").append(r.httpWrites())
                        .append(", \"writes_coalesced\": ").append(f.coalesced())
                        .append(", \"deltas_sent\": ").append(f.deltasSent())
                        .append(", \"deltas_applied_node2\": ").append(r.agent2().deltasApplied())
                        .append(", \"not_applied_node2\": ").append(r.notApplied())
                        .append(", \"every_write_replicated\": ").append(r.everyWriteReplicated())
                        .append(", \"agent_errors\": ").append(f.agentErrors())
                        .append(", \"agent_calls_skipped\": ").append(f.callsSkipped())
                        .append(", \"stream_failures\": ").append(f.streamFailures())
                        .append(", \"writes_not_replicated\": ").append(f.notReplicated())
                        .append(", \"replication_lags_node2\": ").append(r.agent2().lagCount())
                        // The upper bound of the p99's bucket; null when no lag was recorded or p99 lies above every bound.
                        .append(", \"replication_lag_p99_ms_node2\": ").append(jsonNumber(r.lagP99Ms()));
            }
            sb.append(", \"req_per_s_vs_alone\": ").append(jsonNumber(ratio(r, Configuration.ALONE, false)))
                    .append(", \"p99_vs_alone\": ").append(jsonNumber(ratio(r, Configuration.ALONE, true)));
            Configuration peer = r.config().deltaPeer();
            if (peer != null) {
                sb.append(", \"req_per_s_vs_").append(peer.id.replace('-', '_')).append("\": ")
                        .append(jsonNumber(ratio(r, peer, false)));
                sb.append(", \"p99_vs_").append(peer.id.replace('-', '_')).append("\": ")
                        .append(jsonNumber(ratio(r, peer, true)));
            }
            sb.append(i + 1 < results.size() ? "},\n" : "}\n");
        }
        return sb.append("  ]\n}\n").toString();
    }

    String markdown(String chartFile) {
        StringBuilder sb = new StringBuilder();
        sb.append("Measured ").append(when).append(" with `").append(settings.command()).append("`: per configuration ")
                .append(secs(settings.warmup())).append(" s of warmup, then ").append(secs(settings.duration()))
                .append(" s measured, once per connection count, each with processes of its own; wrk with ")
                .append(settings.threads()).append(" threads and ").append(counts())
                .append(" connections (one user each); replicas checked ")
                .append(secs(settings.settle())).append(" s after the load stopped; the filter and the agents at their defaults.\n\n");
        sb.append("Machine: ").append(machine.markdown()).append(".\n\n");
        sb.append("| connections | configuration | req/s | p50 ms | p99 ms | server CPU µs/req | req/s ÷ alone | p99 ÷ alone | HTTP errors | every write replicated |\n");
        sb.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (Result r : results) {
            Wrk.Load l = r.load();
            sb.append("| ").append(r.connections()).append(" | ").append(r.config().label).append(" | ")
                    .append(String.format(Locale.ROOT, "%,.0f", r.rps()))
                    .append(" | ").append(f2(r.p50Ms())).append(" | ").append(f2(r.p99Ms())).append(" | ")
                    .append(String.format(Locale.ROOT, "%.0f", r.cpuMicrosPerRequest())).append(" | ")
                    .append(times(ratio(r, Configuration.ALONE, false))).append(" | ")
                    .append(times(ratio(r, Configuration.ALONE, true))).append(" | ")
                    .append(l.errors() + l.badResponses()).append(" | ")
                    .append(yesNo(r.everyWriteReplicated())).append(" |\n");
        }
        sb.append("\nReplication, over the measured run and the settle time; writes and errors from node 1's filter,"
                + " deltas applied and lag from agent 2:\n\n");
        sb.append("| connections | configuration | users | missing on node 2 | stale on node 2 | HTTP writes | writes coalesced | writes accepted / applied on node 2 | every write replicated | agent errors | stream failures | writes not replicated | lag p99 on node 2, ms |\n");
        sb.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n");
        for (Result r : results) {
            FilterStatus f = r.filter();
            AgentMetrics a = r.agent2();
            sb.append("| ").append(r.connections()).append(" | ").append(r.config().label).append(" | ")
                    .append(r.load().users().size()).append(" | ")
                    .append(r.replica() == null ? "–" : Integer.toString(r.replica().missing())).append(" | ")
                    .append(r.replica() == null ? "–" : Integer.toString(r.replica().stale())).append(" | ")
                    .append(f == null ? "–" : count(r.httpWrites())).append(" | ")
                    .append(f == null ? "–" : count(f.coalesced())).append(" | ")
                    .append(f == null || a == null ? "–" : String.format(Locale.ROOT, "%,d / %,d", f.deltasSent(),
                            a.deltasApplied())).append(" | ")
                    .append(yesNo(r.everyWriteReplicated())).append(" | ")
                    .append(f == null ? "–" : count(f.errors())).append(" | ")
                    .append(f == null ? "–" : count(f.streamFailures())).append(" | ")
                    .append(f == null ? "–" : count(f.notReplicated())).append(" | ")
                    .append(a == null ? "–" : lagMarkdown(r)).append(" |\n");
        }
        sb.append("\nServer CPU per request by JVM, µs: ");
        for (int i = 0; i < results.size(); i++) {
            sb.append(i == 0 ? "" : "; ").append(results.get(i).config().label).append(" at ")
                    .append(results.get(i).connections()).append(": ")
                    .append(results.get(i).cpuBreakdown());
        }
        sb.append(".\n");
        sb.append("\n| connections | ours ÷ DeltaManager | req/s | p99 | server CPU per request | target | met |\n")
                .append("| ---: | --- | ---: | ---: | ---: | --- | --- |\n");
        for (Result r : results) {
            Configuration peer = r.config().deltaPeer();
            Optional<Result> base = peer == null ? Optional.empty() : find(peer, r.connections());
            if (base.isEmpty()) {
                continue;
            }
            double rps = ratio(r, peer, false);
            double cpu = r.cpuMicrosPerRequest() / base.get().cpuMicrosPerRequest();
            sb.append("| ").append(r.connections()).append(" | ").append(r.config().label).append(" ÷ ").append(peer.label)
                    .append(" | ").append(times(rps))
                    .append(" | ").append(times(ratio(r, peer, true))).append(" | ")
                    .append(times(cpu)).append(" | ≥ 1.5× req/s, ≤ 0.6× CPU | ")
                    .append(rps >= 1.5 && cpu <= 0.6 ? "yes" : "no").append(" |\n");
        }
        sb.append("\n![req/s, p99 and replication lag p99 per configuration and connection count](").append(chartFile).append(")\n");
        return sb.toString();
    }

    /** The connection counts as prose: {@code 16}, {@code 16 and 64}, {@code 8, 16 and 64}. */
    private String counts() {
        List<Integer> c = settings.connections();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < c.size(); i++) {
            sb.append(i == 0 ? "" : i == c.size() - 1 ? " and " : ", ").append(c.get(i));
        }
        return sb.toString();
    }

    /** Replaces what lies between the markers in the README, or appends the markers and the section. */
    static void intoReadme(Path readme, String section) throws IOException {
        String text = Files.isRegularFile(readme) ? Files.readString(readme) : "";
        String block = BEGIN + "\n" + section + END;
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        if (b >= 0 && e > b) {
            text = text.substring(0, b) + block + text.substring(e + END.length());
        } else {
            text = text + (text.isEmpty() || text.endsWith("\n") ? "" : "\n") + block + "\n";
        }
        Files.writeString(readme, text);
    }

    private static String secs(java.time.Duration d) {
        double s = d.toMillis() / 1000.0;
        return s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s);
    }

    /** yes, **no** (bold: the run replicated less than every write), or – where not measured. */
    private static String yesNo(Boolean b) {
        return b == null ? "–" : b ? "yes" : "**no**";
    }

    /** The upper bound of the p99's bucket: {@code ≤ 1.05}; {@code > 60,000} above every bound; – without lags. */
    private static String lagMarkdown(Result r) {
        double ms = r.lagP99Ms();
        if (Double.isNaN(ms)) {
            return "–";
        }
        if (Double.isInfinite(ms)) {
            return "> " + ms(r.agent2().largestFiniteBound() * 1000);
        }
        return "≤ " + ms(ms);
    }

    private static String lagTsv(Result r) {
        double ms = r.lagP99Ms();
        return Double.isNaN(ms) ? "" : Double.isInfinite(ms) ? "inf" : f3(ms);
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, v < 100 ? "%.2f" : "%,.0f", v);
    }

    private static String count(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    private static String times(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f×", v);
    }

    private static String f1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String f2(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String f3(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String jsonNumber(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "null" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String q(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
