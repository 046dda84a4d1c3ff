package io.sessionagent.bench.http.harness;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs wrk with users.lua against one node and reads back what the script wrote. */
final class Wrk {
    private final String binary;
    private final Path script;

    Wrk(String binary, Path dir) throws IOException {
        this.binary = binary;
        Files.createDirectories(dir);
        this.script = dir.resolve("users.lua");
        try (InputStream in = Wrk.class.getResourceAsStream("users.lua")) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** A run's totals and, per user, the session cookie and the last counter it saw. */
    record Load(long requests, long durationUs, long errors, long badResponses, long p50Us, long p99Us, long maxUs,
                List<User> users) {
        double requestsPerSecond() {
            return durationUs == 0 ? 0 : requests * 1e6 / durationUs;
        }
    }

    record User(long id, String cookie, long counter) {
    }

    Load run(URI node, Duration duration, int connections, int threads, Path result, Path log) throws Exception {
        Files.deleteIfExists(result);
        List<String> cmd = List.of(binary, "-t" + threads, "-c" + connections, "-d" + Math.max(1, duration.toSeconds()) + "s",
                "--timeout", "5s", "-s", script.toString(), node.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("WRK_RESULT", result.toString());
        Process p = pb.start();
        if (!p.waitFor(duration.toSeconds() + 30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new IllegalStateException("wrk did not end: " + Files.readString(log));
        }
        if (p.exitValue() != 0 || !Files.isRegularFile(result)) {
            throw new IllegalStateException("wrk failed (" + p.exitValue() + "): " + Files.readString(log));
        }
        return parse(Files.readAllLines(result));
    }

    static Load parse(List<String> lines) {
        long requests = 0, duration = 0, errors = 0, bad = 0, p50 = 0, p99 = 0, max = 0;
        List<User> users = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.split("\t");
            switch (f[0]) {
                case "requests" -> requests = Long.parseLong(f[1]);
                case "duration_us" -> duration = Long.parseLong(f[1]);
                case "errors" -> errors = Long.parseLong(f[1]);
                case "bad_responses" -> bad = Long.parseLong(f[1]);
                case "p50_us" -> p50 = Long.parseLong(f[1]);
                case "p99_us" -> p99 = Long.parseLong(f[1]);
                case "max_us" -> max = Long.parseLong(f[1]);
                case "user" -> users.add(new User(Long.parseLong(f[1]), f[2], Long.parseLong(f[3])));
                default -> throw new IllegalArgumentException("unexpected line from users.lua: " + line);
            }
        }
        return new Load(requests, duration, errors, bad, p50, p99, max, users);
    }
}
