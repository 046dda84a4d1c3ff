package io.sessionagent.agent.netns;

import io.sessionagent.agent.auth.Keys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.sessionagent.agent.netns.NetnsCluster.await;
import static io.sessionagent.agent.netns.NetnsCluster.sleep;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A soak of three agent processes in network namespaces: 5% of every packet arriving at each
 * node is dropped (multicast and the peer channel's TCP alike) from before the agents start to
 * the end; clients in every namespace keep updating sessions at a bounded rate in SYNC_ALL,
 * SYNC_ONE and ASYNC durability; meanwhile agents get {@code kill -9} and are started again
 * (they rejoin by state transfer, and are written to again once {@code /ready}), and nodes are
 * cut off the segment for longer than the failure timeout and reconnected.
 *
 * <p>Each session has one home node and is written only there, on top of the version the test
 * last saw acknowledged, as a sticky filter would. After the load: every node up and connected,
 * wait for one table on every agent, then read every session from every agent.
 *
 * <p>Asserted: every sync write answered REPLICATED is on every agent at its version, or under a
 * later version the test wrote; no agent holds a version the test did not write; and an async
 * write (answered APPLIED) is missing at the end only if its home agent was killed after
 * acknowledging it. The async writes lost that way are measured, with the time from each one's
 * acknowledgement to the kill that lost it. A sync write answered SYNC_TIMEOUT or NO_REPLICAS
 * promised nothing beyond its home agent and is counted with the async ones' kind of loss.
 *
 * <p>Length: {@code -Dsoak.minutes=N} or the environment variable {@code SOAK_MINUTES} (load
 * minutes, fractions allowed; {@code agent/soak.sh} runs 10 by default). Whatever the length, the
 * load goes on until one kill with its restart and one partition with its healing have happened;
 * {@code verify}'s default of 30 s is that and little more (which kind of acknowledgement the kill
 * waits for is drawn at random, the next kills take the other kinds in turn). Prints one
 * {@code SOAK ...} line, also written to {@code target/soak-result.txt}.
 */
class SoakIT {
    private static final int NODES = 3;
    private static final int LOSS_PERCENT = 5;
    /** verify's soak: long enough for one kill and one partition, each with its settling. */
    private static final Duration VERIFY_LOAD = Duration.ofSeconds(30);
    /** 80 per node: a few hundred writes per second over the cluster. */
    private static final int WRITES_PER_SECOND_PER_NODE = 80;
    private static final int SESSIONS_PER_NODE_AND_MODE = 40;
    private static final int MAX_IN_FLIGHT_PER_NODE = 48;
    /** A second attribute so that a session is a few hundred bytes, as small real sessions are. */
    private static final int PAD_BYTES = 200;
    /** A session whose home agent stays behind the test's version this long is written no more. */
    private static final long GIVE_UP_BEHIND_MS = 15_000;
    /**
     * The periodic anti-entropy is what repairs a record that a killed sender's last frames
     * carried to only some receivers (reliable-delivery.md, "Failure cases"); 10 s instead of 60 s
     * keeps the final convergence inside the CI budget.
     */
    private static final String[] SETTINGS = {"--anti-entropy-interval=10s"};

    /** What each kill in turn waits to see acknowledged by its victim. */
    private static final Mode[] KILL_AFTER = {Mode.ASYNC, Mode.SYNC_ONE, Mode.SYNC_ALL};

    private static Path jar;

    private NetnsCluster cluster;
    private final Random random = new Random();
    private final Object lock = new Object();
    private final List<Session> sessions = new ArrayList<>();
    private final List<Kill> kills = new ArrayList<>();
    private final boolean[] up = new boolean[NODES + 1];
    private final int[] inFlight = new int[NODES + 1];
    private final AtomicLong writeSeq = new AtomicLong();
    private final Map<String, Long> failedByStatus = new TreeMap<>();
    private final List<String> anomalies = new ArrayList<>();
    private final List<String> syncBehindAfterReady = new ArrayList<>();
    /** Writes acknowledged before a kill and missing on the restarted agent when it reported ready, by kind. */
    private final Map<String, Long> missingAtReady = new TreeMap<>();
    private final List<String> allAckedMissingAtReady = new ArrayList<>();
    private long staleReads;
    private long retired;
    private volatile boolean loadOn = true;
    /** Set while a kill waits for the next acknowledgement of its kind at its node; guarded by {@link #lock}. */
    private KillTrigger killTrigger;
    private final Map<String, Long> killsRightAfterAck = new TreeMap<>();

    private enum Mode {
        SYNC_ALL, SYNC_ONE, ASYNC;

        boolean sync() {
            return this != ASYNC;
        }
    }

    /** One acknowledged write: outcome APPLIED (async) or REPLICATED / SYNC_TIMEOUT / NO_REPLICAS (sync). */
    private record Write(long version, String value, String outcome, int acks, long ackMs) {
        boolean confirmed() {
            return outcome.equals("REPLICATED");
        }
    }

    private record Kill(int node, long atMs) {
    }

    private record KillTrigger(int node, Mode mode, CountDownLatch acked) {
    }

    /** A user's session, written only at its home node; all fields guarded by {@link #lock}. */
    private static final class Session {
        final String id;
        final int home;
        final Mode mode;
        /** The version the next write builds on: the last one the home agent was seen to commit. */
        long version;
        boolean inFlight;
        long blockedUntilMs;
        long behindSinceMs;
        boolean retired;
        /** Every value sent for a version; a write whose answer was lost may still have landed. */
        final Map<Long, Set<String>> attempted = new HashMap<>();
        final List<Write> acked = new ArrayList<>();

        Session(String id, int home, Mode mode) {
            this.id = id;
            this.home = home;
            this.mode = mode;
        }

        boolean wrote(long version, String value) {
            return attempted.getOrDefault(version, Set.of()).contains(value);
        }

        long highestConfirmed() {
            return acked.stream().filter(Write::confirmed).mapToLong(Write::version).max().orElse(0);
        }
    }

    @RegisterExtension
    final TestWatcher printLogsOnFailure = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (cluster != null) {
                cluster.printLogTails();
            }
        }
    };

    @BeforeAll
    static void requireNamespaces() {
        jar = NetnsCluster.requireNamespaces();
    }

    @AfterEach
    void tearDown() {
        loadOn = false;
        if (cluster != null) {
            cluster.close();
        }
    }

    static Duration loadDuration() {
        String minutes = System.getProperty("soak.minutes", System.getenv("SOAK_MINUTES"));
        if (minutes == null || minutes.isBlank()) {
            return VERIFY_LOAD;
        }
        Duration load = Duration.ofMillis(Math.round(Double.parseDouble(minutes.trim()) * 60_000));
        if (load.isNegative() || load.isZero()) {
            throw new IllegalArgumentException("soak.minutes / SOAK_MINUTES must be above 0: " + minutes);
        }
        return load;
    }

    @Test
    void writesUnderLossKillsAndPartitionsLoseNoConfirmedSyncWrite() throws Exception {
        long testStart = System.currentTimeMillis();
        Duration load = loadDuration();
        cluster = new NetnsCluster(jar, NODES);
        for (int i = 1; i <= NODES; i++) {
            cluster.net().dropIncomingAll(i, LOSS_PERCENT);
        }
        // With a cluster key, as a production cluster runs: every datagram and peer message sealed.
        Path keys = Files.createTempFile("soak-", ".keys");
        Files.writeString(keys, Keys.fileText(Keys.key(1, testStart)));
        keys.toFile().deleteOnExit();
        List<String> settings = new ArrayList<>(List.of(SETTINGS));
        settings.add("--cluster-key-file=" + keys);
        cluster.start(settings.toArray(String[]::new));
        for (int i = 1; i <= NODES; i++) {
            up[i] = true;
            for (Mode mode : Mode.values()) {
                for (int k = 0; k < SESSIONS_PER_NODE_AND_MODE; k++) {
                    sessions.add(new Session(String.format("soak-n%d-%s-%03d", i, mode.name().toLowerCase(), k), i, mode));
                }
            }
        }
        long setupMs = System.currentTimeMillis() - testStart;

        long loadStart = System.currentTimeMillis();
        long loadEnd = loadStart + load.toMillis();
        List<Thread> writers = new ArrayList<>();
        for (int i = 1; i <= NODES; i++) {
            int node = i;
            Thread t = new Thread(() -> writeLoop(node), "soak-writer-" + i);
            t.setDaemon(true);
            t.start();
            writers.add(t);
        }

        int restarts = 0;
        int partitions = 0;
        long longestCutMs = 0;
        boolean killNext = true;
        int firstKillAfter = random.nextInt(KILL_AFTER.length);
        // The first kill and the first partition always happen, under load however short it was set;
        // after them, each event with its settling takes well under 40 s, and none starts that could
        // outlast the load.
        while (restarts == 0 || partitions == 0 || System.currentTimeMillis() + 40_000 < loadEnd) {
            if (killNext) {
                killAndRestart(1 + random.nextInt(NODES),
                        KILL_AFTER[(firstKillAfter + restarts) % KILL_AFTER.length]);
                restarts++;
            } else {
                longestCutMs = Math.max(longestCutMs, partitionAndHeal(1 + random.nextInt(NODES)));
                partitions++;
            }
            killNext = !killNext;
            sleep(5_000 + random.nextInt(3_000));
        }
        sleep(Math.max(0, loadEnd - System.currentTimeMillis()));
        loadOn = false;
        for (Thread t : writers) {
            t.join(10_000);
        }
        long loadMs = System.currentTimeMillis() - loadStart;
        await(() -> {
            synchronized (lock) {
                return sessions.stream().noneMatch(s -> s.inFlight);
            }
        }, Duration.ofSeconds(30), "every write answered");

        cluster.awaitFullView(Duration.ofSeconds(30));
        long lastAck = lastAckMs();
        long convergedAt = cluster.awaitConvergence(-1, Duration.ofSeconds(90));
        long convergeMs = Math.max(0, convergedAt - lastAck);

        List<Map<String, String[]>> tables = new ArrayList<>();
        for (int i = 1; i <= NODES; i++) {
            tables.add(dump(i));
        }
        Report r = check(tables);

        long arrived = 0;
        long dropped = 0;
        for (int i = 1; i <= NODES; i++) {
            long[] c = cluster.net().udpLossCounters(i);
            arrived += c[0];
            dropped += c[1];
        }
        List<Map<String, String>> views = cluster.views();
        long totalMs = System.currentTimeMillis() - testStart;
        String summary = String.format("SOAK minutes=%.1f writes sync=%d async=%d kills=%d restarts=%d partitions=%d"
                        + " loss=%d%% key=sealed sync_lost=%d async_lost=%d/%d window_ms=%s"
                        + " kills_right_after_ack=%s | sync_degraded=%d degraded_lost=%d failed=%s stale_reads=%d retired=%d sessions=%d"
                        + " missing_at_ready=%s observed_loss=%.2f%% (%d of %d packets) longest_cut_ms=%d converge_ms=%d"
                        + " setup_s=%d total_s=%d%s",
                loadMs / 60_000.0, r.syncConfirmed, r.asyncAcked, kills.size(), restarts, partitions,
                LOSS_PERCENT, r.syncLost.size(), r.asyncLost, r.asyncAcked, r.windows(), killsRightAfterAck,
                r.syncDegraded, r.degradedLost, failedByStatus, staleReads, retired, sessions.size(), missingAtReady,
                arrived == 0 ? 0 : 100.0 * dropped / arrived, dropped, arrived, longestCutMs, convergeMs,
                setupMs / 1000, totalMs / 1000, counters(views));
        System.out.println(summary);
        if (!syncBehindAfterReady.isEmpty()) {
            System.out.println("SOAK sync sessions behind their confirmed version at a ready home agent ("
                    + syncBehindAfterReady.size() + "): " + syncBehindAfterReady.subList(0,
                    Math.min(10, syncBehindAfterReady.size())));
        }
        Files.writeString(jar.getParent().resolve("soak-result.txt"), summary + "\n", StandardCharsets.UTF_8);

        assertThat(anomalies).as("answers the protocol does not allow").isEmpty();
        assertThat(r.foreign).as("records holding a version or value the test never wrote").isEmpty();
        assertThat(r.syncLost).as("confirmed (REPLICATED) sync writes missing on some agent").isEmpty();
        assertThat(allAckedMissingAtReady).as("writes acked by every other node, missing on a restarted agent at ready")
                .isEmpty();
        assertThat(r.unexplained).as("async writes lost without a kill of their home agent after the ack").isEmpty();
        assertThat(kills).as("kills").isNotEmpty();
        assertThat(partitions).as("partitions").isPositive();
        assertThat(r.syncConfirmed).as("confirmed sync writes").isPositive();
        assertThat(r.asyncAcked).as("acknowledged async writes").isPositive();
        assertThat(100.0 * dropped / arrived).as("observed loss %").isBetween(3.0, 7.0);
    }

    // ---------------------------------------------------------------- load

    private void writeLoop(int node) {
        long intervalNs = 1_000_000_000L / WRITES_PER_SECOND_PER_NODE;
        long next = System.nanoTime();
        List<Session> mine = sessions.stream().filter(s -> s.home == node).toList();
        while (loadOn) {
            next += intervalNs;
            long waitNs = next - System.nanoTime();
            if (waitNs > 0) {
                sleep(waitNs / 1_000_000);
            } else if (-waitNs > 1_000_000_000L) {
                next = System.nanoTime(); // fell behind (a stalled machine): do not burst to catch up
            }
            Session s;
            long base;
            String value;
            synchronized (lock) {
                if (!up[node] || inFlight[node] >= MAX_IN_FLIGHT_PER_NODE) {
                    continue;
                }
                s = pickIdle(mine);
                if (s == null) {
                    continue;
                }
                s.inFlight = true;
                inFlight[node]++;
                base = s.version;
                value = "w" + writeSeq.incrementAndGet();
                s.attempted.computeIfAbsent(base + 1, v -> new HashSet<>()).add(value);
            }
            cluster.client(node).send("update " + s.id + " " + base + " " + s.mode.name() + " " + value + " " + PAD_BYTES)
                    .whenComplete((answer, error) -> onAnswer(s, base, value, answer, error));
        }
    }

    private Session pickIdle(List<Session> mine) {
        long now = System.currentTimeMillis();
        for (int tries = 0; tries < 8; tries++) {
            Session s = mine.get(random.nextInt(mine.size()));
            if (!s.inFlight && !s.retired && s.blockedUntilMs <= now) {
                return s;
            }
        }
        return null;
    }

    private void onAnswer(Session s, long base, String value, Map<String, String> answer, Throwable error) {
        if (error != null) {
            synchronized (lock) {
                anomalies.add(s.id + ": " + error.getMessage());
                release(s);
            }
            return;
        }
        String status = answer.get("status");
        if (status.equals("ABORTED")) {
            // The home agent's version is not the one the test built on: look at what it holds.
            cluster.client(s.home).send("get " + s.id).whenComplete((got, e) -> onResync(s, got, e));
            return;
        }
        synchronized (lock) {
            if (status.equals("OK")) {
                long version = Long.parseLong(answer.get("version"));
                String outcome = answer.get("outcome");
                boolean expected = s.mode.sync() ? !outcome.equals("APPLIED") : outcome.equals("APPLIED");
                if (version != base + 1 || !expected) {
                    anomalies.add(s.id + " " + s.mode + ": base " + base + " answered " + answer);
                }
                s.version = version;
                s.behindSinceMs = 0;
                Write w = new Write(version, value, outcome, Integer.parseInt(answer.get("acks")),
                        Long.parseLong(answer.get("ack_ms")));
                s.acked.add(w);
                KillTrigger k = killTrigger;
                if (k != null && k.node == s.home && k.mode == s.mode && (w.confirmed() || !s.mode.sync())) {
                    k.acked.countDown();
                }
            } else {
                // UNAVAILABLE while the agent is being killed, and the like: the write may or may not have landed.
                failedByStatus.merge(status, 1L, Long::sum);
                s.blockedUntilMs = System.currentTimeMillis() + 200;
            }
            release(s);
        }
    }

    private void onResync(Session s, Map<String, String> got, Throwable error) {
        synchronized (lock) {
            long now = System.currentTimeMillis();
            if (error != null) {
                failedByStatus.merge("get-failed", 1L, Long::sum);
                s.blockedUntilMs = now + 500;
            } else {
                long held = got.get("found").equals("true") ? Long.parseLong(got.get("version")) : 0;
                String value = got.getOrDefault("value", "");
                if (held > s.version) {
                    if (s.wrote(held, value)) {
                        s.version = held; // a write whose answer was lost had landed
                        s.behindSinceMs = 0;
                    } else {
                        anomalies.add(s.id + ": home agent holds version " + held + " value " + value
                                + " the test never wrote");
                        s.retired = true;
                    }
                } else if (held < s.version) {
                    // Behind: an async write lost with a killed agent, or one still on its way by
                    // anti-entropy. Writing on top would reuse a version number with other content,
                    // so the session waits, and is given up if the version does not come back.
                    staleReads++;
                    if (s.mode.sync() && s.highestConfirmed() > held) {
                        syncBehindAfterReady.add(s.id + "@node" + s.home + " holds " + held + " < confirmed "
                                + s.highestConfirmed());
                    }
                    if (s.behindSinceMs == 0) {
                        s.behindSinceMs = now;
                    } else if (now - s.behindSinceMs > GIVE_UP_BEHIND_MS) {
                        s.retired = true;
                        retired++;
                    }
                    s.blockedUntilMs = now + 1_000;
                }
            }
            release(s);
        }
    }

    private void release(Session s) {
        s.inFlight = false;
        inFlight[s.home]--;
    }

    private long lastAckMs() {
        synchronized (lock) {
            return sessions.stream().flatMap(s -> s.acked.stream()).mapToLong(Write::ackMs).max().orElse(0);
        }
    }

    // ---------------------------------------------------------------- faults

    /**
     * Kills the node's agent right after it acknowledged a write of the given kind (within a
     * fraction of a millisecond of the client receiving the answer), the moment a write is most
     * likely to exist on that agent only.
     */
    private void killAndRestart(int node, Mode afterAckOf) {
        CountDownLatch acked = new CountDownLatch(1);
        synchronized (lock) {
            killTrigger = new KillTrigger(node, afterAckOf, acked);
        }
        boolean triggered;
        try {
            triggered = acked.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        synchronized (lock) {
            killTrigger = null;
            up[node] = false;
        }
        long at = System.currentTimeMillis();
        cluster.kill(node);
        kills.add(new Kill(node, at));
        event("kill -9 node" + node + (triggered ? " right after an ack of " + afterAckOf : ""));
        if (triggered) {
            killsRightAfterAck.merge(afterAckOf.name(), 1L, Long::sum);
        }
        // Sometimes back before the others notice (failure-timeout 3 s), sometimes after they dropped it.
        sleep(1_000 + random.nextInt(5_000));
        cluster.startAgent(node);
        event("start node" + node);
        NodeClient c = cluster.client(node);
        await(() -> c.call("ready " + NetnsCluster.METRICS_PORT).get("status").equals("200"),
                Duration.ofSeconds(60), "node" + node + " ready after its restart");
        // Before the node's own sessions are written again: what did the rejoin bring back?
        event("node" + node + " ready");
        checkAtReady(node, at, dump(node));
        synchronized (lock) {
            up[node] = true;
        }
        cluster.awaitFullView(Duration.ofSeconds(30));
    }

    /**
     * Compares the table a restarted agent holds the moment it reports ready with the writes
     * confirmed before it was killed. A write REPLICATED with an ack from every other node was on
     * both survivors, so whichever of them sent the state transfer had it: it must be there. A
     * write confirmed by fewer (SYNC_ONE, or SYNC_ALL while a node was out of the view) may reach
     * the joiner only by the anti-entropy that follows READY; those are counted, not asserted.
     */
    private void checkAtReady(int node, long killedAt, Map<String, String[]> table) {
        synchronized (lock) {
            for (Session s : sessions) {
                String[] held = table.get(s.id);
                long version = held == null ? 0 : Long.parseLong(held[0]);
                s.acked.stream().filter(w -> w.ackMs < killedAt && w.version > version).forEach(w -> {
                    String key = w.confirmed() && w.acks == NODES - 1 ? "all_acked"
                            : w.confirmed() ? "partly_acked" : s.mode.sync() ? "degraded" : "async";
                    missingAtReady.merge(key, 1L, Long::sum);
                    if (key.equals("all_acked")) {
                        allAckedMissingAtReady.add(s.id + " v" + w.version + " (home node" + s.home + ", acked "
                                + (killedAt - w.ackMs) + " ms before node" + node + " was killed; node" + node
                                + " holds v" + version + " at ready)");
                    }
                });
            }
        }
    }

    /** Cuts the node off until both sides dropped each other, a little longer, then heals; returns the cut's length. */
    private long partitionAndHeal(int node) {
        long at = System.currentTimeMillis();
        cluster.net().setLink(node, false);
        event("cut node" + node);
        String name = "node" + node;
        await(() -> cluster.clients().stream().allMatch(c -> {
            String members = c.view().get("members");
            return c.node == node ? members.isEmpty() : !List.of(members.split(",")).contains(name);
        }), Duration.ofSeconds(20), name + " and the others dropped each other");
        sleep(2_000 + random.nextInt(3_000));
        cluster.net().setLink(node, true);
        event("reconnect node" + node);
        long cutMs = System.currentTimeMillis() - at;
        cluster.awaitFullView(Duration.ofSeconds(30));
        return cutMs;
    }

    private static void event(String what) {
        System.out.println("SOAK-EVENT " + LocalTime.now().truncatedTo(ChronoUnit.MILLIS) + " " + what);
    }

    // ---------------------------------------------------------------- the end

    /** id → {version, value} of every session node {@code i}'s agent holds. */
    private Map<String, String[]> dump(int node) {
        String listing = cluster.client(node).call("dump", Duration.ofSeconds(60)).get("sessions");
        Map<String, String[]> table = new HashMap<>();
        if (listing != null && !listing.isEmpty()) {
            for (String entry : listing.split(",")) {
                String[] parts = entry.split(":", 3);
                table.put(parts[0], new String[] {parts[1], parts[2]});
            }
        }
        return table;
    }

    private final class Report {
        long syncConfirmed;
        long syncDegraded;
        long degradedLost;
        long asyncAcked;
        long asyncLost;
        final List<String> syncLost = new ArrayList<>();
        final List<String> unexplained = new ArrayList<>();
        final List<String> foreign = new ArrayList<>();
        final List<Long> windowsMs = new ArrayList<>();

        String windows() {
            if (windowsMs.isEmpty()) {
                return "none";
            }
            List<Long> sorted = windowsMs.stream().sorted().toList();
            return "max:" + sorted.get(sorted.size() - 1) + ",median:" + sorted.get(sorted.size() / 2);
        }
    }

    private Report check(List<Map<String, String[]>> tables) {
        Report r = new Report();
        synchronized (lock) {
            for (Session s : sessions) {
                for (int i = 1; i <= NODES; i++) {
                    String[] held = tables.get(i - 1).get(s.id);
                    if (held != null && !s.wrote(Long.parseLong(held[0]), held[1])) {
                        r.foreign.add(s.id + "@node" + i + " version " + held[0] + " value " + held[1]);
                    }
                }
                for (Write w : s.acked) {
                    List<Integer> missingOn = new ArrayList<>();
                    for (int i = 1; i <= NODES; i++) {
                        String[] held = tables.get(i - 1).get(s.id);
                        long version = held == null ? 0 : Long.parseLong(held[0]);
                        boolean present = version > w.version || (version == w.version && held[1].equals(w.value));
                        if (!present) {
                            missingOn.add(i);
                        }
                    }
                    boolean lost = !missingOn.isEmpty();
                    if (s.mode.sync() && w.confirmed()) {
                        r.syncConfirmed++;
                        if (lost) {
                            r.syncLost.add(s.id + " " + s.mode + " v" + w.version + " acked at " + w.ackMs
                                    + " missing on nodes " + missingOn + killContext(s.home, w.ackMs));
                        }
                    } else if (s.mode.sync()) {
                        r.syncDegraded++;
                        if (lost) {
                            r.degradedLost++;
                        }
                    } else {
                        r.asyncAcked++;
                        if (lost) {
                            r.asyncLost++;
                            Kill k = killAfter(s.home, w.ackMs);
                            if (k == null) {
                                r.unexplained.add(s.id + " v" + w.version + " acked at " + w.ackMs
                                        + " missing on nodes " + missingOn);
                            } else {
                                r.windowsMs.add(Math.max(0, k.atMs - w.ackMs));
                            }
                        }
                    }
                }
            }
        }
        return r;
    }

    /**
     * The first kill of {@code node} at or after an acknowledgement. The ack time is taken in the
     * client when the answer arrived and the kill time just before SIGKILL, so an answer sent just
     * before the kill may carry a slightly later time: a second of slack covers that.
     */
    private Kill killAfter(int node, long ackMs) {
        return kills.stream().filter(k -> k.node == node && k.atMs >= ackMs - 1_000).findFirst().orElse(null);
    }

    private String killContext(int node, long ackMs) {
        Kill k = killAfter(node, ackMs);
        return k == null ? " (home never killed after the ack)" : " (home killed " + (k.atMs - ackMs) + " ms after the ack)";
    }

    private static String counters(List<Map<String, String>> views) {
        StringBuilder sb = new StringBuilder();
        for (String c : List.of("naks.sent", "retransmits.sent", "gaps.unrecoverable", "repairs.sessions",
                "anti_entropy.records", "state_transfer.completed", "state_transfer.records", "sync.timeouts",
                "members.failed")) {
            long sum = views.stream().mapToLong(v -> Long.parseLong(v.getOrDefault("c." + c, "0"))).sum();
            sb.append(' ').append(c).append('=').append(sum);
        }
        return sb.toString();
    }
}
