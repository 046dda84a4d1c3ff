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
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A failover while the machine is busy: NGINX (the repository's config), two sample nodes
 * (embedded Tomcat 11 with the jakarta WAR or embedded Tomcat 9 with the javax WAR, see below; the
 * filter at its defaults but for {@code replication-mode}) and two agents as processes,
 * {@code stress-ng --cpu 2} on both cores for the whole load. 100 users, each with
 * its own cookie and thread, send requests with 0–10 ms of think time. Once every user has a
 * session the clock starts; after 8 s node1 gets SIGKILL; 6 s more.
 *
 * <p>What is killed ({@code failover.kill}): {@code both} node1's app server and its agent
 * together; {@code server} the app server alone, its agent goes on holding and replicating what it
 * received; {@code agent} the agent alone, restarted 2 s later on its ports as a supervisor would
 * while the app server serves its sessions locally, and 5 s after the restarted agent is ready,
 * node1's app server and agent together. The filter writes a session whose writes the gone agent
 * did not apply whole to the agent at its next write, so by then every session of node1 is back at
 * the agents as far as the replication mode promises.
 *
 * <p>What the users do ({@code failover.flow}): {@code counter} loops {@code GET /counter?pad=1024}
 * (every request writes 1 KiB of fresh bytes to the session); each user's history gives, for a user
 * that was on node1, the highest count it saw before its first response from node2 ({@code cLast})
 * and the count of that response ({@code cFirst}): the session went back by
 * {@code max(0, cLast + 1 - cFirst)} writes. {@code login} logs in ({@code GET /login?user=...}, a
 * new name each time, on the same session) and then only reads ({@code GET /whoami}) for 20
 * requests, over and over; a user whose {@code /whoami} names another user than its last login
 * answered was logged out.
 *
 * <p>In {@code async} mode a kill -9 may lose the writes of the last {@link #MAX_REPLICATION_LAG_MS}
 * (the filter's intended default {@code max-replication-lag}: a response leaves only once every write
 * older than that was confirmed by the replicas), so the user's allowance is the number of its node1
 * answers to writes it received less than that plus {@link #KILL_SLACK_MS} before the kill, or after
 * it: a write is committed before its answer leaves, so a lost write's answer came within the window.
 * When the app server dies alone nothing may go back in either mode: an async response, too, leaves
 * only once the local agent holds the request's write. In {@code sync} mode nothing may go back,
 * nobody be logged out. In both: no fresh session, no
 * failed request (NGINX passes a GET whose node died to the other node), every user served after the
 * kill, users never on node1 never go back; with {@code agent}, node1 served while its agent was gone.
 *
 * <p>System properties: {@code failover.shapes} lists the runs as {@code mode/kill/flow}, comma
 * separated (by default one {@code async/both/counter} and one {@code sync/both/counter}: each test
 * method runs the shapes of its mode); {@code failover.server} the sample nodes' server for every
 * run, {@code tomcat11} or {@code tomcat9} ({@link SampleServer}); {@code failover.runs} runs of each
 * shape (1, at most {@link #MAX_RUNS}); {@code failover.kill-after} seconds of load before the
 * (first) kill, {@code 8} or a range {@code 6-10} for a random moment in it. Every run goes on a fresh
 * cluster; a run that breaks an assertion does not stop the others, the method fails at the end with
 * each one's reasons.
 *
 * <p>The server: {@code failover.server} when given, else {@code tomcat11} for the listed shapes;
 * the two default runs, those of {@code verify}, are split over both servers without costing a
 * third run: {@code async/both/counter} on Tomcat 11 and {@code sync/both/counter} on Tomcat 9. The
 * sync run goes to Tomcat 9 because its assertion is absolute (no write may go back), so a fault of
 * the javax filter there shows rather than hiding in the async allowance; Tomcat 11 keeps sync
 * failover in NginxFailoverIT.
 *
 * <p>The sample WAR's web.xml sets {@code replication-mode} to {@code sync}, so the async run passes
 * {@code --replication-mode async} to the launcher explicitly; the nodes' logs are checked for the
 * mode the filter actually runs in. Each run prints one {@code FAILOVER-LOAD} line, also written to
 * {@code target/failover-under-load.txt} with both nodes' {@code /replication-status} and the problems
 * (sample-app/e2e/failover-campaign.sh reads it).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverUnderLoadIT {
    private static final int USERS = 100;
    private static final int PAD_BYTES = 1024;
    private static final int MAX_THINK_MS = 10;
    /** In the login flow, the reads after each login. */
    private static final int READS_PER_LOGIN = 20;
    private static final Duration LOAD_AFTER_KILL = Duration.ofSeconds(6);
    /** Kill target agent: how long the agent stays dead before it is started again. */
    private static final Duration AGENT_DOWN = Duration.ofSeconds(2);
    /** Kill target agent: from the restarted agent being ready to the kill of node1. */
    private static final Duration AGENT_BACK_BEFORE_KILL = Duration.ofSeconds(5);
    /** Kill target agent: the longest the restarted agent may take to be ready. */
    private static final Duration AGENT_READY_WITHIN = Duration.ofSeconds(40);
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
    static final int MAX_RUNS = 50;
    static final List<String> KILLS = List.of("both", "server", "agent");
    static final List<String> FLOWS = List.of("counter", "login");

    private static final Pattern SESSION = Pattern.compile("\"session\":\"([^\"]+)\"");
    private static final Pattern NODE = Pattern.compile("\"node\":\"([^\"]*)\"");
    private static final Pattern COUNT = Pattern.compile("\"count\":(\\d+)");
    private static final Pattern USER = Pattern.compile("\"user\":(?:null|\"([^\"]*)\")");
    private static final Pattern AGENT_BACK = Pattern.compile("answers again after (\\d+) ms; (\\d+) writes were not"
            + " replicated");

    /** One scenario: the filter's replication mode, what is killed, what the users do, on which server. */
    record Shape(String mode, String kill, String flow, SampleServer server) {
        static Shape parse(String s, SampleServer server) {
            String[] p = s.trim().split("/");
            if (p.length != 3 || !List.of("async", "sync").contains(p[0]) || !KILLS.contains(p[1])
                    || !FLOWS.contains(p[2])) {
                throw new IllegalArgumentException("failover.shapes: mode/kill/flow with mode async|sync, kill "
                        + String.join("|", KILLS) + ", flow " + String.join("|", FLOWS) + "; was " + s);
            }
            return new Shape(p[0], p[1], p[2], server);
        }

        @Override
        public String toString() {
            return mode + "/" + kill + "/" + flow + " on " + server;
        }
    }

    /**
     * An answered request: when it was sent, and what the session said; {@code count} -1 and
     * {@code user} the name for the login flow, {@code login} for a login rather than a read.
     */
    private record Answer(long startNanos, long endNanos, String session, String node, int count, String user,
                          boolean login) {
    }

    /** A request without a 200: its status (0 without an answer) and body, or the exception. */
    private record Failure(long startNanos, long endNanos, int status, String what) {
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

        void get(HttpClient http, URI uri, boolean login) throws InterruptedException {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).GET();
            if (cookie != null) {
                b.header("Cookie", cookie);
            }
            long start = System.nanoTime();
            HttpResponse<String> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                failures.add(new Failure(start, System.nanoTime(), 0, e.toString()));
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
                failures.add(new Failure(start, end, r.statusCode(), r.statusCode() + " "
                        + body.substring(0, Math.min(120, body.length()))));
                return;
            }
            Matcher count = COUNT.matcher(r.body());
            Matcher user = USER.matcher(r.body());
            answers.add(new Answer(start, end, group(SESSION, r.body()), group(NODE, r.body()),
                    count.find() ? Integer.parseInt(count.group(1)) : -1, user.find() ? user.group(1) : null, login));
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
        runShapes("async");
    }

    @Test
    @Order(2)
    void syncLosesNothing() throws Exception {
        runShapes("sync");
    }

    /** The shapes of {@code failover.shapes} in this mode, or this mode's default run. */
    static List<Shape> shapes(String mode) {
        String listed = System.getProperty("failover.shapes", "").trim();
        String server = System.getProperty("failover.server", "").trim();
        if (listed.isEmpty()) {
            SampleServer defaultServer = mode.equals("sync") ? SampleServer.TOMCAT9 : SampleServer.TOMCAT11;
            return List.of(new Shape(mode, "both", "counter",
                    server.isEmpty() ? defaultServer : SampleServer.byId(server)));
        }
        SampleServer all = server.isEmpty() ? SampleServer.TOMCAT11 : SampleServer.byId(server);
        return Arrays.stream(listed.split("[,\\s]+")).filter(x -> !x.isEmpty()).map(x -> Shape.parse(x, all))
                .filter(x -> x.mode.equals(mode)).toList();
    }

    static int runsPerShape() {
        int runs = Integer.parseInt(System.getProperty("failover.runs", "1").trim());
        if (runs < 1 || runs > MAX_RUNS) {
            throw new IllegalArgumentException("failover.runs: 1 to " + MAX_RUNS + ", was " + runs);
        }
        return runs;
    }

    /** Milliseconds of load before the first kill: {@code failover.kill-after} seconds, or a random moment of a range. */
    static long killAfterMs() {
        String v = System.getProperty("failover.kill-after", "8").trim();
        String[] range = v.split("-");
        long lo = Math.round(Double.parseDouble(range[0]) * 1000);
        long hi = range.length > 1 ? Math.round(Double.parseDouble(range[1]) * 1000) : lo;
        if (range.length > 2 || lo < 1000 || hi < lo || hi > 120_000) {
            throw new IllegalArgumentException("failover.kill-after: seconds (1 to 120) or a range lo-hi, was " + v);
        }
        return lo == hi ? lo : ThreadLocalRandom.current().nextLong(lo, hi + 1);
    }

    private void runShapes(String mode) throws Exception {
        List<Shape> shapes = shapes(mode);
        assumeFalse(shapes.isEmpty(), "failover.shapes lists no " + mode + " shape");
        int runs = runsPerShape();
        String stressNg = stressNgBinary();
        LocalCluster.nginxBinary();
        List<String> broken = new ArrayList<>();
        for (Shape shape : shapes) {
            for (int i = 1; i <= runs; i++) {
                long killAfterMs = killAfterMs();
                String why;
                try {
                    why = run(shape, killAfterMs, stressNg);
                } catch (Exception | AssertionError e) {
                    // A cluster that did not come up counts as a broken run; the others still run.
                    String line = "FAILOVER-LOAD mode=" + shape.mode + " kill=" + shape.kill + " flow=" + shape.flow
                            + " server=" + shape.server + " result=ERROR users=" + USERS + " kill_after_ms="
                            + killAfterMs + " error=" + e.getClass().getSimpleName() + " reason: "
                            + oneLine(e.getMessage(), 160);
                    System.out.println(line);
                    Files.createDirectories(RESULT.getParent());
                    Files.writeString(RESULT, line + "\nproblems (1):\n" + e + "\n\n", StandardOpenOption.CREATE,
                            StandardOpenOption.APPEND);
                    why = line + "\n" + e;
                }
                if (why != null) {
                    broken.add(shape + " run " + i + ": " + why);
                }
            }
        }
        if (!broken.isEmpty()) {
            throw new AssertionError(broken.size() + " of " + shapes.size() * runs + " runs broke their assertions:\n"
                    + String.join("\n\n", broken));
        }
    }

    /** Checks that pile up, so that one run reports every assertion it broke. */
    private static final class Checks {
        final List<String> broken = new ArrayList<>();

        void check(boolean ok, String what) {
            if (!ok) {
                broken.add(what);
            }
        }
    }

    /** One run on a fresh cluster: null when it kept every assertion, else why not. */
    private String run(Shape shape, long killAfterMs, String stressNg) throws Exception {
        String mode = shape.mode;
        boolean login = shape.flow.equals("login");
        long started = System.nanoTime();
        try (LocalCluster cluster = LocalCluster.oneCluster("failover-load-" + mode + "-" + shape.kill + "-"
                + shape.flow + "-" + shape.server, shape.server, Map.of("replication-mode", mode))) {
            for (String node : List.of("node1", "node2")) {
                String log = Files.readString(cluster.dir.resolve(node + ".log"));
                if (!log.contains(", " + mode + " replication,")) {
                    throw new IllegalStateException("the filter of " + node + " does not run in " + mode + " mode; "
                            + cluster.tail(node + ".log"));
                }
            }
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            URI counter = cluster.nginx("/counter?pad=" + PAD_BYTES);
            URI whoami = cluster.nginx("/whoami");
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
            long agentKillNanos = 0;
            long agentBackNanos = 0;
            String agentRestart = "";
            boolean allSessions;
            boolean hogRanThrough;
            String statusBefore;
            Process hog = null;
            long hogSeconds = TimeUnit.MILLISECONDS.toSeconds(killAfterMs) + LOAD_AFTER_KILL.toSeconds()
                    + (shape.kill.equals("agent") ? AGENT_DOWN.plus(AGENT_READY_WITHIN).plus(AGENT_BACK_BEFORE_KILL)
                    .toSeconds() : 0) + HOG_MARGIN_S;
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
                                if (!login) {
                                    u.get(http, counter, false);
                                } else if (i % (READS_PER_LOGIN + 1) == 0) {
                                    u.get(http, cluster.nginx("/login?user=u" + u.n + "-" + i), true);
                                } else {
                                    u.get(http, whoami, false);
                                }
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
                long firstKill = loadStart + TimeUnit.MILLISECONDS.toNanos(killAfterMs);
                if (!allSessions) {
                    statusBefore = "(no load: not every user got a session)";
                    killNanos = loadStart;
                } else {
                    long finalKill = firstKill;
                    if (shape.kill.equals("agent")) {
                        sleepUntil(firstKill);
                        agentKillNanos = System.nanoTime();
                        cluster.killAgent("node1");
                        sleepUntil(agentKillNanos + AGENT_DOWN.toNanos());
                        try {
                            cluster.restartAgent("node1", AGENT_READY_WITHIN);
                            agentBackNanos = System.nanoTime();
                        } catch (RuntimeException | AssertionError e) {
                            agentRestart = "the restarted agent of node1 was not ready within "
                                    + AGENT_READY_WITHIN.toSeconds() + " s: " + e.getMessage();
                            agentBackNanos = System.nanoTime();
                        }
                        finalKill = agentBackNanos + AGENT_BACK_BEFORE_KILL.toNanos();
                    }
                    sleepUntil(finalKill - TimeUnit.MILLISECONDS.toNanos(500));
                    statusBefore = "node1 " + status(http, cluster.node("node1", "/replication-status")) + "\nnode2 "
                            + status(http, cluster.node("node2", "/replication-status"))
                            + "\nagent node1 " + agentCounters(http, cluster.agentMetrics("node1"))
                            + "\nagent node2 " + agentCounters(http, cluster.agentMetrics("node2"));
                    sleepUntil(finalKill);
                    killNanos = System.nanoTime();
                    if (shape.kill.equals("server")) {
                        cluster.killServer("node1");
                    } else {
                        cluster.kill("node1");
                    }
                    sleepUntil(killNanos + LOAD_AFTER_KILL.toNanos());
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

            // An app server killed alone leaves its agent holding every write it answered: nothing may go back.
            boolean lagAllowed = mode.equals("async") && !shape.kill.equals("server");
            Figures f = login ? loginFigures(users, killNanos, lagAllowed) : figures(users, killNanos, lagAllowed);
            long unfinished = threads.stream().filter(Thread::isAlive).count();
            long answeredInLoad = 0;
            long requests = 0;
            long requestsBeforeKill = 0;
            long servedLocally = 0;
            long status503 = 0;
            for (User u : users) {
                for (Answer a : List.copyOf(u.answers)) {
                    requests++;
                    requestsBeforeKill += a.startNanos < killNanos ? 1 : 0;
                    answeredInLoad += a.startNanos >= loadStart ? 1 : 0;
                    servedLocally += agentKillNanos != 0 && a.node.equals("node1") && a.startNanos > agentKillNanos
                            && a.endNanos < agentBackNanos ? 1 : 0;
                }
                for (Failure x : List.copyOf(u.failures)) {
                    requests++;
                    requestsBeforeKill += x.startNanos < killNanos ? 1 : 0;
                    status503 += x.status == 503 ? 1 : 0;
                }
            }
            String agentFigures = "";
            if (shape.kill.equals("agent")) {
                Matcher back = AGENT_BACK.matcher(Files.readString(cluster.dir.resolve("node1.log")));
                String filterBack = "none";
                String notReplicated = "none";
                while (back.find()) {
                    filterBack = back.group(1);
                    notReplicated = back.group(2);
                }
                agentFigures = " agent_down_ms=" + TimeUnit.NANOSECONDS.toMillis(agentBackNanos - agentKillNanos)
                        + " served_locally=" + servedLocally + " filter_gone_ms=" + filterBack
                        + " not_replicated=" + notReplicated;
            }
            double loadSeconds = Math.max(1e-9, (stopNanos - loadStart) / 1e9);
            Checks c = new Checks();
            c.check(allSessions, "only " + (USERS - everyoneHasASession.getCount()) + " of " + USERS
                    + " users got a session within 60 s");
            c.check(agentRestart.isEmpty(), agentRestart);
            c.check(hogRanThrough, "stress-ng did not run through the load (" + String.join(" ", hogCmd) + "): "
                    + cluster.tail("stress-ng.log"));
            c.check(unfinished == 0, unfinished + " user threads still running after the stop");
            c.check(f.failedOver > 0, "no user was on node1 and went on on node2");
            c.check(f.freshSessions == 0, f.freshSessions + " users with a fresh session");
            c.check(f.stuck == 0, f.stuck + " users not served after the kill");
            c.check(f.failedRequests == 0, f.failedRequests + " requests without a 200 (NginxFailoverIT tolerates"
                    + " no failed GET either)");
            c.check(f.crashes == 0, f.crashes + " user threads crashed");
            if (shape.kill.equals("agent") && agentRestart.isEmpty()) {
                c.check(servedLocally > 0, "node1 served no request while its agent was gone");
            }
            String scope = (login ? "logged out" : "went back") + (lagAllowed ? " beyond the writes of the last "
                    + (MAX_REPLICATION_LAG_MS + KILL_SLACK_MS) + " ms before the kill, or elsewhere" : "");
            c.check(f.overAllowance == 0, mode + ": " + f.overAllowance + " users " + scope);
            String line = "FAILOVER-LOAD mode=" + mode + " kill=" + shape.kill + " flow=" + shape.flow
                    + " server=" + shape.server + " result=" + (c.broken.isEmpty() ? "PASS" : "FAIL")
                    + " users=" + USERS + " requests=" + requests
                    + " requests_before_kill=" + requestsBeforeKill + " failed_over=" + f.failedOver
                    + " fresh_sessions=" + f.freshSessions + " went_back=" + f.wentBack + " back_max=" + f.backMax
                    + " logged_out=" + f.loggedOut + " allowance_max=" + f.allowanceMax
                    + " over_allowance=" + f.overAllowance + " stuck=" + f.stuck + " failed_requests="
                    + f.failedRequests + " status_503=" + status503 + " kill_after_ms=" + killAfterMs + agentFigures
                    + " req_per_s=" + Math.round(answeredInLoad / loadSeconds)
                    + " pad_bytes=" + (login ? 0 : PAD_BYTES) + " hog=stress-ng " + String.join(" ", HOG)
                    + " load_ms=" + TimeUnit.NANOSECONDS.toMillis(stopNanos - loadStart)
                    + " duration_ms=" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            System.out.println(line);
            List<String> problems = new ArrayList<>(c.broken);
            problems.addAll(f.problems);
            Files.createDirectories(RESULT.getParent());
            Files.writeString(RESULT, line + "\nlogs: " + cluster.dir + "\nreplication-status before the kill:\n"
                    + statusBefore + "\nreplication-status after the load:\n" + statusAfter + "\nproblems ("
                    + problems.size() + "):\n" + String.join("\n", problems.subList(0, Math.min(500,
                    problems.size()))) + "\n\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            if (c.broken.isEmpty()) {
                return null;
            }
            return line + "\n" + String.join("\n", problems.subList(0, Math.min(PROBLEMS_SHOWN,
                    problems.size()))) + (problems.size() > PROBLEMS_SHOWN ? "\n... " + (problems.size()
                    - PROBLEMS_SHOWN) + " more in " + RESULT.toAbsolutePath() : "")
                    + "\nreplication-status before the kill:\n" + statusBefore + "\nafter the load:\n" + statusAfter
                    + "\n" + cluster.tail("node1.log") + "\n" + cluster.tail("node2.log") + "\n"
                    + cluster.tail("nginx/error.log");
        }
    }

    /** What the users' histories say about the failover. */
    private static final class Figures {
        int failedOver;
        int freshSessions;
        int wentBack;
        int backMax;
        int loggedOut;
        int allowanceMax;
        int overAllowance;
        int stuck;
        int failedRequests;
        int crashes;
        final List<String> problems = new ArrayList<>();
    }

    /**
     * What every flow checks alike: failed requests, crashes, users never or no longer answered,
     * a session that changed. Returns the index of the user's failover (its first answer from node2
     * after one from node1), -1 without one, or -2 for a user never answered.
     */
    private static int common(Figures f, User u, List<Answer> answers, long killNanos, List<String> issues) {
        List<Failure> failures = List.copyOf(u.failures);
        f.failedRequests += failures.size();
        for (Failure x : failures) {
            f.problems.add("user " + u.n + ": request failed, sent " + relMs(x.startNanos, killNanos)
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
            return -2;
        }
        int failover = -1;
        boolean onNode1 = false;
        for (int i = 0; i < answers.size() && failover < 0; i++) {
            onNode1 |= answers.get(i).node.equals("node1");
            if (onNode1 && answers.get(i).node.equals("node2")) {
                failover = i;
            }
        }
        boolean servedAfterKill = answers.stream().anyMatch(a -> a.startNanos > killNanos);
        Answer last = answers.get(answers.size() - 1);
        if (!servedAfterKill || (onNode1 && failover < 0)) {
            f.stuck++;
            issues.add("stuck: no answer " + (onNode1 && failover < 0 ? "from node2" : "to a request sent after"
                    + " the kill") + ", last " + (last.count >= 0 ? last.count : last.user) + " on " + last.node
                    + ", " + failures.size() + " failed");
        }
        String session = answers.get(0).session;
        for (Answer a : answers) {
            if (!a.session.equals(session)) {
                f.freshSessions++;
                issues.add("session " + session + " became " + a.session + " (on " + a.node + ", sent "
                        + relMs(a.startNanos, killNanos) + " ms from the kill)");
                break;
            }
        }
        return failover;
    }

    private static String who(User u, List<Answer> answers, int failover) {
        boolean onNode1 = answers.stream().anyMatch(a -> a.node.equals("node1"));
        return "user " + u.n + " (" + (failover >= 0 ? "node1 -> node2" : onNode1 ? "node1" : "node2 only") + "): ";
    }

    /**
     * The login flow: each read must name the user of the last login answered. A user for whom
     * it does not was logged out; in async mode that is allowed only at the failover, for a last
     * login answered by node1 within the replication lag window before the kill, or after it.
     */
    private static Figures loginFigures(List<User> users, long killNanos, boolean lagAllowed) {
        Figures f = new Figures();
        long windowStart = killNanos - TimeUnit.MILLISECONDS.toNanos(MAX_REPLICATION_LAG_MS + KILL_SLACK_MS);
        for (User u : users) {
            List<Answer> answers = List.copyOf(u.answers);
            List<String> issues = new ArrayList<>();
            int failover = common(f, u, answers, killNanos, issues);
            if (failover == -2) {
                continue;
            }
            f.failedOver += failover >= 0 ? 1 : 0;
            Answer lastLogin = null;
            boolean loggedOut = false;
            boolean beyond = false;
            int inWindow = 0;
            for (int i = 0; i < answers.size(); i++) {
                Answer a = answers.get(i);
                if (a.login) {
                    lastLogin = a;
                    inWindow += a.node.equals("node1") && a.endNanos > windowStart && (failover < 0 || i < failover)
                            ? 1 : 0;
                    continue;
                }
                String expected = lastLogin == null ? null : lastLogin.user;
                if (expected == null || expected.equals(a.user)) {
                    continue;
                }
                boolean allowed = lagAllowed && failover >= 0 && i >= failover && lastLogin.node.equals("node1")
                        && lastLogin.endNanos > windowStart;
                if (!loggedOut || (!allowed && !beyond)) {
                    issues.add("logged out: " + a.user + " instead of " + expected + " on " + a.node + ", sent "
                            + relMs(a.startNanos, killNanos) + " ms from the kill; that login answered by "
                            + lastLogin.node + " " + relMs(lastLogin.endNanos, killNanos) + " ms from the kill"
                            + (allowed ? " (within the replication lag window)" : ""));
                }
                loggedOut = true;
                beyond |= !allowed;
            }
            f.allowanceMax = Math.max(f.allowanceMax, lagAllowed ? inWindow : 0);
            f.loggedOut += loggedOut ? 1 : 0;
            f.overAllowance += beyond ? 1 : 0;
            if (!issues.isEmpty()) {
                f.problems.add(who(u, answers, failover) + String.join("; ", issues));
            }
        }
        return f;
    }

    /**
     * The counter flow.
     *
     * @param lagAllowed whether a failed-over user may go back by the writes of the replication
     *     lag window (async) or by none (sync)
     */
    private static Figures figures(List<User> users, long killNanos, boolean lagAllowed) {
        Figures f = new Figures();
        long windowStart = killNanos - TimeUnit.MILLISECONDS.toNanos(MAX_REPLICATION_LAG_MS + KILL_SLACK_MS);
        for (User u : users) {
            List<Answer> answers = List.copyOf(u.answers);
            List<String> issues = new ArrayList<>();
            int failover = common(f, u, answers, killNanos, issues);
            if (failover == -2) {
                continue;
            }
            boolean fresh = !issues.isEmpty() && issues.get(issues.size() - 1).startsWith("session ");
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
                    f.freshSessions++;
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
            if (!issues.isEmpty()) {
                f.problems.add(who(u, answers, failover) + String.join("; ", issues));
            }
        }
        return f;
    }

    private static String oneLine(String s, int max) {
        String line = String.valueOf(s).replaceAll("\\s+", " ").replace('=', ':');
        return line.length() <= max ? line : line.substring(0, max) + "...";
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

    /** The agent's counters and gauges that tell where a write went, as name=value pairs. */
    private static String agentCounters(HttpClient http, URI metrics) {
        String body = status(http, metrics);
        StringBuilder sb = new StringBuilder();
        for (String line : body.split("\n")) {
            if (line.matches("session_agent_(deltas|sync|writes|grpc_(unauthenticated|invalid)|members|frames_dropped"
                    + "|acks|view|replication|limits|tombstones|conflicts|reads|sessions|unacked)\\S* .*")
                    && !line.endsWith(" 0.0") && !line.contains("_bucket{")) {
                sb.append(line.replace(" ", "=")).append(' ');
            }
        }
        return sb.length() == 0 ? body.substring(0, Math.min(200, body.length())) : sb.toString().trim();
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
