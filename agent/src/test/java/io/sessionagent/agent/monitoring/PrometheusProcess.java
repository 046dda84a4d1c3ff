package io.sessionagent.agent.monitoring;

import io.sessionagent.agent.testing.AgentProcess;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server (the {@code prometheus} binary, e.g. from the Debian package) on
 * 127.0.0.1, with its configuration and data in a directory of the caller's, scraping the
 * targets given every second with the job of {@code prometheus/prometheus.yml}.
 */
final class PrometheusProcess implements AutoCloseable {
    /** The repository's scrape configuration, the template of the one generated here. */
    static final Path TEMPLATE = Path.of("..", "prometheus", "prometheus.yml").toAbsolutePath().normalize();
    static final String JOB = "session-agent";

    private final Process process;
    private final Path log;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PrometheusProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** The prometheus binary on PATH (or /usr/bin), if any. */
    static Optional<Path> binary() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.add("/usr/bin");
        for (String dir : dirs) {
            if (!dir.isBlank()) {
                Path p = Path.of(dir, "prometheus");
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The template with a 1 s scrape and evaluation interval and {@code targets} as the static
     * targets of its {@value #JOB} job.
     */
    @SuppressWarnings("unchecked")
    static String config(List<String> targets) throws IOException {
        Map<String, Object> root = new Yaml().load(Files.readString(TEMPLATE));
        Map<String, Object> global = (Map<String, Object>) root.computeIfAbsent("global", k -> new LinkedHashMap<>());
        global.put("scrape_interval", "1s");
        global.put("scrape_timeout", "1s");
        global.put("evaluation_interval", "1s");
        Map<String, Object> job = null;
        for (Object o : (List<Object>) root.get("scrape_configs")) {
            Map<String, Object> c = (Map<String, Object>) o;
            if (JOB.equals(c.get("job_name"))) {
                job = c;
            }
        }
        if (job == null) {
            throw new AssertionError(TEMPLATE + " has no job " + JOB);
        }
        job.put("static_configs", List.of(Map.of("targets", targets)));
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        return new Yaml(options).dump(root);
    }

    static PrometheusProcess start(Path binary, Path dir, List<String> targets) throws IOException {
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, config(targets));
        Path data = Files.createDirectories(dir.resolve("data"));
        Path log = dir.resolve("prometheus.log");
        int port = AgentProcess.freePort();
        Process p = new ProcessBuilder(binary.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + data,
                "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new PrometheusProcess(p, log, port);
    }

    /** Waits (bounded) for {@code /-/ready}. */
    void awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("prometheus exited with " + process.exitValue() + ":\n" + logTail());
            }
            try {
                if (get("/-/ready").statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("prometheus not ready within " + timeout.toMillis() + " ms:\n" + logTail());
            }
            Thread.sleep(100);
        }
    }

    /** The answer of {@code /api/v1/query} for an instant query at the current time. */
    Map<String, Object> query(String promql) throws IOException, InterruptedException {
        HttpResponse<String> r = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        try {
            return Json.object(Json.parse(r.body()));
        } catch (IllegalArgumentException e) {
            throw new AssertionError("query " + promql + " answered " + r.statusCode() + ": " + r.body(), e);
        }
    }

    /** The series of a successful vector or matrix answer; anything else is an error. */
    List<Map<String, Object>> series(String promql) throws IOException, InterruptedException {
        Map<String, Object> answer = query(promql);
        if (!"success".equals(answer.get("status"))) {
            throw new AssertionError("query " + promql + " failed: " + answer);
        }
        Map<String, Object> data = Json.object(answer.get("data"));
        Object type = data.get("resultType");
        if (!"vector".equals(type) && !"matrix".equals(type)) {
            throw new AssertionError("query " + promql + " gave a " + type + ", not a vector or matrix");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : Json.array(data.get("result"))) {
            out.add(Json.object(o));
        }
        return out;
    }

    /** The value of one series of a vector answer. */
    static double value(Map<String, Object> series) {
        return Double.parseDouble((String) Json.array(series.get("value")).get(1));
    }

    @SuppressWarnings("unchecked")
    static Map<String, String> labels(Map<String, Object> series) {
        return (Map<String, String>) (Map<String, ?>) Json.object(series.get("metric"));
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** SIGTERM, then SIGKILL if it has not ended within 10 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
