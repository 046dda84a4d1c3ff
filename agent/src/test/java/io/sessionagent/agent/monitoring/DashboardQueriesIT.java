package io.sessionagent.agent.monitoring;

import io.grpc.StatusRuntimeException;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.testing.AgentProcess;
import io.sessionagent.agent.testing.Networks;
import io.sessionagent.agent.testing.OperatorClient;
import io.sessionagent.agent.testing.SessionClient;
import io.sessionagent.proto.v1.Access;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.InvalidateRequest;
import io.sessionagent.proto.v1.MemberState;
import io.sessionagent.proto.v1.TouchRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every query of the Grafana dashboard, run by a real Prometheus against real agents: two agent
 * processes under load for about 20 s (async and sync writes, touches, reads, invalidations,
 * invalid calls, stale and oversized writes, garbage datagrams), a third agent joining by state
 * transfer, replication switched off and on; Prometheus scrapes the three every second. Then each
 * {@code targets[].expr} of the dashboard, its variables put in, must answer with at least one
 * series, carrying the labels its legend names.
 *
 * <p>Needs the {@code prometheus} binary ({@code apt-get install prometheus}). Without it the test
 * is skipped, unless the environment variable CI is set, where it fails instead.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DashboardQueriesIT {
    private static final Path LOGS = Path.of("target", "dashboard-logs");
    private static final Duration LOAD = Duration.ofSeconds(20);
    private static final Pattern LEGEND_LABEL = Pattern.compile("\\{\\{\\s*(\\w+)\\s*}}");

    private static Path prometheusBinary;

    @TempDir
    Path prometheusDir;

    private final Map<String, String> settings = Networks.loopbackCluster("dashboard-" + System.nanoTime());
    private final List<AgentProcess> agents = new ArrayList<>();
    private PrometheusProcess prometheus;

    @RegisterExtension
    final TestWatcher printLogsOnFailure = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (prometheus != null) {
                System.out.println("--- prometheus log\n" + prometheus.logTail());
            }
            for (AgentProcess a : agents) {
                System.out.println("--- " + a.nodeName() + " log\n" + a.logTail());
            }
        }
    };

    @BeforeAll
    static void requirePrometheus() {
        String jar = System.getProperty("sessionagent.jar");
        String reason = jar == null ? "system property sessionagent.jar is not set (run through failsafe)"
                : !Files.isRegularFile(Path.of(jar)) ? "agent jar " + jar + " does not exist"
                : PrometheusProcess.binary().isEmpty()
                ? "no prometheus binary on PATH or in /usr/bin (apt-get install prometheus)" : null;
        if (reason != null) {
            String ci = System.getenv("CI");
            if (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) {
                fail("the dashboard queries cannot be run against Prometheus, and CI is set: " + reason);
            }
            assumeTrue(false, "dashboard queries skipped: " + reason);
        }
        prometheusBinary = PrometheusProcess.binary().orElseThrow();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        // Every process ends, whatever failed before.
        try {
            if (prometheus != null) {
                prometheus.close();
            }
        } finally {
            for (AgentProcess a : agents) {
                try {
                    a.close();
                } catch (RuntimeException e) {
                    System.out.println("closing " + a.nodeName() + ": " + e);
                }
            }
        }
    }

    @Test
    void everyDashboardQueryAnswersWithSeries() throws Exception {
        Dashboard dashboard = Dashboard.load();
        settings.put("max-session-bytes", "64KiB");
        int[] ports = distinctFreePorts(3);
        List<String> targets = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1], "127.0.0.1:" + ports[2]);

        prometheus = PrometheusProcess.start(prometheusBinary, prometheusDir, targets);
        AgentProcess a = start("dash-a", ports[0]);
        AgentProcess b = start("dash-b", ports[1]);
        prometheus.awaitReady(Duration.ofSeconds(20));
        a.awaitReady(Duration.ofSeconds(30));
        b.awaitReady(Duration.ofSeconds(30));

        Load load = new Load(a, b);
        load.run(ports[2]);
        AgentProcess c = agents.get(2);
        System.out.println("DASHBOARD-LOAD " + load.summary());

        awaitScrapedAfter(System.currentTimeMillis() + 1_500, Duration.ofSeconds(10));
        List<Map<String, Object>> up = prometheus.series("up{job=\"" + PrometheusProcess.JOB + "\"}");
        assertThat(up).hasSize(3);
        for (Map<String, Object> s : up) {
            assertThat(PrometheusProcess.value(s)).as("up of " + PrometheusProcess.labels(s)).isEqualTo(1.0);
        }
        assertThat(c.viewOrNull()).isNotNull();
        assertLoadWasSeen(b);

        // The template variables: label_values(expr, label) must find the job and the three agents.
        for (Dashboard.LabelValuesVariable v : dashboard.labelValuesVariables()) {
            Set<String> values = new LinkedHashSet<>();
            for (Map<String, Object> s : prometheus.series(Dashboard.substitute(v.expr()))) {
                values.add(PrometheusProcess.labels(s).get(v.label()));
            }
            System.out.println("DASHBOARD-VARIABLE " + v.name() + " " + values);
            assertThat(values).as("values of $" + v.name()).doesNotContainNull()
                    .hasSize(v.label().equals("instance") ? 3 : 1);
        }

        List<String> defects = new ArrayList<>();
        List<String> zeroOnly = new ArrayList<>();
        for (Dashboard.Query q : dashboard.queries()) {
            String promql = q.promql();
            List<Map<String, Object>> series;
            try {
                series = prometheus.series(promql);
            } catch (AssertionError e) {
                System.out.println("DASHBOARD-QUERY error " + promql);
                defects.add(q.panel() + " " + q.refId() + ": " + e.getMessage());
                continue;
            }
            System.out.println("DASHBOARD-QUERY " + series.size() + " " + promql);
            if (series.isEmpty()) {
                defects.add(q.panel() + " " + q.refId() + ": no series for " + promql);
                continue;
            }
            Matcher legend = LEGEND_LABEL.matcher(q.legend());
            while (legend.find()) {
                for (Map<String, Object> s : series) {
                    if (!PrometheusProcess.labels(s).containsKey(legend.group(1))) {
                        defects.add(q.panel() + " " + q.refId() + ": legend names " + legend.group(1)
                                + ", not a label of " + PrometheusProcess.labels(s));
                    }
                }
            }
            if (series.stream().map(PrometheusProcess::value).noneMatch(v -> v != 0 && !v.isNaN())) {
                zeroOnly.add(promql);
            }
        }
        System.out.println("DASHBOARD-QUERIES " + dashboard.queries().size() + " expressions, "
                + defects.size() + " defects, " + zeroOnly.size() + " with only zero or NaN values now:");
        zeroOnly.forEach(e -> System.out.println("DASHBOARD-QUERY-ZERO " + e));
        assertThat(defects).isEmpty();
    }

    /** What the load was meant to bring about is in Prometheus, so the error and repair panels have data. */
    private void assertLoadWasSeen(AgentProcess switchedOff) throws Exception {
        String job = "job=\"" + PrometheusProcess.JOB + "\"";
        Map<String, String> totals = new TreeMap<>(Map.of(
                "state transfers", "sum(session_agent_state_transfer_completed_total{" + job + "})",
                "snapshots served", "sum(session_agent_snapshots_served_total{" + job + "})",
                "malformed datagrams", "sum(session_agent_frames_dropped_total{" + job + ", reason=\"malformed\"})",
                "limit rejections", "sum(session_agent_limits_rejected_total{" + job + "})",
                "invalid arguments", "sum(session_agent_grpc_invalid_argument_total{" + job + "})",
                "stale bases", "sum(session_agent_writes_stale_base_total{" + job + "})",
                "sync writes", "sum(session_agent_sync_writes_total{" + job + "})",
                "anti-entropy runs", "sum(session_agent_anti_entropy_runs_total{" + job + "})",
                // Over the whole test (its timeout is 2 minutes), however long a loaded machine made the load.
                "replication off (scrapes)", "count_over_time((session_agent_replication_enabled{" + job
                        + ", instance=\"127.0.0.1:" + switchedOff.metricsPort() + "\"} == 0)[3m:1s])"));
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, String> e : totals.entrySet()) {
            List<Map<String, Object>> r = prometheus.series(e.getValue());
            double v = r.isEmpty() ? 0 : PrometheusProcess.value(r.get(0));
            System.out.println("DASHBOARD-LOAD-SEEN " + e.getKey() + " " + v);
            if (!(v >= 1)) {
                missing.add(e.getKey());
            }
        }
        assertThat(missing).as("events of the load not in Prometheus").isEmpty();
    }

    private AgentProcess start(String name, int metricsPort) throws Exception {
        AgentProcess p = AgentProcess.start(name, settings, LOGS, metricsPort);
        agents.add(p);
        return p;
    }

    private static int[] distinctFreePorts(int n) throws Exception {
        Set<Integer> ports = new LinkedHashSet<>();
        for (int i = 0; i < 100 && ports.size() < n; i++) {
            ports.add(AgentProcess.freePort());
        }
        assertThat(ports).hasSize(n);
        return ports.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Waits until every target has been scraped at or after {@code epochMs}. */
    private void awaitScrapedAfter(long epochMs, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String q = "min(timestamp(up{job=\"" + PrometheusProcess.JOB + "\"} == 1)) and on() count(up{job=\""
                + PrometheusProcess.JOB + "\"} == 1) == 3";
        while (true) {
            List<Map<String, Object>> r = prometheus.series(q);
            if (!r.isEmpty() && PrometheusProcess.value(r.get(0)) * 1000 >= epochMs) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Prometheus did not scrape the three agents after the load within "
                        + timeout.toMillis() + " ms: " + prometheus.series("up") + "\n" + prometheus.logTail());
            }
            Thread.sleep(200);
        }
    }

    /** The traffic of the test, from one thread, with the cluster's events at fixed times. */
    private final class Load {
        private final List<AgentProcess> writers = new ArrayList<>();
        private final Map<String, Integer> outcomes = new TreeMap<>();
        private final byte[] value = new byte[200];
        private final byte[] oversized = new byte[100 * 1024];
        private int sessions;

        Load(AgentProcess a, AgentProcess b) {
            writers.add(a);
            writers.add(b);
        }

        void run(int joinerMetricsPort) throws Exception {
            AgentProcess b = writers.get(1);
            OperatorClient adminB = new OperatorClient(b.metricsPort());
            long start = System.nanoTime();
            AgentProcess joiner = null;
            int garbageSent = 0;
            boolean joinerWrites = false;
            boolean replicationOff = false;
            boolean replicationOn = false;
            long offLookedUpMs = 0;
            String offSeries = "session_agent_replication_enabled{job=\"" + PrometheusProcess.JOB
                    + "\", instance=\"127.0.0.1:" + b.metricsPort() + "\"} == 0";
            for (int i = 0; ; i++) {
                long elapsedMs = (System.nanoTime() - start) / 1_000_000;
                if (elapsedMs >= LOAD.toMillis() && replicationOn || elapsedMs >= LOAD.toMillis() + 20_000) {
                    break;
                }
                if (garbageSent == 0 && elapsedMs >= 3_000 || garbageSent == 1 && elapsedMs >= 16_000) {
                    sendGarbage();
                    garbageSent++;
                }
                // The join late enough that the per-interval panels still show it when queried.
                if (joiner == null && elapsedMs >= 9_000) {
                    joiner = start("dash-c", joinerMetricsPort);
                }
                if (joiner != null && !joinerWrites && elapsedMs >= 13_000) {
                    joiner.awaitReady(Duration.ofSeconds(20));
                    writers.add(joiner);
                    joinerWrites = true;
                }
                if (!replicationOff && elapsedMs >= 14_000) {
                    assertThat(adminB.post("/admin/replication?enabled=false").statusCode()).isEqualTo(200);
                    replicationOff = true;
                }
                // Back on only once Prometheus scraped it off: on a loaded machine a slow round (the
                // joiner's wait above) can otherwise bring both switches within one scrape interval.
                if (replicationOff && !replicationOn && elapsedMs >= 16_000 && elapsedMs - offLookedUpMs >= 250) {
                    offLookedUpMs = elapsedMs;
                    if (!prometheus.series(offSeries).isEmpty()) {
                        assertThat(adminB.post("/admin/replication?enabled=true").statusCode()).isEqualTo(200);
                        replicationOn = true;
                    }
                }
                step(i);
                Thread.sleep(2);
            }
            assertThat(joinerWrites).as("the joiner was ready and written to").isTrue();
            assertThat(replicationOn).as("replication back on after Prometheus saw it off").isTrue();
            assertThat(joiner.viewOrNull().getSelf().getState()).isEqualTo(MemberState.MEMBER_STATE_READY);
        }

        /** One round: a new session, and now and then the other calls a filter (or a broken one) makes. */
        private void step(int i) {
            SessionClient client = writers.get(i % writers.size()).client();
            String id = String.format("dash%08d", sessions++);
            call("write async", () -> client.write(id, 0, "k", value, Durability.DURABILITY_ASYNC));
            if (i % 10 == 0) {
                call("write sync", () -> client.write(id, 1, "s", value, Durability.DURABILITY_SYNC_ONE));
            }
            if (i % 20 == 0) {
                call("touch", () -> client.stub().touch(TouchRequest.newBuilder().addAccesses(Access.newBuilder()
                        .setId(id).setAccessTimeMs(System.currentTimeMillis())).build()));
                call("get", () -> client.get(id));
            }
            if (i % 40 == 0) {
                call("invalidate", () -> client.stub().invalidate(InvalidateRequest.newBuilder().setId(id).build()));
            }
            if (i % 50 == 0) {
                call("invalid id", () -> client.write("not a valid id!", 0, "k", value, Durability.DURABILITY_ASYNC));
                call("stale base", () -> client.write(String.format("dash%08d", 1), 0, "k", value,
                        Durability.DURABILITY_ASYNC));
            }
            if (i % 100 == 0) {
                call("oversized", () -> client.write(id + "x", 0, "big", oversized, Durability.DURABILITY_ASYNC));
            }
        }

        private void call(String what, Runnable call) {
            String outcome;
            try {
                call.run();
                outcome = "OK";
            } catch (StatusRuntimeException e) {
                outcome = e.getStatus().getCode().name();
            }
            outcomes.merge(what + " " + outcome, 1, Integer::sum);
        }

        /** Datagrams that are not frames at all, to the cluster's group: dropped as malformed. */
        private void sendGarbage() throws Exception {
            AgentConfig config = AgentConfig.fromMap(settings);
            try (MulticastSocket s = new MulticastSocket()) {
                s.setNetworkInterface(NetworkInterface.getByName("lo"));
                s.setTimeToLive(0);
                for (int k = 0; k < 5; k++) {
                    byte[] garbage = ("garbage datagram " + k).getBytes(StandardCharsets.UTF_8);
                    s.send(new DatagramPacket(garbage, garbage.length,
                            new InetSocketAddress(config.multicastGroup(), config.multicastPort())));
                }
            }
        }

        String summary() {
            return sessions + " sessions written; calls " + outcomes;
        }
    }
}
