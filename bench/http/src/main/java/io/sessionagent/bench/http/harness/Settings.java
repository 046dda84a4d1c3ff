package io.sessionagent.bench.http.harness;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's parameters, from {@code --name=value} arguments.
 *
 * @param classPath class path of the app server JVMs (this module's classes and dependencies)
 * @param workDir   logs, Tomcat base directories, wrk's raw output, flight recordings
 * @param outDir    results.tsv, results.json and the chart
 * @param connections the connection counts (one simulated user each) every configuration runs at,
 *                    in this order, each with its own processes, warmup and measured run
 * @param readme    README whose results section is replaced, or null
 * @param profile   configuration whose node 1 (and agent 1) record a JFR profile, or null
 */
record Settings(List<Configuration> configurations, Duration duration, Duration warmup, Duration settle,
                List<Integer> connections, int threads, Path agentJar, String classPath, String wrk, Path workDir,
                Path outDir, Path readme, Configuration profile, String command) {

    static Settings parse(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("arguments are --name=value, got " + arg);
            }
            a.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        List<Configuration> configs = new ArrayList<>();
        for (String id : a.getOrDefault("configs", "alone,delta-async,delta-sync,ours-async,ours-async-nowait,ours-sync").split(",")) {
            configs.add(Configuration.byId(id.strip()));
        }
        Path agentJar = Path.of(required(a, "agent-jar")).toAbsolutePath();
        if (!Files.isRegularFile(agentJar)) {
            throw new IllegalArgumentException("--agent-jar: no file " + agentJar + " (./mvnw -B -DskipTests package)");
        }
        List<Integer> connections = new ArrayList<>();
        for (String n : a.getOrDefault("connections", "16,64").split(",")) {
            int c = Integer.parseInt(n.strip());
            if (connections.contains(c)) {
                throw new IllegalArgumentException("--connections lists " + c + " twice");
            }
            connections.add(c);
        }
        int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
        if (threads < 1 || connections.stream().anyMatch(c -> c < threads)) {
            throw new IllegalArgumentException("need 1 <= threads <= connections, got " + threads + " and " + connections);
        }
        Path work = Path.of(a.getOrDefault("work-dir", "target/http-bench")).toAbsolutePath();
        return new Settings(configs,
                seconds(a.getOrDefault("duration", "20")),
                seconds(a.getOrDefault("warmup", "60")),
                seconds(a.getOrDefault("settle", "2")),
                List.copyOf(connections), threads, agentJar,
                a.getOrDefault("class-path", System.getProperty("java.class.path")),
                a.getOrDefault("wrk", "wrk"),
                work,
                Path.of(a.getOrDefault("out-dir", work.resolve("results").toString())).toAbsolutePath(),
                a.containsKey("readme") ? Path.of(a.get("readme")).toAbsolutePath() : null,
                a.containsKey("profile") ? Configuration.byId(a.get("profile")) : null,
                a.getOrDefault("command", "java ... " + String.join(" ", Arrays.asList(args))));
    }

    /** Whole seconds: wrk takes no fractions. */
    private static Duration seconds(String s) {
        return Duration.ofSeconds(Long.parseLong(s.replaceAll("s$", "")));
    }

    private static String required(Map<String, String> a, String name) {
        String v = a.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }
}
