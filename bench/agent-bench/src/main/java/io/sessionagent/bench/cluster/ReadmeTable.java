package io.sessionagent.bench.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Writes the harness's results table into the README, between two marker comments. */
final class ReadmeTable {
    static final String BEGIN = "<!-- cluster-results:begin -->";
    static final String END = "<!-- cluster-results:end -->";

    private ReadmeTable() {
    }

    static void update(Path readme, Results r) throws IOException {
        String text = Files.readString(readme, StandardCharsets.UTF_8);
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        if (b < 0 || e < b) {
            throw new IOException(readme + " lacks the markers " + BEGIN + " and " + END);
        }
        List<String> kept = foreignLines(text.substring(b + BEGIN.length(), e));
        String updated = text.substring(0, b + BEGIN.length()) + "\n" + table(r, kept) + text.substring(e);
        Files.writeString(readme, updated, StandardCharsets.UTF_8);
    }

    /** The first cell of every row this table writes starts with one of these. */
    private static final List<String> OWN_ROWS = List.of("| Replication", "| CPU per replicated", "| JGroups",
            "| Raw UDP", "| State transfer", "| Agent heap");
    private static final String OWN_CHART = "![results](results/results.png)";

    /**
     * Rows and charts other benchmarks added to the table (the HTTP benchmark's, say): kept, so that
     * a run of this harness rewrites only its own rows.
     */
    static List<String> foreignLines(String block) {
        List<String> kept = new ArrayList<>();
        boolean header = true;
        for (String line : block.split("\n")) {
            if (line.startsWith("| ---") || line.startsWith("| benchmark |")) {
                header = false;
                continue;
            }
            boolean row = line.startsWith("| ") && !header;
            boolean chart = line.startsWith("![") && !line.equals(OWN_CHART);
            if ((row && OWN_ROWS.stream().noneMatch(line::startsWith)) || chart) {
                kept.add(line);
            }
        }
        return kept;
    }

    static String table(Results r) {
        return table(r, List.of());
    }

    static String table(Results r, List<String> foreign) {
        StringBuilder s = new StringBuilder();
        s.append("Run ").append(r.context().get("date")).append(" (").append(r.context().get("mode"))
                .append(" mode) with `").append(r.context().get("command")).append("` on ")
                .append(r.context().get("nproc")).append(" × ").append(r.context().get("cpu")).append(", ")
                .append(r.context().get("java")).append(", load average at start ")
                .append(r.context().get("load_average_at_start")).append(". Agents: ")
                .append(r.context().get("agents")).append(".\n\n");
        s.append("| benchmark | result | ratio | target | status |\n");
        s.append("| --- | --- | --- | --- | --- |\n");
        double agent = r.get("agent_deltas_per_s");
        double ratioJg = r.get("ratio_agent_jgroups");
        row(s, "Replication, agent → agent, 1 KB deltas applied on the 2nd agent", count(agent) + " deltas/s"
                        + cpu(r, "agent_cpu_us_per_delta"),
                fmt(ratioJg) + "× JGroups, " + fmt(r.get("ratio_agent_raw")) + "× raw multicast; CPU per message "
                        + fmt(r.get("ratio_cpu_agent_jgroups")) + "× JGroups'",
                "≥ 0.5× JGroups", ratioJg >= 0.5);
        row(s, "CPU per replicated 1 KB delta (both agents, all threads and GC)",
                fmt(r.get("agent_cpu_us_per_delta")) + " µs", "", "≤ 10 µs", r.get("agent_cpu_us_per_delta") <= 10);
        row(s, "Replication, agent → agent, 1 KB deltas, max-datagram-bytes " + Harness.ETHERNET_DATAGRAM_BYTES
                        + " (the default on a 1500-byte Ethernet)", count(r.get("agent_ethernet_deltas_per_s"))
                        + " deltas/s" + cpu(r, "agent_ethernet_cpu_us_per_delta"),
                fmt(r.get("ratio_agent_ethernet_jgroups")) + "× JGroups" + (r.get("agent_ethernet_complete") == 0
                        ? "; saturated: the replica was dropped from the origin's view and repaired the rest by"
                        + " anti-entropy" : ""), "", null);
        row(s, "JGroups 5.4.8.Final `udp.xml`, 1 KB messages, 2 members", count(r.get("jgroups_msgs_per_s"))
                + " msgs/s" + cpu(r, "jgroups_cpu_us_per_msg"), "", "", null);
        row(s, "Raw UDP multicast on lo, 1 KB datagrams (physical limit)", count(r.get("raw_multicast_per_s"))
                + " received/s" + cpu(r, "raw_multicast_cpu_us_per_datagram") + "; "
                + count(r.get("raw_multicast_sent_per_s")) + " sent/s", "", "", null);
        for (double p : Harness.LOAD_POINTS) {
            String at = Integer.toString((int) Math.round(p * 100));
            String lag = fmt(r.get("lag_" + at + "_p50_ms")) + " / " + fmt(r.get("lag_" + at + "_p99_ms")) + " / "
                    + fmt(r.get("lag_" + at + "_p999_ms")) + " ms";
            boolean targeted = at.equals("50");
            row(s, "Replication lag p50 / p99 / p99.9 at " + at + "% of max (" + count(r.get("lag_" + at + "_rate"))
                            + " deltas/s), commit on origin → apply on replica", lag, "",
                    targeted ? "p99 ≤ 5 ms" : "", targeted ? r.get("lag_50_p99_ms") <= 5.0 : null);
        }
        row(s, "State transfer of " + count(r.get("state_sessions")) + " sessions × 1 KB to a joining agent",
                count(r.get("state_transfer_ms")) + " ms transfer (" + count(r.get("state_join_to_ready_ms"))
                        + " ms from start to ready, discovery included)", "", "≤ 2 s (100,000 sessions)",
                r.get("state_sessions") >= 100_000 ? r.get("state_transfer_ms") <= 2_000 : null);
        row(s, "Agent heap per 100,000 sessions × 1 KB (retained after GC)",
                count(r.get("heap_per_100k_sessions_mib")) + " MiB",
                fmt(r.get("heap_replica_ratio")) + "× payload (replica), " + fmt(r.get("heap_origin_ratio"))
                        + "× (origin)", "≤ 1.3× payload", r.get("heap_replica_ratio") <= 1.3);
        for (String line : foreign) {
            if (line.startsWith("| ")) {
                s.append(line).append('\n');
            }
        }
        s.append('\n').append(OWN_CHART).append('\n');
        for (String line : foreign) {
            if (line.startsWith("![")) {
                s.append(line).append('\n');
            }
        }
        s.append('\n');
        return s.toString();
    }

    private static void row(StringBuilder s, String what, String result, String ratio, String target,
                            Boolean met) {
        s.append("| ").append(what).append(" | ").append(result).append(" | ").append(ratio).append(" | ")
                .append(target).append(" | ").append(met == null ? "" : met ? "met" : "missed").append(" |\n");
    }

    private static String cpu(Results r, String key) {
        return " (" + fmt(r.get(key)) + " µs CPU each)";
    }

    private static String count(double v) {
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, v >= 10 ? "%.1f" : "%.2f", v);
    }
}
