package io.sessionagent.bench.cluster;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The cluster harness: in one run, agent-to-agent replication of 1 KB deltas beside JGroups and
 * raw multicast, replication lag at three loads, state transfer to a joining agent, and heap per
 * session. Everything stays on loopback. Writes results.json, results.tsv and results.png, and the
 * table of bench/README.md when asked to.
 *
 * <pre>java -Djava.net.preferIPv4Stack=true -Xmx2g -cp benchmarks.jar io.sessionagent.bench.cluster.Harness
 *      [--quick] [--out DIR] [--readme FILE] [--command "how it was started"]</pre>
 * or, to profile the agent-to-agent path alone: {@code ... Harness --profile-agent SECONDS [MAX_DATAGRAM_BYTES]}.
 */
public final class Harness {
    /** How long each phase runs; quick mode is the smoke test's, proving the harness works. */
    record Plan(String mode, long warmupMs, long measureMs, long lagMs, int stateSessions, int writeSessions) {
        static Plan full() {
            return new Plan("full", 1_000, 5_000, 3_000, 100_000, 10_000);
        }

        static Plan quick() {
            return new Plan("quick", 200, 500, 300, 5_000, 1_000);
        }
    }

    static final double[] LOAD_POINTS = {0.25, 0.50, 0.75};
    /**
     * The datagram size the agent takes by default on a 1500-byte Ethernet (MTU less the IPv4 and UDP
     * headers); on lo, which the default run uses, it takes 65000.
     */
    static final int ETHERNET_DATAGRAM_BYTES = 1_472;

    private Harness() {
    }

    public static void main(String[] args) throws Exception {
        Plan plan = Plan.full();
        Path out = Path.of("bench", "results");
        Path readme = null;
        String command = "bench/run.sh";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> plan = Plan.quick();
                case "--out" -> out = Path.of(args[++i]);
                case "--readme" -> readme = Path.of(args[++i]);
                case "--command" -> command = args[++i];
                case "--profile-agent" -> {
                    long ms = Long.parseLong(args[++i]) * 1000;
                    Map<String, String> settings = i + 1 < args.length
                            ? Map.of("max-datagram-bytes", args[++i]) : Map.of();
                    profileAgent(ms, settings);
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; usage: [--quick] [--out DIR] [--readme FILE] [--command TEXT]"
                        + " | --profile-agent SECONDS [MAX_DATAGRAM_BYTES]");
            }
        }
        Results r = run(plan, command, System.out::println);
        write(r, out, readme);
    }

    /**
     * Only the agent-to-agent phase, for as long as a profiler needs; prints the rate and the CPU
     * each thread spent per delta (which side and which stage costs what).
     */
    private static void profileAgent(long ms, Map<String, String> settings) throws Exception {
        java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        try (AgentReplication rep = new AgentReplication(new Random(), Plan.full().writeSessions(), settings)) {
            rep.maxRate(1_000, 1_000);
            Map<Long, Long> before = new java.util.HashMap<>();
            for (long id : threads.getAllThreadIds()) {
                before.put(id, threads.getThreadCpuTime(id));
            }
            long applied = rep.applied();
            Throughput t;
            try {
                t = rep.maxRate(0, ms);
            } finally {
                System.out.print(rep.repairCounters());
            }
            long deltas = rep.applied() - applied;
            System.out.printf(Locale.ROOT, "agent to agent, 1 KB deltas over %d ms: %s%n", ms, t);
            Map<String, Long> byName = new java.util.TreeMap<>();
            for (long id : threads.getAllThreadIds()) {
                java.lang.management.ThreadInfo info = threads.getThreadInfo(id);
                long cpu = threads.getThreadCpuTime(id);
                if (info != null && cpu > 0) {
                    byName.merge(info.getThreadName(), cpu - before.getOrDefault(id, 0L), Long::sum);
                }
            }
            byName.entrySet().stream().filter(e -> e.getValue() > 0)
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .forEach(e -> System.out.printf(Locale.ROOT, "  %-40s %6.2f us CPU per delta%n", e.getKey(),
                            e.getValue() / 1e3 / deltas));
        }
    }

    /** Writes results.json, results.tsv, results.png into {@code out}; the README table when given one. */
    static void write(Results r, Path out, Path readme) throws IOException {
        Files.createDirectories(out);
        r.writeJson(out.resolve("results.json"));
        r.writeTsv(out.resolve("results.tsv"));
        Chart.write(r, out.resolve("results.png"));
        if (readme != null) {
            ReadmeTable.update(readme, r);
        }
    }

    interface Log {
        void line(String s);
    }

    static Results run(Plan plan, String command, Log log) throws Exception {
        Random random = new Random();
        Results r = new Results();
        describeMachine(r, plan, command);
        log.line("cluster harness (" + plan.mode() + "): " + r.context());

        // First, while the heap holds nothing else: agents closed by a later phase can stay reachable
        // for a while (threads winding down) and would blur a before/after heap difference.
        StateTransfer.Result st = StateTransfer.run(random, plan.stateSessions());
        log.line(String.format(Locale.ROOT, "state transfer of %d x 1 KB: %.0f ms join to ready, %.0f ms transfer;"
                        + " heap %.2fx payload (replica), %.2fx (origin)", st.sessions(), st.joinToReadyMs(),
                st.transferMs(), st.replicaHeapRatio(), st.originHeapRatio()));

        byte[] payload = new byte[1024];
        Throughput jgroups;
        try (JGroupsThroughput jg = new JGroupsThroughput(random)) {
            jgroups = jg.rate(plan.warmupMs(), plan.measureMs(), payload);
        }
        log.line(String.format(Locale.ROOT, "JGroups udp.xml, 1 KB: %.0f msgs/s, %.1f us CPU each",
                jgroups.perSecond(), jgroups.cpuMicrosPerMessage()));

        RawMulticast.Result raw = RawMulticast.run(random, plan.measureMs());
        log.line(String.format(Locale.ROOT, "raw multicast, 1 KB: %.0f datagrams/s received (%.0f/s sent),"
                + " %.1f us CPU each", raw.received().perSecond(), raw.sentPerSecond(),
                raw.received().cpuMicrosPerMessage()));

        // The same path with the datagrams a 1500-byte Ethernet allows (the default elsewhere than lo),
        // where a 1 KB delta fills a datagram: how much of the cost is per datagram.
        Throughput ethernet;
        boolean ethernetIncomplete;
        try (AgentReplication rep = new AgentReplication(random, plan.writeSessions(),
                Map.of("max-datagram-bytes", Integer.toString(ETHERNET_DATAGRAM_BYTES)))) {
            ethernet = rep.maxRate(plan.warmupMs(), plan.measureMs());
            ethernetIncomplete = rep.incomplete();
        }
        if (ethernetIncomplete) {
            log.line("agent to agent, max-datagram-bytes " + ETHERNET_DATAGRAM_BYTES + ": the replica was dropped from"
                    + " the origin's view under saturation and repaired the rest by anti-entropy");
        }
        log.line(String.format(Locale.ROOT, "agent to agent, 1 KB deltas, max-datagram-bytes %d: %.0f deltas/s,"
                + " %.1f us CPU each", ETHERNET_DATAGRAM_BYTES, ethernet.perSecond(), ethernet.cpuMicrosPerMessage()));

        Throughput agentRun;
        Percentiles[] lags = new Percentiles[LOAD_POINTS.length];
        try (AgentReplication rep = new AgentReplication(random, plan.writeSessions(), Map.of())) {
            agentRun = rep.maxRate(plan.warmupMs(), plan.measureMs());
            if (rep.incomplete()) {
                throw new IllegalStateException("at the default datagram size the replica did not apply every delta");
            }
            log.line(String.format(Locale.ROOT, "agent to agent, 1 KB deltas: %.0f deltas/s applied, %.1f us CPU each",
                    agentRun.perSecond(), agentRun.cpuMicrosPerMessage()));
            double agent = agentRun.perSecond();
            for (int i = 0; i < LOAD_POINTS.length; i++) {
                lags[i] = rep.lagAt(agent * LOAD_POINTS[i], plan.lagMs());
                log.line(String.format(Locale.ROOT, "lag at %.0f%% (%.0f/s): %s", LOAD_POINTS[i] * 100,
                        agent * LOAD_POINTS[i], lags[i]));
            }
        }

        double agent = agentRun.perSecond();
        r.add("agent_deltas_per_s", "agent to agent, 1 KB deltas applied on the second agent", agent, "1/s");
        r.add("agent_cpu_us_per_delta", "agent to agent: process CPU per delta", agentRun.cpuMicrosPerMessage(),
                "us");
        r.add("agent_ethernet_deltas_per_s", "agent to agent, 1 KB deltas, max-datagram-bytes "
                + ETHERNET_DATAGRAM_BYTES, ethernet.perSecond(), "1/s");
        r.add("agent_ethernet_cpu_us_per_delta", "agent to agent, max-datagram-bytes " + ETHERNET_DATAGRAM_BYTES
                + ": process CPU per delta", ethernet.cpuMicrosPerMessage(), "us");
        r.add("agent_ethernet_complete", "agent to agent, max-datagram-bytes " + ETHERNET_DATAGRAM_BYTES
                + ": every delta applied as a delta (1) or some repaired whole after the replica was dropped (0)",
                ethernetIncomplete ? 0 : 1, "bool");
        r.add("ratio_agent_ethernet_jgroups", "agent (max-datagram-bytes " + ETHERNET_DATAGRAM_BYTES + ") / JGroups",
                ethernet.perSecond() / jgroups.perSecond(), "x");
        r.add("jgroups_msgs_per_s", "JGroups 5.4.8 udp.xml, 1 KB messages received by the second member",
                jgroups.perSecond(), "1/s");
        r.add("jgroups_cpu_us_per_msg", "JGroups: process CPU per message", jgroups.cpuMicrosPerMessage(), "us");
        r.add("raw_multicast_per_s", "raw UDP multicast on lo, 1 KB datagrams received",
                raw.received().perSecond(), "1/s");
        r.add("raw_multicast_cpu_us_per_datagram", "raw multicast: process CPU per datagram received",
                raw.received().cpuMicrosPerMessage(), "us");
        r.add("raw_multicast_sent_per_s", "raw UDP multicast on lo, 1 KB datagrams sent", raw.sentPerSecond(),
                "1/s");
        r.add("ratio_agent_jgroups", "agent / JGroups", agent / jgroups.perSecond(), "x");
        r.add("ratio_agent_raw", "agent / raw multicast", agent / raw.received().perSecond(), "x");
        r.add("ratio_cpu_agent_jgroups", "agent CPU per delta / JGroups CPU per message",
                agentRun.cpuMicrosPerMessage() / jgroups.cpuMicrosPerMessage(), "x");
        for (int i = 0; i < LOAD_POINTS.length; i++) {
            String at = Integer.toString((int) Math.round(LOAD_POINTS[i] * 100));
            String label = "replication lag at " + at + "% of max";
            r.add("lag_" + at + "_rate", label + ": offered rate", agent * LOAD_POINTS[i], "1/s");
            r.add("lag_" + at + "_samples", label + ": samples", lags[i].samples(), "count");
            r.add("lag_" + at + "_p50_ms", label + ": p50", lags[i].p50Ms(), "ms");
            r.add("lag_" + at + "_p99_ms", label + ": p99", lags[i].p99Ms(), "ms");
            r.add("lag_" + at + "_p999_ms", label + ": p99.9", lags[i].p999Ms(), "ms");
            r.add("lag_" + at + "_max_ms", label + ": max", lags[i].maxMs(), "ms");
        }

        r.add("state_sessions", "state transfer: sessions of 1 KB", st.sessions(), "count");
        r.add("state_join_to_ready_ms", "state transfer: joining agent started to ready", st.joinToReadyMs(), "ms");
        r.add("state_transfer_ms", "state transfer: snapshot pulled and applied (agent's own timer)",
                st.transferMs(), "ms");
        r.add("heap_replica_bytes", "agent heap retained by the sessions (replica, by state transfer)",
                st.replicaHeapBytes(), "bytes");
        r.add("heap_replica_ratio", "agent heap / payload bytes (replica)", st.replicaHeapRatio(), "x");
        r.add("heap_origin_bytes", "agent heap retained by the sessions (origin, written locally)",
                st.originHeapBytes(), "bytes");
        r.add("heap_origin_ratio", "agent heap / payload bytes (origin)", st.originHeapRatio(), "x");
        r.add("heap_per_100k_sessions_mib", "agent heap per 100,000 sessions of 1 KB (replica)",
                st.replicaHeapBytes() * (100_000.0 / st.sessions()) / (1 << 20), "MiB");
        return r;
    }

    private static void describeMachine(Results r, Plan plan, String command) {
        r.context("mode", plan.mode());
        r.context("command", command);
        r.context("date", Instant.now().toString());
        r.context("nproc", Integer.toString(Runtime.getRuntime().availableProcessors()));
        r.context("cpu", cpuModel());
        r.context("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        r.context("heap_max_mib", Long.toString(Runtime.getRuntime().maxMemory() >> 20));
        r.context("load_average_at_start", String.format(Locale.ROOT, "%.2f",
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        r.context("agents", "in one JVM with the harness, real UDP multicast on lo and gRPC on 127.0.0.1");
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            return System.getProperty("os.arch");
        }
        return System.getProperty("os.arch");
    }
}
