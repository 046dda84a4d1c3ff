package io.sessionagent.filter.jakarta;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.filter.core.metrics.FilterCounters;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The filter's counters as JMX attributes and Micrometer meters, in embedded Tomcat 11 with a real agent. */
@Isolated
class FilterMetricsTest {
    private static final List<String> METERS = List.of("session_filter.serialize", "session_filter.deltas.sent",
            "session_filter.delta.bytes", "session_filter.attributes.skipped",
            "session_filter.attributes.deserialize_failures", "session_filter.attributes.refused",
            "session_filter.agent.errors",
            "session_filter.agent.calls_skipped", "session_filter.failover.restores", "session_filter.failover.misses",
            "session_filter.failover.unavailable",
            "session_filter.cache.evictions", "session_filter.cache.misses",
            "session_filter.touches.sent", "session_filter.sessions.created", "session_filter.sessions.expired",
            "session_filter.writes.conflicts", "session_filter.writes.coalesced", "session_filter.writes.not_replicated",
            "session_filter.writes.unconfirmed", "session_filter.agent.stream_failures",
            "session_filter.backpressure.waits", "session_filter.backpressure.timeouts", "session_filter.sessions.local",
            "session_filter.agent.down", "session_filter.writes.pending", "session_filter.replication.lag");

    @TempDir
    Path baseDir;

    private final TestCluster cluster = new TestCluster("filter-metrics");
    private final List<Tomcat> tomcats = new ArrayList<>();
    private final MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws LifecycleException {
        for (Tomcat t : tomcats) {
            t.stop();
            t.destroy();
        }
        cluster.close();
    }

    /** An agent and a Tomcat whose /shop application runs the filter under the given name. */
    private final class Node {
        final Agent agent;
        final Tomcat tomcat;
        final Context context;
        final int port;

        Node(String route, String filterName, Map<String, String> params, String registryAttribute,
             MeterRegistry registry) throws Exception {
            agent = cluster.start("agent-" + route);
            agent.replicator().ready().get(15, TimeUnit.SECONDS);
            tomcat = new Tomcat();
            tomcat.setBaseDir(baseDir.resolve(route).toString());
            Connector connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            tomcat.setConnector(connector);
            context = tomcat.addContext("/shop", null);
            if (registry != null) {
                // As an application would, before the filters start.
                context.addServletContainerInitializer((classes, ctx) -> ctx.setAttribute(registryAttribute, registry),
                        null);
            }
            Tomcat.addServlet(context, "cart", new CartServlet());
            context.addServletMappingDecoded("/cart", "cart");
            FilterDef def = new FilterDef();
            def.setFilterName(filterName);
            def.setFilterClass(SessionReplicationFilter.class.getName());
            def.addInitParameter("agent-address", "127.0.0.1:" + agent.grpcPort());
            def.addInitParameter("route", route);
            params.forEach(def::addInitParameter);
            context.addFilterDef(def);
            FilterMap map = new FilterMap();
            map.setFilterName(filterName);
            map.addURLPattern("/*");
            context.addFilterMap(map);
            tomcat.start();
            tomcats.add(tomcat);
            port = connector.getLocalPort();
        }

        FilterCounters counters() {
            return (FilterCounters) context.getServletContext().getAttribute(SessionReplicationFilter.COUNTERS_ATTRIBUTE);
        }

        /** GET /shop/cart with the given cookie (none if null); returns the new cookie value, or the one sent. */
        String cart(String cookie) throws IOException, InterruptedException {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/shop/cart"))
                    .timeout(Duration.ofSeconds(10));
            if (cookie != null) {
                b.header("Cookie", "SASESSIONID=" + cookie);
            }
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            return r.headers().allValues("Set-Cookie").stream().filter(h -> h.startsWith("SASESSIONID="))
                    .map(h -> h.substring("SASESSIONID=".length(), h.indexOf(';'))).findFirst().orElse(cookie);
        }

        void stop() throws LifecycleException {
            tomcat.stop();
            tomcat.destroy();
            tomcats.remove(tomcat);
        }
    }

    private static ObjectName name(String filterName) throws Exception {
        return new ObjectName("io.sessionagent.filter:type=SessionReplicationFilter,context=/shop,name=" + filterName);
    }

    private long attribute(ObjectName name, String attribute) throws Exception {
        return ((Number) mbeans.getAttribute(name, attribute)).longValue();
    }

    @Test
    void jmxAttributesShowTheCountsAndTheMBeanGoesAwayWithTheFilter() throws Exception {
        Node node1 = new Node("node1", "replication-1", Map.of("replication-mode", "sync"), null, null);
        Node node2 = new Node("node2", "replication-2", Map.of(), null, null);
        ObjectName name1 = name("replication-1");
        ObjectName name2 = name("replication-2");

        MBeanInfo info = mbeans.getMBeanInfo(name1);
        Set<String> attributes = new TreeSet<>();
        for (MBeanAttributeInfo a : info.getAttributes()) {
            attributes.add(a.getName());
            assertThat(a.isReadable() && !a.isWritable()).as(a.getName() + " read-only").isTrue();
            assertThat(a.getDescription()).as(a.getName()).isNotBlank().isNotEqualTo(a.getName());
        }
        assertThat(attributes).containsExactlyInAnyOrder("SerializeTimeNanos", "Serializations", "DeltasSent",
                "DeltaBytes", "SkippedAttributes", "DeserializeFailures", "DeserializeFailuresByClass",
                "RefusedAttributes", "RefusedAttributesByClass", "AgentErrors", "AgentCallsSkipped",
                "FailoverRestores", "FailoverMisses", "FailoverUnavailable", "CacheEvictions", "CacheMisses",
                "TouchesSent", "SessionsCreated", "SessionsExpired",
                "WriteConflicts", "WritesCoalesced", "WritesNotReplicated", "WritesUnconfirmed", "StreamFailures",
                "BackpressureWaits", "BackpressureTimeouts", "LocalSessions", "AgentDown", "PendingWrites",
                "ReplicationLagMillis");

        String cookie = node1.cart(null);
        node1.cart(cookie);
        node1.cart(cookie);
        FilterCounters c1 = node1.counters();
        assertThat(attribute(name1, "SessionsCreated")).isEqualTo(1);
        assertThat(attribute(name1, "LocalSessions")).isEqualTo(1);
        assertThat(attribute(name1, "DeltasSent")).isEqualTo(c1.get(FilterCounter.DELTAS_SENT)).isEqualTo(3);
        assertThat(attribute(name1, "DeltaBytes")).isEqualTo(c1.get(FilterCounter.DELTA_BYTES)).isPositive();
        assertThat(attribute(name1, "Serializations")).isEqualTo(c1.get(FilterCounter.SERIALIZATIONS)).isPositive();
        assertThat(attribute(name1, "SerializeTimeNanos")).isEqualTo(c1.get(FilterCounter.SERIALIZE_NANOS)).isPositive();
        assertThat(attribute(name1, "SkippedAttributes")).as("the thread attribute").isEqualTo(c1.get(FilterCounter.SKIPPED_ATTRIBUTES))
                .isPositive();
        assertThat(attribute(name1, "AgentErrors")).isZero();

        // Node 2 has never seen the session: it restores it from its agent (node 1 wrote synchronously).
        node2.cart(cookie);
        assertThat(attribute(name2, "FailoverRestores")).isEqualTo(1);
        assertThat(attribute(name2, "FailoverMisses")).isZero();
        assertThat(attribute(name2, "SessionsCreated")).isZero();
        node2.cart("unknownunknownunknownunkno1.node1");
        assertThat(attribute(name2, "FailoverMisses")).isEqualTo(1);

        cluster.stop(node2.agent);
        node2.cart(cookie);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (attribute(name2, "WritesNotReplicated") == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(attribute(name2, "WritesNotReplicated")).isEqualTo(node2.counters().get(FilterCounter.WRITES_NOT_REPLICATED))
                .isPositive();
        assertThat(attribute(name2, "StreamFailures")).isPositive();
        assertThat(attribute(name2, "AgentDown")).isEqualTo(1);

        node2.stop();
        assertThat(mbeans.isRegistered(name2)).isFalse();
        assertThat(mbeans.isRegistered(name1)).isTrue();
        node1.stop();
        assertThat(mbeans.isRegistered(name1)).isFalse();
    }

    @Test
    void metersGoToTheRegistryInTheServletContextAttribute() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SimpleMeterRegistry global = new SimpleMeterRegistry();
        Metrics.addRegistry(global);
        try {
            // Sync: deltas.sent follows the agent's answers, which async mode does not wait for.
            Node node = new Node("node1", "replication", Map.of("replication-mode", "sync"), MeterRegistry.class.getName(),
                    registry);
            exerciseAndCheck(node, registry);
            assertThat(ours(global)).as("nothing in the global registry").isEmpty();
            node.stop();
            assertThat(ours(registry)).as("removed at destroy").isEmpty();
        } finally {
            Metrics.removeRegistry(global);
        }
    }

    @Test
    void theRegistryAttributeIsAnInitParam() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // Sync, as above: the counts are read right after each response.
        Node node = new Node("node1", "replication", Map.of("meter-registry-attribute", "app.meters",
                "replication-mode", "sync"), "app.meters", registry);
        exerciseAndCheck(node, registry);
        node.stop();
        assertThat(ours(registry)).isEmpty();
    }

    @Test
    void withoutARegistryInTheContextMetersGoToTheGlobalRegistry() throws Exception {
        SimpleMeterRegistry global = new SimpleMeterRegistry();
        Metrics.addRegistry(global);
        try {
            Node node = new Node("node1", "replication", Map.of("replication-mode", "sync"), null, null);
            exerciseAndCheck(node, global);
            node.stop();
            assertThat(ours(global)).isEmpty();
            assertThat(Metrics.globalRegistry.find("session_filter.deltas.sent").meters()).isEmpty();
        } finally {
            Metrics.removeRegistry(global);
        }
    }

    /** The filter's meters; the global registry may also carry other code's. */
    private static List<Meter> ours(MeterRegistry registry) {
        return registry.getMeters().stream().filter(m -> m.getId().getName().startsWith("session_filter.")).toList();
    }

    private void exerciseAndCheck(Node node, MeterRegistry registry) throws Exception {
        String cookie = node.cart(null);
        node.cart(cookie);
        FilterCounters c = node.counters();
        String[] tags = {"context", "/shop", "filter", "replication"};

        Map<String, Meter> byName = new HashMap<>();
        for (Meter m : ours(registry)) {
            assertThat(m.getId().getTags()).as(m.getId().toString()).hasSize(2);
            assertThat(m.getId().getDescription()).as(m.getId().getName()).isNotBlank();
            byName.put(m.getId().getName(), m);
        }
        assertThat(byName.keySet()).containsExactlyInAnyOrderElementsOf(METERS);

        FunctionTimer serialize = registry.get("session_filter.serialize").tags(tags).functionTimer();
        assertThat(serialize.count()).isEqualTo(c.get(FilterCounter.SERIALIZATIONS)).isPositive();
        // The global (composite) registry converts through seconds: allow the rounding.
        assertThat(serialize.totalTime(TimeUnit.NANOSECONDS)).isCloseTo(c.get(FilterCounter.SERIALIZE_NANOS), within(1.0)).isPositive();
        FunctionCounter deltas = registry.get("session_filter.deltas.sent").tags(tags).functionCounter();
        assertThat(deltas.count()).isEqualTo(2);
        assertThat(deltas.getId().getBaseUnit()).isEqualTo("deltas");
        FunctionCounter bytes = registry.get("session_filter.delta.bytes").tags(tags).functionCounter();
        assertThat(bytes.count()).isEqualTo(c.get(FilterCounter.DELTA_BYTES)).isPositive();
        assertThat(bytes.getId().getBaseUnit()).isEqualTo("bytes");
        assertThat(registry.get("session_filter.attributes.skipped").tags(tags).functionCounter().count())
                .isEqualTo(c.get(FilterCounter.SKIPPED_ATTRIBUTES)).isPositive();
        assertThat(registry.get("session_filter.sessions.created").tags(tags).functionCounter().count()).isEqualTo(1);
        assertThat(registry.get("session_filter.agent.errors").tags(tags).functionCounter().count()).isZero();
        Gauge local = registry.get("session_filter.sessions.local").tags(tags).gauge();
        assertThat(local.value()).isEqualTo(1);
        assertThat(registry.get("session_filter.agent.down").tags(tags).gauge().value()).isZero();
        assertThat(registry.get("session_filter.writes.not_replicated").tags(tags).functionCounter().count()).isZero();

        // Read when asked: a later request shows up without any re-registration.
        node.cart(null);
        assertThat(deltas.count()).isEqualTo(3);
        assertThat(local.value()).isEqualTo(2);
    }

    /** A counter, and a thread that cannot be replicated. */
    public static final class CartServlet extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            Integer n = (Integer) s.getAttribute("n");
            s.setAttribute("n", n == null ? 1 : n + 1);
            if (s.getAttribute("worker") == null) {
                s.setAttribute("worker", new Thread(() -> { }, "not-replicable"));
            }
            resp.setContentType("text/plain");
            resp.getWriter().print("n=" + s.getAttribute("n"));
        }
    }
}
