package io.sessionagent.bench.http.harness;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The processes of one configuration, started and ready: node 1 takes the load, node 2 (when the
 * configuration replicates) holds the replicas. Every socket is on 127.0.0.1; the agents' multicast
 * group is a random 239.255.x.y joined on {@code lo} with TTL 0, and the DeltaManager cluster uses
 * static membership over TCP, so no multicast at all.
 */
final class Deployment {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern READY_MEMBERS =
            Pattern.compile("(?m)^session_agent_members\\{[^}]*state=\"ready\"[^}]*} ([0-9.]+)");

    final URI node1;
    final URI node2;
    /** Agent 2's metrics port ({@code /metrics}), with the filter; null otherwise. */
    final URI agent2Metrics;

    private Deployment(URI node1, URI node2, URI agent2Metrics) {
        this.node1 = node1;
        this.node2 = node2;
        this.agent2Metrics = agent2Metrics;
    }

    /**
     * @param jfr where node 1 (and its agent) record a flight recording, or null for none
     */
    static Deployment start(Configuration config, Processes processes, Settings settings, Path jfr)
            throws Exception {
        return switch (config.kind) {
            case ALONE -> {
                int port = Processes.freePort();
                Process node = startNode(processes, settings, "node1", port, jfr, List.of("--mode=alone"));
                processes.awaitHttp("node1", node, uri(port).resolve("/status"), b -> true, START_TIMEOUT);
                yield new Deployment(uri(port), null, null);
            }
            case DELTA -> startDelta(config, processes, settings, jfr);
            case FILTER -> startFilter(config, processes, settings, jfr);
        };
    }

    private static Deployment startDelta(Configuration config, Processes processes, Settings settings, Path jfr)
            throws Exception {
        int[] http = {Processes.freePort(), Processes.freePort()};
        int[] tribes = {Processes.freePort(), Processes.freePort()};
        Process[] nodes = new Process[2];
        for (int i = 0; i < 2; i++) {
            // One after the other: node 2 then asks node 1 for its sessions (DeltaManager's state
            // transfer) and finds it ready.
            nodes[i] = startNode(processes, settings, "node" + (i + 1), http[i], i == 0 ? jfr : null, List.of(
                    "--mode=delta", "--send-options=" + config.sendOptions, "--index=" + (i + 1),
                    "--tribes-port=" + tribes[i], "--peer-tribes-port=" + tribes[1 - i]));
            processes.awaitHttp("node" + (i + 1), nodes[i], uri(http[i]).resolve("/status"), b -> true, START_TIMEOUT);
        }
        for (int i = 0; i < 2; i++) {
            processes.awaitHttp("node" + (i + 1), nodes[i], uri(http[i]).resolve("/status"),
                    b -> b.startsWith("members=1"), START_TIMEOUT);
        }
        return new Deployment(uri(http[0]), uri(http[1]), null);
    }

    private static Deployment startFilter(Configuration config, Processes processes, Settings settings, Path jfr)
            throws Exception {
        // The agents run at their defaults except for what keeps them on loopback, on free ports and
        // apart from any other cluster on this machine (a group and a name of their own).
        ThreadLocalRandom r = ThreadLocalRandom.current();
        List<String> cluster = List.of(
                "--cluster-name=http-bench-" + Long.toHexString(r.nextLong()),
                "--multicast-group=239.255." + r.nextInt(1, 255) + "." + r.nextInt(1, 255),
                "--multicast-port=" + r.nextInt(20_000, 60_000),
                "--multicast-interface=lo",
                "--multicast-ttl=0",
                "--peer-address=127.0.0.1",
                "--peer-port=0");
        int[] grpc = {Processes.freePort(), Processes.freePort()};
        int[] metrics = {Processes.freePort(), Processes.freePort()};
        Process[] agents = new Process[2];
        for (int i = 0; i < 2; i++) {
            List<String> cmd = new ArrayList<>(List.of(Processes.java(), "-Xmx256m"));
            if (i == 0 && jfr != null) {
                cmd.add(flightRecording(jfr.resolveSibling(jfr.getFileName() + ".agent1.jfr")));
            }
            cmd.addAll(List.of("-jar", settings.agentJar().toString(), "--node-name=agent" + (i + 1),
                    "--grpc-port=" + grpc[i], "--metrics-port=" + metrics[i]));
            cmd.addAll(cluster);
            agents[i] = processes.start("agent" + (i + 1), cmd);
        }
        for (int i = 0; i < 2; i++) {
            URI base = uri(metrics[i]);
            processes.awaitHttp("agent" + (i + 1), agents[i], base.resolve("/ready"), b -> true, START_TIMEOUT);
            processes.awaitHttp("agent" + (i + 1), agents[i], base.resolve("/metrics"),
                    b -> readyMembers(b) >= 1, START_TIMEOUT);
        }
        int[] http = {Processes.freePort(), Processes.freePort()};
        Process[] nodes = new Process[2];
        // Both at once: each filter talks to its own agent only, and both agents are ready.
        for (int i = 0; i < 2; i++) {
            nodes[i] = startNode(processes, settings, "node" + (i + 1), http[i], i == 0 ? jfr : null, List.of(
                    "--mode=filter", "--agent=127.0.0.1:" + grpc[i], "--route=node" + (i + 1),
                    "--replication-mode=" + config.replicationMode,
                    "--async-wait-for-agent=" + config.waitForAgent()));
        }
        for (int i = 0; i < 2; i++) {
            processes.awaitHttp("node" + (i + 1), nodes[i], uri(http[i]).resolve("/status"), b -> true, START_TIMEOUT);
        }
        return new Deployment(uri(http[0]), uri(http[1]), uri(metrics[1]));
    }

    static double readyMembers(String metrics) {
        Matcher m = READY_MEMBERS.matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static Process startNode(Processes processes, Settings settings, String name, int port, Path jfr,
            List<String> modeArgs) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Processes.java(), "-Xms256m", "-Xmx512m"));
        if (jfr != null) {
            cmd.add(flightRecording(jfr));
        }
        cmd.addAll(List.of("-cp", settings.classPath(), "io.sessionagent.bench.http.node.BenchNode",
                "--port=" + port, "--base-dir=" + settings.workDir().resolve("tomcat-" + name + "-" + port)));
        cmd.addAll(modeArgs);
        return processes.start(name, cmd);
    }

    private static String flightRecording(Path file) {
        return "-XX:StartFlightRecording=settings=profile,dumponexit=true,filename=" + file;
    }

    private static URI uri(int port) {
        return URI.create("http://127.0.0.1:" + port);
    }
}
