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
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two replication clusters behind one NGINX ({@code nginx/two-clusters.conf.template}): cluster A is
 * node1 + node2, cluster B node3 + node4, each node an app server process beside its agent process;
 * the two clusters differ only in cluster-name and share one multicast group and port. Users of
 * cluster A keep sending {@code GET /counter}. SIGKILL of node1 (app and agent): they go on in the
 * same session on node2. SIGKILL of node2: NGINX sends them to cluster B, where they get a new
 * session whose counter starts again at 1, since replication does not cross clusters. No GET fails.
 * Users that started on cluster B keep their sessions throughout.
 */
class TwoClustersIT {
    private static final int USERS_ON_A = 50;
    private static final Duration LOAD_BETWEEN_STEPS = Duration.ofSeconds(5);
    private static final Pattern SESSION = Pattern.compile("\"session\":\"([^\"]+)\"");
    private static final Pattern NODE = Pattern.compile("\"node\":\"([^\"]*)\"");
    private static final Pattern COUNT = Pattern.compile("\"count\":(\\d+)");

    /** 0 before any kill, 1 from node1's kill on, 2 from node2's kill on. */
    private final AtomicInteger phase = new AtomicInteger();
    private final LongAdder requests = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());

    private final class User {
        final int n;
        final boolean startedOnA;
        String cookie;
        String session;
        String node;
        int count;
        boolean wasOnNode1;
        /** Served by node1, then by node2 after node1's kill, in the same session. */
        boolean movedWithinCluster;
        /** Each session this user was served in, with the phase in which it first appeared and its first count. */
        final List<String> sessions = new ArrayList<>();
        final List<Integer> firstCounts = new ArrayList<>();
        final List<Integer> phases = new ArrayList<>();

        User(int n, HttpResponse<String> first) {
            this.n = n;
            takeCookie(first);
            accept(first.body());
            this.startedOnA = isClusterA(node);
        }

        private void takeCookie(HttpResponse<String> r) {
            for (String h : r.headers().allValues("Set-Cookie")) {
                if (h.startsWith("SASESSIONID=")) {
                    cookie = h.substring(0, h.indexOf(';') < 0 ? h.length() : h.indexOf(';'));
                }
            }
        }

        private void accept(String body) {
            String s = group(SESSION, body);
            int c = Integer.parseInt(group(COUNT, body));
            node = group(NODE, body);
            if (!s.equals(session)) {
                sessions.add(s);
                firstCounts.add(c);
                phases.add(phase.get());
                session = s;
            } else if (c <= count) {
                problems.add("user " + n + " counter went from " + count + " to " + c + " on " + node);
            }
            count = c;
            if (sessions.size() == 1 && node.equals("node1")) {
                wasOnNode1 = true;
            } else if (sessions.size() == 1 && wasOnNode1 && node.equals("node2")) {
                movedWithinCluster = true;
            }
        }

        void increment(HttpClient http, URI uri) throws InterruptedException {
            requests.increment();
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("Cookie", cookie)
                        .timeout(Duration.ofSeconds(15)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    failed.increment();
                    problems.add("user " + n + " GET: " + r.statusCode() + " " + r.body());
                    return;
                }
                takeCookie(r);
                accept(r.body());
            } catch (IOException e) {
                failed.increment();
                problems.add("user " + n + " GET: " + e);
            }
        }
    }

    private static boolean isClusterA(String node) {
        return node.equals("node1") || node.equals("node2");
    }

    private static String group(Pattern p, String body) {
        Matcher m = p.matcher(body);
        if (!m.find()) {
            throw new AssertionError("no " + p + " in " + body);
        }
        return m.group(1);
    }

    @Test
    void usersKeepTheirSessionWithinTheClusterAndGetAFreshOneOnTheOtherCluster() throws Exception {
        long started = System.nanoTime();
        try (LocalCluster p = new LocalCluster("two-clusters", "two-clusters.conf.template",
                List.of(List.of("node1", "node2"), List.of("node3", "node4")))) {
            URI counter = p.nginx("/counter");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            // New users are spread over the four nodes: take users until 50 landed on cluster A.
            List<User> users = new ArrayList<>();
            int onA = 0;
            for (int i = 0; i < 1_000 && onA < USERS_ON_A; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(counter).timeout(Duration.ofSeconds(15))
                        .GET().build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                requests.increment();
                User u = new User(i, r);
                users.add(u);
                onA += u.startedOnA ? 1 : 0;
            }
            assertThat(onA).isEqualTo(USERS_ON_A);
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(users.size());
            for (User u : users) {
                pool.execute(() -> {
                    try {
                        // Bounded: the stop flag ends it, the cap guards against a stuck flag.
                        for (int i = 0; i < 10_000 && !stop.get(); i++) {
                            Thread.sleep(ThreadLocalRandom.current().nextInt(50, 150));
                            u.increment(http, counter);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (RuntimeException | AssertionError e) {
                        problems.add("user " + u.n + ": " + e);
                    }
                });
            }
            Thread.sleep(LOAD_BETWEEN_STEPS.toMillis());
            // The phase moves before the kill: a request may see its effect before kill() returns.
            phase.set(1);
            p.kill("node1");
            Thread.sleep(LOAD_BETWEEN_STEPS.toMillis());
            phase.set(2);
            p.kill("node2");
            Thread.sleep(LOAD_BETWEEN_STEPS.toMillis());
            stop.set(true);
            pool.shutdown();
            assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).as("users stopped").isTrue();

            int keptInCluster = 0;
            int freshOnB = 0;
            int keptOnB = 0;
            int usersOnB = 0;
            int movedWithinCluster = 0;
            for (User u : users) {
                movedWithinCluster += u.movedWithinCluster ? 1 : 0;
                if (u.startedOnA) {
                    // One session until node2 died, kept across node1's death; then exactly one new
                    // session on cluster B, starting at 1.
                    if (u.sessions.size() >= 1 && u.phases.get(0) == 0
                            && (u.sessions.size() == 1 || u.phases.get(1) == 2)) {
                        keptInCluster++;
                    } else {
                        problems.add("user " + u.n + " changed session before both nodes of cluster A died: "
                                + u.sessions + " in phases " + u.phases);
                    }
                    if (u.sessions.size() == 2 && u.phases.get(1) == 2 && u.firstCounts.get(1) == 1
                            && !isClusterA(u.node)) {
                        freshOnB++;
                    } else {
                        problems.add("user " + u.n + " expected one fresh session on cluster B: " + u.sessions
                                + " first counts " + u.firstCounts + " phases " + u.phases + " now on " + u.node);
                    }
                } else {
                    usersOnB++;
                    if (u.sessions.size() == 1 && !isClusterA(u.node)) {
                        keptOnB++;
                    } else {
                        problems.add("user " + u.n + " of cluster B changed session: " + u.sessions);
                    }
                }
            }
            long totalMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            String result = "E2E-TWO-CLUSTERS users=" + USERS_ON_A + " requests=" + requests.sum()
                    + " failed_requests=" + failed.sum()
                    + " sessions_kept_within_cluster=" + keptInCluster
                    + " moved_node1_to_node2=" + movedWithinCluster
                    + " fresh_sessions_on_other_cluster=" + freshOnB
                    + " cluster_b_users=" + usersOnB + " cluster_b_sessions_kept=" + keptOnB
                    + " total_ms=" + totalMs;
            System.out.println(result);
            Files.writeString(Path.of("target", "e2e-two-clusters.txt"),
                    result + "\n" + String.join("\n", problems) + "\n");
            String why = result + "\n" + String.join("\n", problems.subList(0, Math.min(30, problems.size())))
                    + "\n" + p.tail("nginx/error.log");
            assertThat(failed.sum()).as(why).isZero();
            assertThat(keptInCluster).as(why).isEqualTo(USERS_ON_A);
            assertThat(movedWithinCluster).as("users that went from node1 to node2 in their session; " + why)
                    .isPositive();
            assertThat(freshOnB).as(why).isEqualTo(USERS_ON_A);
            assertThat(keptOnB).as(why).isEqualTo(usersOnB);
            assertThat(problems).as(why).isEmpty();
        }
    }
}
