package io.sessionagent.sample.e2e;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An agent that is alive but does nothing: node 1's agent gets SIGSTOP for three seconds (six
 * times the filter's agent-timeout) and SIGCONT afterwards, while 50 users write 1 KiB per request
 * to node 1 with 0–10 ms of think time and {@code stress-ng --cpu 2} keeps both cores busy. The
 * filter runs at its defaults (async). It must slow the requests down, never switch replication
 * off: no broken stream, no write counted as not replicated, the agent never reported gone, every
 * request answered 200; and it must recover by itself: once the agent runs again, every user's
 * last counter reaches node 2's agent (read through node 2 with the user's cookie).
 */
class SlowAgentIT {
    private static final int USERS = 50;
    private static final int MAX_THINK_MS = 10;
    private static final Duration BEFORE_STOP = Duration.ofSeconds(4);
    private static final Duration STOPPED = Duration.ofSeconds(3);
    private static final Duration AFTER_CONT = Duration.ofSeconds(5);
    private static final int MAX_ITERATIONS_PER_USER = 100_000;
    /** The filter's default max-replication-lag. */
    private static final long MAX_REPLICATION_LAG_MS = 50;
    private static final Pattern COUNT = Pattern.compile("\"count\":(\\d+)");
    private static final Pattern NODE = Pattern.compile("\"node\":\"([^\"]*)\"");
    private static final Pattern NUMBER = Pattern.compile("\"([a-z_.]+)\":(\\d+)");

    private static final class User {
        String cookie;
        int count;
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    }

    @Test
    void aStoppedAgentSlowsRequestsDownNeverSwitchesReplicationOffAndTheFilterRecoversByItself() throws Exception {
        String stressNg = FailoverUnderLoadIT.stressNgBinary();
        try (LocalCluster cluster = LocalCluster.oneCluster("slow-agent", Map.of("replication-mode", "async"))) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            URI write = cluster.node("node1", "/counter?pad=1024");
            URI status = cluster.node("node1", "/replication-status");
            List<User> users = new ArrayList<>();
            for (int i = 0; i < USERS; i++) {
                users.add(new User());
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong slowestMs = new AtomicLong();
            AtomicLong requests = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            Process hog = new ProcessBuilder(stressNg, "--cpu", "2", "--timeout", "60s").redirectErrorStream(true)
                    .redirectOutput(cluster.dir.resolve("stress-ng.log").toFile()).start();
            long stoppedAt;
            long contAt;
            long caughtUpMs;
            int downSeen = 0;
            Map<String, Long> duringStop;
            try {
                for (User u : users) {
                    Thread t = new Thread(() -> {
                        try {
                            for (int i = 0; i < MAX_ITERATIONS_PER_USER && !stop.get(); i++) {
                                long start = System.nanoTime();
                                String body = send(http, write, u);
                                slowestMs.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                                        Math::max);
                                requests.incrementAndGet();
                                if (body != null) {
                                    u.count = Integer.parseInt(group(COUNT, body));
                                }
                                Thread.sleep(ThreadLocalRandom.current().nextInt(MAX_THINK_MS + 1));
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                    t.setDaemon(true);
                    threads.add(t);
                    t.start();
                }
                downSeen += watch(http, status, BEFORE_STOP);
                cluster.signalAgent("node1", "STOP");
                stoppedAt = System.nanoTime();
                downSeen += watch(http, status, STOPPED);
                duringStop = counters(http, status);
                cluster.signalAgent("node1", "CONT");
                contAt = System.nanoTime();
                // Caught up: the oldest unanswered write is within the lag bound again, under the same load.
                while (counters(http, status).getOrDefault("replication.lag_ms", Long.MAX_VALUE) > MAX_REPLICATION_LAG_MS
                        && System.nanoTime() - contAt < AFTER_CONT.toNanos()) {
                    Thread.sleep(10);
                }
                caughtUpMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - contAt);
                downSeen += watch(http, status, AFTER_CONT.minusNanos(System.nanoTime() - contAt));
                stop.set(true);
                for (Thread t : threads) {
                    t.join(30_000);
                }
            } finally {
                stop.set(true);
                cluster.signalAgent("node1", "CONT");
                hog.destroyForcibly();
                hog.waitFor(10, TimeUnit.SECONDS);
            }
            // Nothing left in flight once the load stopped, then every user's last count is on node 2.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            Map<String, Long> after = counters(http, status);
            while (after.getOrDefault("writes.pending", 1L) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
                after = counters(http, status);
            }
            int stale = 0;
            List<String> problems = new ArrayList<>();
            for (int i = 0; i < USERS; i++) {
                User u = users.get(i);
                problems.addAll(u.failures);
                String body = send(http, cluster.node("node2", "/counter/peek"), u);
                int onNode2 = body == null ? -1 : Integer.parseInt(group(COUNT, body));
                if (onNode2 != u.count || body == null || !"node2".equals(group(NODE, body))) {
                    stale++;
                    problems.add("user " + i + ": node 1 answered " + u.count + ", node 2 holds " + onNode2);
                }
            }
            String result = "SLOW-AGENT users=" + USERS + " requests=" + requests.get() + " stopped_ms="
                    + TimeUnit.NANOSECONDS.toMillis(contAt - stoppedAt) + " slowest_request_ms=" + slowestMs.get()
                    + " backpressure_waits=" + after.get("backpressure.waits")
                    + " backpressure_timeouts=" + after.get("backpressure.timeouts")
                    + " pending_during_stop=" + duringStop.get("writes.pending")
                    + " coalesced=" + after.get("writes.coalesced")
                    + " stream_failures=" + after.get("agent.stream_failures")
                    + " not_replicated=" + after.get("writes.not_replicated")
                    + " agent_down_seen=" + downSeen + " caught_up_after_cont_ms=" + caughtUpMs
                    + " stale_on_node2=" + stale + " failed_requests=" + (problems.size() - stale)
                    + " hog=stress-ng --cpu 2";
            System.out.println(result);
            Files.writeString(Path.of("target", "slow-agent.txt"), result + "\n" + String.join("\n", problems) + "\n");
            String why = result + "\n" + String.join("\n", problems.subList(0, Math.min(30, problems.size())))
                    + "\n" + cluster.tail("node1.log");

            assertThat(downSeen).as("the filter never took the stopped agent for a dead one; " + why).isZero();
            assertThat(after.get("agent.stream_failures")).as(why).isZero();
            assertThat(after.get("writes.not_replicated")).as(why).isZero();
            assertThat(after.get("agent.down")).as(why).isZero();
            assertThat(after.get("backpressure.timeouts")).as("requests waited out the agent timeout while it was"
                    + " stopped; " + why).isPositive();
            assertThat(caughtUpMs).as("back within max-replication-lag while the load went on; " + why)
                    .isLessThan(AFTER_CONT.toMillis());
            assertThat(after.get("writes.pending")).as("recovered: nothing left unanswered; " + why).isZero();
            assertThat(problems).as(why).isEmpty();
        }
    }

    /** Polls the filter's counters for a while; returns how often it reported the agent gone. */
    private static int watch(HttpClient http, URI status, Duration d) throws Exception {
        long end = System.nanoTime() + d.toNanos();
        int down = 0;
        while (System.nanoTime() < end) {
            if (counters(http, status).getOrDefault("agent.down", 0L) != 0) {
                down++;
            }
            Thread.sleep(100);
        }
        return down;
    }

    private static Map<String, Long> counters(HttpClient http, URI status) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(status).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        Map<String, Long> m = new HashMap<>();
        Matcher x = NUMBER.matcher(r.body());
        while (x.find()) {
            m.put(x.group(1), Long.parseLong(x.group(2)));
        }
        return m;
    }

    /** @return the body of a 200, else null with the failure recorded */
    private static String send(HttpClient http, URI uri, User u) throws InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15)).GET();
        if (u.cookie != null) {
            b.header("Cookie", u.cookie);
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            for (String h : r.headers().allValues("Set-Cookie")) {
                if (h.startsWith("SASESSIONID=")) {
                    u.cookie = h.substring(0, h.indexOf(';') < 0 ? h.length() : h.indexOf(';'));
                }
            }
            if (r.statusCode() != 200) {
                u.failures.add(uri.getPath() + ": " + r.statusCode());
                return null;
            }
            return r.body();
        } catch (IOException e) {
            u.failures.add(uri.getPath() + ": " + e);
            return null;
        }
    }

    private static String group(Pattern p, String body) {
        Matcher m = p.matcher(body);
        if (!m.find()) {
            throw new AssertionError("no " + p + " in " + body);
        }
        return m.group(1);
    }
}
