package io.sessionagent.sample.e2e;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A failover while the machine is busy: NGINX (the repository's config), two sample nodes
 * (embedded Tomcat 11, the filter at its defaults but for {@code replication-mode}) and two agents
 * as processes, {@code stress-ng --cpu 2} on both cores for the whole load. 100 users, each with
 * its own cookie and thread, loop {@code GET /counter?pad=1024} (every request writes 1 KiB of
 * fresh bytes to the session) with 0–10 ms of think time. Once every user has a session the clock
 * starts; after 8 s node1's app server and its agent get SIGKILL together; 6 s more.
 *
 * <p>Each user's history gives, for a user that was on node1, the highest count it saw before its
 * first response from node2 ({@code cLast}) and the count of that response ({@code cFirst}): the
 * session went back by {@code max(0, cLast + 1 - cFirst)} writes. In {@code async} mode a kill -9
 * may lose the writes of the last {@link #MAX_REPLICATION_LAG_MS} (the filter's intended default
 * {@code max-replication-lag}: a response leaves only once every write older than that was confirmed by
 * the replicas), so the user's allowance is the number of its node1 answers it received less than that
 * plus {@link #KILL_SLACK_MS} before the kill, or after it: a write is committed before its answer
 * leaves, so a lost write's answer came within the window. In {@code sync}
 * mode nothing may go back. In both: no fresh session, no failed GET (NGINX passes a GET whose node
 * died to the other node), every user served after the kill, and users never on node1 never go back.
 *
 * <p>The sample WAR's web.xml sets {@code replication-mode} to {@code sync}, so the async run passes
 * {@code --replication-mode async} to the launcher explicitly; the nodes' logs are checked for the
 * mode the filter actually runs in. Each run prints one {@code FAILOVER-LOAD} line, also written to
 * {@code target/failover-under-load.txt} with both nodes' {@code /replication-status} and the problems.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverUnderLoadIT {
    private static final int USERS = 100;
    private static final int PAD_BYTES = 1024;
    private static final int MAX_THINK_MS = 10;
    private static final Duration LOAD_BEFORE_KILL = Duration.ofSeconds(8);
    private static final Duration LOAD_AFTER_KILL = Duration.ofSeconds(6);
    /** The filter's intended default {@code max-replication-lag}: what an async kill -9 may lose. */
    private static final long MAX_REPLICATION_LAG_MS = 50;
    /** Between the test's clock reading and the SIGKILLs landing. */
    private static final long KILL_SLACK_MS = 20;
    /** Each user's loop ends on the stop flag; this bounds it should the flag never be seen. */
    private static final int MAX_ITERATIONS_PER_USER = 100_000;
    /** stress-ng stops itself this long after the planned load, should the test not stop it. */
    private static final long HOG_MARGIN_S = 30;
    private static final List<String> HOG = List.of("--cpu", "2");
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);
    private static final Path RESULT = Path.of("target", "failover-under-load.txt");
    private static final int PROBLEMS_SHOWN = 30;

    private static final Pattern SESSION = Pattern.compile("\"session\":\"([^\"]+)\"");
    private static final Pattern NODE = Pattern.compile("\"node\":\"([^\"]*)\"");
    private static final Pattern COUNT = Pattern.compile("\"count\":(\\d+)");

    /** An answered request: when it was sent, and what the session said. */
    private record Answer(long startNanos, long endNanos, String session, String node, int count) {
    }

    /** A request without a 200: its status and body, or the exception. */
    private record Failure(long startNanos, long endNanos, String what) {
    }

    /** One browser: its cookie and everything it got. Only its own thread writes to it. */
    private static final class User {
        final int n;
        String cookie;
        final List<Answer> answers = Collections.synchronizedList(new ArrayList<>());
        final List<Failure> failures = Collections.synchronizedList(new ArrayList<>());
        volatile String crash;

        User(int n) {
            this.n = n;
        }

        void get(HttpClient http, URI uri) throws InterruptedException {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).GET();
            if (cookie != null) {
                b.header("Cookie", cookie);
            }
            long start = System.nanoTime();
            HttpResponse<String> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                failures.add(new Failure(start, System.nanoTime(), e.toString()));
                return;
            }
            long end = System.nanoTime();
            for (String h : r.headers().allValues("Set-Cookie")) {
                if (h.startsWith("SASESSIONID=")) {
                    cookie = h.substring(0, h.indexOf(';') < 0 ? h.length() : h.indexOf(';'));
                }
            }
            if (r.statusCode() != 200) {
                String body = r.body().replaceAll("\\s+", " ");
                failures.add(new Failure(start, end, r.statusCode() + " " + body.substring(0, Math.min(120,
                        body.length()))));
                return;
            }
            answers.add(new Answer(start, end, group(SESSION, r.body()), group(NODE, r.body()),
                    Integer.parseInt(group(COUNT, r.body()))));
        }
    }

    private static String group(Pattern p, String body) {
        Matcher m = p.matcher(body);
        if (!m.find()) {
            throw new AssertionError("no " + p + " in " + body);
        }
        return m.group(1);
    }

    /** stress-ng, or a skipped test (a failed one under CI: there it must be installed). */
    static String stressNgBinary() {
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/usr/sbin", "/usr/local/sbin", "/bin")) {
            if (Files.isExecutable(Path.of(dir, "stress-ng"))) {
                return Path.of(dir, "stress-ng").toString();
            }
        }
        if (System.getenv("CI") != null) {
            throw new AssertionError("stress-ng is not installed (apt-get install -y stress-ng); .ci/run installs it");
        }
        assumeTrue(false, "stress-ng is not installed: failover under load skipped (apt-get install -y stress-ng)");
        return null;
    }

    @BeforeAll
    static void freshResultFile() throws IOException {
        Files.deleteIfExists(RESULT);
    }

    @Test
    @Order(1)
    void asyncLosesAtMostTheWritesOfTheReplicationLagWindow() throws Exception {
        run("async");
    }

    @Test
    @Order(2)
    void syncLosesNothing() throws Exception {
        run("sync");
    }

    private void run(String mode) throws Exception {
        String stressNg = stressNgBinary();
        long started = System.nanoTime();
        try (LocalCluster cluster = LocalCluster.oneCluster("failover-load-" + mode,
                Map.of("replication-mode", mode))) {
            for (String node : List.of("node1", "node2")) {
                String log = Files.readString(cluster.dir.resolve(node + ".log"));
                assertThat(log).as("the filter of " + node + " runs in " + mode + " mode; "
                        + cluster.tail(node + ".log")).contains(", " + mode + " replication,");
            }
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            URI counter = cluster.nginx("/counter?pad=" + PAD_BYTES);
            List<User> users = new ArrayList<>();
            for (int i = 0; i < USERS; i++) {
                users.add(new User(i));
            }
            CountDownLatch everyoneHasASession = new CountDownLatch(USERS);
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            long loadStart;
            long killNanos;
            long stopNanos;
            boolean allSessions;
            boolean hogRanThrough;
            String statusBefore;
            Process hog = null;
            long hogSeconds = LOAD_BEFORE_KILL.plus(LOAD_AFTER_KILL).toSeconds() + HOG_MARGIN_S;
            List<String> hogCmd = new ArrayList<>(List.of(stressNg));
            hogCmd.addAll(HOG);
            hogCmd.addAll(List.of("--timeout", hogSeconds + "s"));
            try {
                hog = new ProcessBuilder(hogCmd).redirectErrorStream(true)
                        .redirectOutput(cluster.dir.resolve("stress-ng.log").toFile()).start();
                for (User u : users) {
                    Thread t = new Thread(() -> {
                        try {
                            for (int i = 0; i < MAX_ITERATIONS_PER_USER && !stop.get(); i++) {
                                boolean hadSession = !u.answers.isEmpty();
                                u.get(http, counter);
                                if (!hadSession && !u.answers.isEmpty()) {
                                    everyoneHasASession.countDown();
                                }
                                Thread.sleep(ThreadLocalRandom.current().nextInt(MAX_THINK_MS + 1));
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        } catch (RuntimeException | AssertionError e) {
                            u.crash = e.toString();
                        }
                    }, "user-" + u.n);
                    t.setDaemon(true);
                    threads.add(t);
                    t.start();
                }
                allSessions = everyoneHasASession.await(60, TimeUnit.SECONDS);
                loadStart = System.nanoTime();
                if (allSessions) {
                    sleepUntil(loadStart + LOAD_BEFORE_KILL.toNanos() - TimeUnit.MILLISECONDS.toNanos(500));
                    statusBefore = "node1 " + status(http, cluster.node("node1", "/replication-status")) + "\nnode2 "
                            + status(http, cluster.node("node2", "/replication-status"));
                    sleepUntil(loadStart + LOAD_BEFORE_KILL.toNanos());
                    killNanos = System.nanoTime();
                    cluster.kill("node1");
                    sleepUntil(killNanos + LOAD_AFTER_KILL.toNanos());
                } else {
                    statusBefore = "(no load: not every user got a session)";
                    killNanos = loadStart;
                }
                hogRanThrough = hog.isAlive();
                stop.set(true);
                stopNanos = System.nanoTime();
                long joinDeadline = stopNanos + REQUEST_TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(5);
                for (Thread t : threads) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinDeadline - System.nanoTime())));
                }
            } finally {
                stop.set(true);
                stopHog(hog);
            }
            String statusAfter = "node2 " + status(http, cluster.node("node2", "/replication-status"));

            Figures f = figures(users, killNanos, mode.equals("async"));
            long unfinished = threads.stream().filter(Thread::isAlive).count();
            long answeredInLoad = 0;
            long requests = 0;
            long requestsBeforeKill = 0;
            for (User u : users) {
                for (Answer a : List.copyOf(u.answers)) {
                    requests++;
                    requestsBeforeKill += a.startNanos < killNanos ? 1 : 0;
                    answeredInLoad += a.startNanos >= loadStart ? 1 : 0;
                }
                for (Failure x : List.copyOf(u.failures)) {
                    requests++;
                    requestsBeforeKill += x.startNanos < killNanos ? 1 : 0;
                }
            }
            double loadSeconds = Math.max(1e-9, (stopNanos - loadStart) / 1e9);
            String line = "FAILOVER-LOAD mode=" + mode + " users=" + USERS + " requests=" + requests
                    + " requests_before_kill=" + requestsBeforeKill + " failed_over=" + f.failedOver
                    + " fresh_sessions=" + f.freshSessions + " went_back=" + f.wentBack + " back_max=" + f.backMax
                    + " allowance_max=" + f.allowanceMax + " over_allowance=" + f.overAllowance
                    + " stuck=" + f.stuck + " failed_requests=" + f.failedRequests
                    + " req_per_s=" + Math.round(answeredInLoad / loadSeconds)
                    + " pad_bytes=" + PAD_BYTES + " hog=stress-ng " + String.join(" ", HOG)
                    + " load_ms=" + TimeUnit.NANOSECONDS.toMillis(stopNanos - loadStart)
                    + " duration_ms=" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            System.out.println(line);
            List<String> problems = new ArrayList<>(f.problems);
            if (!allSessions) {
                problems.add(0, "only " + (USERS - everyoneHasASession.getCount()) + " of " + USERS
                        + " users got a session within 60 s");
            }
            if (!hogRanThrough) {
                problems.add(0, "stress-ng did not run through the load (" + String.join(" ", hogCmd) + "): "
                        + cluster.tail("stress-ng.log"));
            }
            if (unfinished > 0) {
                problems.add(0, unfinished + " user threads still running after the stop");
            }
            Files.createDirectories(RESULT.getParent());
            Files.writeString(RESULT, line + "\nreplication-status before the kill:\n" + statusBefore
                    + "\nreplication-status after the load:\n" + statusAfter + "\nproblems (" + problems.size() + "):\n"
                    + String.join("\n", problems.subList(0, Math.min(500, problems.size()))) + "\n\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);

            String why = line + "\n" + String.join("\n", problems.subList(0, Math.min(PROBLEMS_SHOWN,
                    problems.size()))) + (problems.size() > PROBLEMS_SHOWN ? "\n... " + (problems.size()
                    - PROBLEMS_SHOWN) + " more in " + RESULT.toAbsolutePath() : "")
                    + "\nreplication-status before the kill:\n" + statusBefore + "\nafter the load:\n" + statusAfter
                    + "\n" + cluster.tail("node1.log") + "\n" + cluster.tail("node2.log") + "\n"
                    + cluster.tail("nginx/error.log");
            assertThat(allSessions).as("every user got a session before the clock started; " + why).isTrue();
            assertThat(hogRanThrough).as("stress-ng ran through the load; " + why).isTrue();
            assertThat(unfinished).as("user threads ended; " + why).isZero();
            assertThat(f.failedOver).as("users that were on node1 and went on on node2; " + why).isPositive();
            assertThat(f.freshSessions).as("users with a fresh session; " + why).isZero();
            assertThat(f.stuck).as("users not served after the kill; " + why).isZero();
            assertThat(f.failedRequests).as("GETs without a 200 (NginxFailoverIT tolerates none either); " + why)
                    .isZero();
            if (mode.equals("sync")) {
                assertThat(f.wentBack).as("sync: users whose counter went back; " + why).isZero();
            } else {
                assertThat(f.overAllowance).as("async: users whose counter went back further than the writes of"
                        + " the last " + (MAX_REPLICATION_LAG_MS + KILL_SLACK_MS) + " ms before the kill, or back"
                        + " elsewhere; " + why).isZero();
            }
            assertThat(f.crashes).as("user threads that crashed; " + why).isZero();
        }
    }

    /** What the users' histories say about the failover. */
    private static final class Figures {
        int failedOver;
        int freshSessions;
        int wentBack;
        int backMax;
        int allowanceMax;
        int overAllowance;
        int stuck;
        int failedRequests;
        int crashes;
        final List<String> problems = new ArrayList<>();
    }

    /**
     * @param lagAllowed whether a failed-over user may go back by the writes of the replication
     *     lag window (async) or by none (sync)
     */
    private static Figures figures(List<User> users, long killNanos, boolean lagAllowed) {
        Figures f = new Figures();
        long windowStart = killNanos - TimeUnit.MILLISECONDS.toNanos(MAX_REPLICATION_LAG_MS + KILL_SLACK_MS);
        for (User u : users) {
            List<Answer> answers = List.copyOf(u.answers);
            List<Failure> failures = List.copyOf(u.failures);
            f.failedRequests += failures.size();
            for (Failure x : failures) {
                f.problems.add("user " + u.n + ": GET failed, sent " + relMs(x.startNanos, killNanos)
                        + " ms from the kill, after " + TimeUnit.NANOSECONDS.toMillis(x.endNanos - x.startNanos)
                        + " ms: " + x.what);
            }
            if (u.crash != null) {
                f.crashes++;
                f.problems.add("user " + u.n + ": " + u.crash);
            }
            if (answers.isEmpty()) {
                f.stuck++;
                f.problems.add("user " + u.n + ": never answered");
                continue;
            }
            List<String> issues = new ArrayList<>();
            // The failover: the first answer from node2 to a user that node1 served before.
            int failover = -1;
            boolean onNode1 = false;
            for (int i = 0; i < answers.size() && failover < 0; i++) {
                onNode1 |= answers.get(i).node.equals("node1");
                if (onNode1 && answers.get(i).node.equals("node2")) {
                    failover = i;
                }
            }
            boolean servedAfterKill = answers.stream().anyMatch(a -> a.startNanos > killNanos);
            if (!servedAfterKill || (onNode1 && failover < 0)) {
                f.stuck++;
                issues.add("stuck: no answer " + (onNode1 && failover < 0 ? "from node2" : "to a request sent after"
                        + " the kill") + ", last " + answers.get(answers.size() - 1).count + " on "
                        + answers.get(answers.size() - 1).node + ", " + failures.size() + " failed");
            }
            String session = answers.get(0).session;
            boolean fresh = false;
            for (Answer a : answers) {
                if (!a.session.equals(session)) {
                    fresh = true;
                    issues.add("session " + session + " became " + a.session + " (count " + a.count + " on " + a.node
                            + ", sent " + relMs(a.startNanos, killNanos) + " ms from the kill)");
                    break;
                }
            }
            // Anywhere but at the failover, each answer counts one more than the one before (or
            // more: an increment whose answer was lost on the dead node). Less is a loss.
            int backElsewhere = 0;
            int stepsBack = 0;
            String firstStepBack = null;
            for (int i = 1; i < answers.size(); i++) {
                Answer prev = answers.get(i - 1);
                Answer a = answers.get(i);
                int back = Math.max(0, prev.count + 1 - a.count);
                if (i != failover && back > 0) {
                    backElsewhere = Math.max(backElsewhere, back);
                    stepsBack++;
                    if (firstStepBack == null) {
                        firstStepBack = prev.count + " -> " + a.count + " on " + a.node + ", sent "
                                + relMs(a.startNanos, killNanos) + " ms from the kill";
                    }
                }
            }
            if (stepsBack > 0) {
                issues.add("went back " + stepsBack + " times " + (failover >= 0 ? "besides the failover " : "")
                        + "(at most " + backElsewhere + "; first " + firstStepBack + ")");
            }
            int back = backElsewhere;
            if (failover >= 0) {
                f.failedOver++;
                int cLast = answers.subList(0, failover).stream().mapToInt(Answer::count).max().orElse(0);
                int cFirst = answers.get(failover).count;
                int backAtFailover = Math.max(0, cLast + 1 - cFirst);
                back = Math.max(back, backAtFailover);
                int allowance = (int) answers.subList(0, failover).stream()
                        .filter(a -> a.node.equals("node1") && a.endNanos > windowStart).count();
                f.allowanceMax = Math.max(f.allowanceMax, allowance);
                if (cFirst == 1 && cLast > 1 && !fresh) {
                    fresh = true;
                    issues.add("count restarted at 1");
                }
                int tolerated = lagAllowed ? allowance : 0;
                if (backAtFailover > tolerated || backElsewhere > 0) {
                    f.overAllowance++;
                }
                if (backAtFailover > tolerated || !issues.isEmpty()) {
                    issues.add(0, "failover: cLast " + cLast + ", cFirst " + cFirst + " (sent "
                            + relMs(answers.get(failover).startNanos, killNanos) + " ms from the kill), back "
                            + backAtFailover + ", allowance " + tolerated);
                }
            } else if (back > 0) {
                f.overAllowance++;
            }
            f.backMax = Math.max(f.backMax, back);
            f.wentBack += back > 0 ? 1 : 0;
            f.freshSessions += fresh ? 1 : 0;
            if (!issues.isEmpty()) {
                f.problems.add("user " + u.n + " (" + (failover >= 0 ? "node1 -> node2" : onNode1 ? "node1"
                        : "node2 only") + "): " + String.join("; ", issues));
            }
        }
        return f;
    }

    private static long relMs(long nanos, long killNanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos - killNanos);
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long left = nanos - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    private static String status(HttpClient http, URI uri) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : r.statusCode() + " " + r.body();
        } catch (IOException e) {
            return "(unavailable: " + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }

    /** SIGKILL of stress-ng and of its workers, and a wait for them. */
    private static void stopHog(Process hog) throws InterruptedException {
        if (hog == null) {
            return;
        }
        List<ProcessHandle> workers = hog.descendants().toList();
        hog.destroyForcibly();
        workers.forEach(ProcessHandle::destroyForcibly);
        hog.waitFor(10, TimeUnit.SECONDS);
        for (ProcessHandle w : workers) {
            try {
                w.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // gone already, or stuck beyond our reach: its own --timeout ends it
            }
        }
    }
}
