package io.sessionagent.bench.http.harness;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The JVMs one configuration runs (app servers, agents), each logging to its own file; {@link
 * #close()} stops all of them, whatever happened before.
 */
final class Processes implements AutoCloseable {
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();
    private final Path logDir;
    private final Map<String, Process> started = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    /** Stops the JVMs also when the benchmark itself is interrupted (Ctrl-C, SIGTERM): none may outlive it. */
    private final Thread onExit = new Thread(this::destroyAll, "http-bench-stop-processes");

    Processes(Path logDir) throws IOException {
        this.logDir = Files.createDirectories(logDir);
        Runtime.getRuntime().addShutdownHook(onExit);
    }

    private synchronized void destroyAll() {
        for (Process p : started.values()) {
            p.destroyForcibly();
        }
    }

    /**
     * A port below the kernel's ephemeral range (taken as 32768): a port from {@code bind(0)} can be
     * taken by any outgoing connection before the server started later binds it.
     */
    static int freePort() throws IOException {
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(10_000, 32_768);
            if (HANDED_OUT.add(port) && bindable(port)) {
                return port;
            }
        }
        throw new IOException("no free port below 32768 after 1000 attempts");
    }

    private static boolean bindable(int port) throws IOException {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (BindException inUse) {
            return false;
        }
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    synchronized Process start(String name, List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(logDir.resolve(name + ".log").toFile()).start();
        started.put(name, p);
        return p;
    }

    /** Waits until GET uri answers 200 with a body the predicate accepts. */
    void awaitHttp(String name, Process p, URI uri, Predicate<String> body, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " exited with " + p.exitValue() + ": " + tail(name));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                last = r.statusCode() + " " + r.body().strip();
                if (r.statusCode() == 200 && body.test(r.body())) {
                    return;
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(name + ": " + uri + " not as expected within " + timeout.toSeconds()
                + " s (last: " + last + "); " + tail(name));
    }

    /**
     * CPU time (user + system) each process started so far has used, in milliseconds, from
     * /proc/PID/stat; Linux counts it in clock ticks of 10 ms (USER_HZ 100).
     */
    Map<String, Long> cpuMillis() {
        Map<String, Long> millis = new LinkedHashMap<>();
        for (Map.Entry<String, Process> e : started.entrySet()) {
            Process p = e.getValue();
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
                // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                millis.put(e.getKey(), (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10);
            } catch (IOException | RuntimeException ex) {
                throw new IllegalStateException("cannot read the CPU time of process " + p.pid(), ex);
            }
        }
        return millis;
    }

    String tail(String name) {
        try {
            List<String> lines = Files.readAllLines(logDir.resolve(name + ".log"));
            return name + ".log:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no " + name + ".log)";
        }
    }

    @Override
    public synchronized void close() throws InterruptedException {
        for (Process p : started.values()) {
            p.destroy();
        }
        for (Process p : started.values()) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        started.clear();
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook runs, and finds nothing left to stop.
        }
    }
}
