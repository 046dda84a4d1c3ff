package io.sessionagent.filter.jakarta;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.core.session.NodeLocal;
import io.sessionagent.proto.v1.SessionRecord;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpSessionActivationListener;
import jakarta.servlet.http.HttpSessionAttributeListener;
import jakarta.servlet.http.HttpSessionBindingEvent;
import jakarta.servlet.http.HttpSessionBindingListener;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionIdListener;
import jakarta.servlet.http.HttpSessionListener;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two embedded Tomcats, each with the filter and an in-JVM agent; one node dies and the
 * user's next request, sent to the other, finds the whole session there. The javax module runs
 * this same class on Tomcat 9, with jakarta.servlet read as javax.servlet.
 */
@Execution(ExecutionMode.CONCURRENT)
class FailoverTest {
    static final String EVENTS = "test.events";

    @TempDir
    Path baseDir;

    private final TestCluster cluster = new TestCluster("filter-failover");
    private final List<Tomcat> tomcats = new ArrayList<>();

    @AfterEach
    void stop() throws LifecycleException {
        for (Tomcat t : tomcats) {
            t.stop();
            t.destroy();
        }
        cluster.close();
    }

    /** A node: an agent and a Tomcat whose filter talks to it. */
    private final class Node {
        final Agent agent;
        final Tomcat tomcat;
        final Context context;
        final int port;
        final List<String> events = Collections.synchronizedList(new ArrayList<>());

        Node(String route, Map<String, String> params) throws Exception {
            this(route, params, c -> { });
        }

        /** @param beforeStart adjusts the context (session-config, filter class) before Tomcat starts */
        Node(String route, Map<String, String> params, Consumer<Context> beforeStart) throws Exception {
            agent = cluster.start("agent-" + route);
            agent.replicator().ready().get(15, TimeUnit.SECONDS);
            tomcat = new Tomcat();
            tomcat.setBaseDir(baseDir.resolve(route).toString());
            // Tests of this class run side by side: each Tomcat registers its MBeans under a JMX
            // domain of its own (the engine's name) instead of racing for the same names in "Tomcat".
            tomcat.getEngine().setName("failover-" + route + "-" + System.nanoTime());
            Connector connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            tomcat.setConnector(connector);
            context = tomcat.addContext("", null);
            Tomcat.addServlet(context, "shop", new ShopServlet()).setAsyncSupported(true);
            context.addServletMappingDecoded("/shop/*", "shop");
            FilterDef def = new FilterDef();
            def.setFilterName("replication");
            def.setFilterClass(SessionReplicationFilter.class.getName());
            def.setAsyncSupported("true");
            def.addInitParameter("agent-address", "127.0.0.1:" + agent.grpcPort());
            def.addInitParameter("route", route);
            def.addInitParameter("listeners", RecordingListener.class.getName());
            params.forEach(def::addInitParameter);
            context.addFilterDef(def);
            FilterMap map = new FilterMap();
            map.setFilterName("replication");
            map.addURLPattern("/*");
            for (String d : new String[] {"REQUEST", "FORWARD", "INCLUDE", "ERROR", "ASYNC"}) {
                map.setDispatcher(d);
            }
            context.addFilterMap(map);
            beforeStart.accept(context);
            tomcat.start();
            context.getServletContext().setAttribute(EVENTS, events);
            tomcats.add(tomcat);
            port = connector.getLocalPort();
        }

        FilterCounters counters() {
            return (FilterCounters) context.getServletContext().getAttribute(SessionReplicationFilter.COUNTERS_ATTRIBUTE);
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
        }

        void kill() throws LifecycleException {
            tomcat.stop();
            tomcat.destroy();
            tomcats.remove(tomcat);
            cluster.stop(agent);
        }
    }

    private final Browser browser = new Browser();

    @Test
    void sessionSurvivesItsNodeAndInvalidationReachesEveryNode() throws Exception {
        // Node 1 writes synchronously: once it answered, the other agent holds the change.
        Node node1 = new Node("node1", Map.of("replication-mode", "sync"));
        Node node2 = new Node("node2", Map.of());

        HttpResponse<String> first = browser.get(node1.uri("/shop/count"));
        assertThat(first.body()).startsWith("counter=1 cart=[item1] worker=absent");
        String cookie = Browser.sessionCookie(first);
        assertThat(cookie).matches("SASESSIONID=[A-Za-z0-9_-]{27}\\.node1; Path=/; HttpOnly; SameSite=Lax");
        String id = cookie.substring("SASESSIONID=".length(), cookie.indexOf('.'));
        assertThat(node1.events).contains("created " + id);

        assertThat(browser.get(node1.uri("/shop/count")).body()).startsWith("counter=2 cart=[item1, item2] worker=present");
        long deltasBefore = node1.counters().get(FilterCounter.DELTAS_SENT);
        // A forward dispatches through the filter again; the request still writes once.
        assertThat(browser.get(node1.uri("/shop/forward")).body())
                .startsWith("counter=3 cart=[item1, item2, item3] worker=present");
        assertThat(node1.counters().get(FilterCounter.DELTAS_SENT)).isEqualTo(deltasBefore + 1);
        assertThat(Browser.sessionCookie(browser.get(node1.uri("/shop/count")))).as("a sticky request sets no cookie").isNull();

        SessionRecord atNode1 = node1.agent.table().get(id).orElseThrow();
        SessionRecord atNode2 = node2.agent.table().get(id).orElseThrow();
        assertThat(atNode2.getVersion()).isEqualTo(atNode1.getVersion());
        assertThat(atNode2.getAttributesList()).extracting(a -> a.getName())
                .contains("counter", "cart", "probe").doesNotContain("worker");
        assertThat(node1.counters().get(FilterCounter.SKIPPED_ATTRIBUTES)).isPositive();

        node1.kill();

        HttpResponse<String> failover = browser.get(node2.uri("/shop/count"));
        assertThat(failover.body()).startsWith("counter=5 cart=[item1, item2, item3, item4, item5] worker=absent");
        assertThat(Browser.sessionCookie(failover)).startsWith("SASESSIONID=" + id + ".node2;");
        assertThat(node2.events).contains("didActivate " + id).doesNotContain("created " + id);
        assertThat(node2.counters().get(FilterCounter.FAILOVER_RESTORES)).as("%s %s", node2.counters(), node2.events).isEqualTo(1);
        assertThat(browser.get(node2.uri("/shop/count")).body()).startsWith("counter=6 ");
        Eventually.await(Duration.ofSeconds(5),
                () -> node2.agent.table().get(id).map(r -> r.getAttributesCount() > 0).orElse(false),
                () -> "node2's agent holds the session");

        assertThat(browser.get(node2.uri("/shop/invalidate")).body()).isEqualTo("invalidated " + id);
        assertThat(node2.events).contains("destroyed " + id, "valueUnbound probe", "removed counter");
        assertThat(node2.agent.table().get(id)).isEmpty();

        // Node 1 comes back empty: the session must not come back with it.
        Node node1Again = new Node("node1", Map.of());
        // Without the cookie jar, so that exactly this cookie is sent.
        HttpResponse<String> after = HttpClient.newHttpClient().send(HttpRequest.newBuilder(node1Again.uri("/shop/peek"))
                .header("Cookie", "SASESSIONID=" + id + ".node2").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(after.body()).isEqualTo("no session");
        assertThat(node1Again.counters().get(FilterCounter.FAILOVER_MISSES)).isEqualTo(1);
        assertThat(node1Again.counters().get(FilterCounter.FAILOVER_RESTORES)).isZero();
    }

    /** The body of /shop/peek sent with exactly this cookie value. */
    private static String peek(Node node, String cookieValue) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(node.uri("/shop/peek"))
                .header("Cookie", "SASESSIONID=" + cookieValue).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String idOf(HttpResponse<?> r) {
        String cookie = Browser.sessionCookie(r);
        assertThat(cookie).as("Set-Cookie of %s", r.uri()).isNotNull();
        return cookie.substring("SASESSIONID=".length(), cookie.indexOf('.'));
    }

    private static List<String> names(SessionRecord r) {
        return r.getAttributesList().stream().map(a -> a.getName()).collect(Collectors.toList());
    }

    @Test
    void aChangeMadeInAnAsyncCycleAfterTheChainReturnedIsWrittenWhenTheCycleCompletes() throws Exception {
        Node node1 = new Node("node1", Map.of("replication-mode", "sync"));
        Node node2 = new Node("node2", Map.of());
        String id = idOf(browser.get(node1.uri("/shop/count")));

        assertThat(browser.get(node1.uri("/shop/async")).body()).isEqualTo("async written");
        Eventually.await(Duration.ofSeconds(5),
                () -> node2.agent.table().get(id).map(r -> names(r).contains("async")).orElse(false),
                () -> "node2's agent holds the attribute set in the async cycle: "
                        + node2.agent.table().get(id).map(FailoverTest::names).orElse(null));
    }

    @Test
    void everyWayOfCommittingSendsTheDeltaFirstAndALaterChangeAtRequestEnd() throws Exception {
        Node node1 = new Node("node1", Map.of("replication-mode", "sync"));
        Node node2 = new Node("node2", Map.of());
        node1.context.getServletContext().setAttribute(AFTER_COMMIT, (Function<String, String>) id ->
                "atNode2=" + node2.agent.table().get(id).map(FailoverTest::names).orElse(List.of()));
        String id = idOf(browser.get(node1.uri("/shop/count")));
        Map<String, Integer> ways = new LinkedHashMap<>();
        for (String way : List.of("flushBuffer", "writerFlush", "streamFlush", "streamOverflow", "writerOverflow",
                "contentLength")) {
            ways.put(way, 200);
        }
        ways.put("redirect", 302);
        ways.put("error", 409);
        for (Map.Entry<String, Integer> w : ways.entrySet()) {
            String way = w.getKey();
            HttpResponse<String> r = browser.send(node1.uri("/shop/commit?way=" + way));
            assertThat(r.statusCode()).as(way).isEqualTo(w.getValue());
            // The servlet asked, right after its committing call, what the other node's agent held
            // (for contentLength the client may have the response before the servlet recorded it).
            Eventually.await(Duration.ofSeconds(5), () -> new ArrayList<>(node1.events).stream()
                    .anyMatch(e -> e.startsWith(way + " committed=")), () -> way + " recorded");
            assertThat(new ArrayList<>(node1.events)).as(way).anySatisfy(e -> assertThat(e)
                    .startsWith(way + " committed=true atNode2=").contains("before-" + way));
            // And the client, as soon as it has the response, could fail over and find it there.
            SessionRecord atNode2 = node2.agent.table().get(id).orElseThrow();
            if (way.equals("contentLength")) {
                // The whole response reached the client at the declared length, before the request
                // ended: the change made after it follows at the end of the request.
                assertThat(names(atNode2)).as(way).contains("before-" + way);
                Eventually.await(Duration.ofSeconds(5), () -> node2.agent.table().get(id).map(FailoverTest::names)
                        .orElse(List.of()).contains("after-" + way), () -> "after-" + way + " at node2");
                continue;
            }
            // Everything else completes the response only when the request ends, after its last delta.
            assertThat(names(atNode2)).as(way).contains("before-" + way, "after-" + way);
            assertThat(atNode2.getVersion()).as(way).isEqualTo(node1.agent.table().get(id).orElseThrow().getVersion());
        }
    }

    @Test
    void nodeLocalAttributesStayOnTheirNodeAndAreAbsentAfterFailover() throws Exception {
        Map<String, String> params = Map.of("replication-mode", "sync", "local-attributes", "cache.*, jdbc*,tmpFile");
        Node node1 = new Node("node1", params);
        Node node2 = new Node("node2", params);
        String id = idOf(browser.get(node1.uri("/shop/local")));
        assertThat(browser.get(node1.uri("/shop/local")).body())
                .isEqualTo("visits=2 cache.products=present tmpFile=present connection=present");
        assertThat(browser.get(node1.uri("/shop/local")).body())
                .isEqualTo("visits=3 cache.products=present tmpFile=present connection=present");

        // In sync mode node 2's agent already holds what node 1 wrote: the ordinary attribute only.
        assertThat(names(node1.agent.table().get(id).orElseThrow())).containsExactly("visits");
        assertThat(names(node2.agent.table().get(id).orElseThrow())).containsExactly("visits");
        // Not replicated by design, so neither skipped nor serialized: three writes of "visits".
        assertThat(node1.counters().get(FilterCounter.SKIPPED_ATTRIBUTES)).isZero();
        assertThat(node1.counters().get(FilterCounter.SERIALIZATIONS)).isEqualTo(3);

        node1.kill();
        HttpResponse<String> failover = browser.get(node2.uri("/shop/local"));
        assertThat(failover.body()).isEqualTo("visits=4 cache.products=absent tmpFile=absent connection=absent");
        assertThat(Browser.sessionCookie(failover)).startsWith("SASESSIONID=" + id + ".node2;");
        assertThat(node2.counters().get(FilterCounter.FAILOVER_RESTORES)).isEqualTo(1);
        // Node 2 sets them again for itself; they stay on node 2 in turn.
        assertThat(browser.get(node2.uri("/shop/local")).body())
                .isEqualTo("visits=5 cache.products=present tmpFile=present connection=present");
        assertThat(names(node2.agent.table().get(id).orElseThrow())).containsExactly("visits");
    }

    /**
     * A session bean whose items live in {@code Collections.synchronizedSet(new HashSet<>())},
     * created once and then mutated in place (never set again), as {@code <jsp:useBean scope="session">}
     * does. Several users fill their carts on node 1; node 1 dies; node 2 must show every item of
     * every cart, with nothing left out as unreadable, and the rebuilt set must still work (node 2
     * adds to it, under its lock).
     */
    private void cartBeansSurviveFailover(String mode) throws Exception {
        Node node1 = new Node("node1", Map.of("replication-mode", mode));
        Node node2 = new Node("node2", Map.of("replication-mode", mode));
        List<Browser> users = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int u = 0; u < 4; u++) {
            Browser b = new Browser();
            users.add(b);
            ids.add(idOf(b.get(node1.uri("/shop/bean"))));
        }
        for (int i = 1; i <= 6; i++) {
            for (int u = 0; u < users.size(); u++) {
                assertThat(users.get(u).get(node1.uri("/shop/bean?add=u" + u + "-item" + i)).body())
                        .startsWith("bean " + i + " items");
            }
        }
        if (mode.equals("async")) {
            // Async answers before the replicas applied the last writes (at most max-replication-lag
            // behind): this test is about what node 2 reads, so it lets replication catch up first.
            for (String id : ids) {
                Eventually.await(Duration.ofSeconds(10), () -> node1.agent.table().get(id).map(r -> r.getVersion())
                        .equals(node2.agent.table().get(id).map(r -> r.getVersion())), () -> id + " at node2's agent");
            }
        }
        node1.kill();
        for (int u = 0; u < users.size(); u++) {
            StringBuilder expected = new StringBuilder();
            for (int i = 1; i <= 6; i++) {
                expected.append(expected.length() == 0 ? "" : ", ").append("u").append(u).append("-item").append(i);
            }
            HttpResponse<String> failover = users.get(u).get(node2.uri("/shop/bean?add=u" + u + "-item7"));
            assertThat(failover.body()).as("user %d on node 2", u)
                    .isEqualTo("bean 7 items [" + expected + ", u" + u + "-item7] locked=true");
            assertThat(Browser.sessionCookie(failover)).startsWith("SASESSIONID=" + ids.get(u) + ".node2;");
        }
        assertThat(node2.counters().get(FilterCounter.FAILOVER_RESTORES)).isEqualTo(users.size());
        assertThat(node2.counters().get(FilterCounter.DESERIALIZE_FAILURES)).as("%s", node2.counters()).isZero();
        assertThat(node2.counters().get(FilterCounter.REFUSED_ATTRIBUTES)).isZero();
    }

    @Test
    void aCartBeanWithASynchronizedSetMutatedInPlaceSurvivesFailoverInSyncMode() throws Exception {
        cartBeansSurviveFailover("sync");
    }

    @Test
    void aCartBeanWithASynchronizedSetMutatedInPlaceSurvivesFailoverInAsyncMode() throws Exception {
        cartBeansSurviveFailover("async");
    }

    @Test
    void anIncludeStillWritesOnce() throws Exception {
        // Sync: the agent's answer, which the count follows, is in before the response.
        Node node1 = new Node("node1", Map.of("replication-mode", "sync"));
        browser.get(node1.uri("/shop/count"));
        long before = node1.counters().get(FilterCounter.DELTAS_SENT);
        assertThat(browser.get(node1.uri("/shop/include")).body()).startsWith("included: counter=2 cart=[item1, item2]");
        assertThat(node1.counters().get(FilterCounter.DELTAS_SENT)).isEqualTo(before + 1);
    }

    @Test
    void changeSessionIdServesTheNewIdEverywhereAndRetiresTheOld() throws Exception {
        Node node1 = new Node("node1", Map.of("replication-mode", "sync"));
        Node node2 = new Node("node2", Map.of());
        String oldId = idOf(browser.get(node1.uri("/shop/count")));

        HttpResponse<String> rotated = browser.get(node1.uri("/shop/rotate"));
        String newId = rotated.body().substring(rotated.body().indexOf("->") + 2);
        assertThat(rotated.body()).isEqualTo(oldId + "->" + newId);
        assertThat(newId).isNotEqualTo(oldId);
        assertThat(Browser.sessionCookie(rotated)).startsWith("SASESSIONID=" + newId + ".node1;");
        assertThat(node1.events).contains("idChanged " + oldId + " " + newId);
        assertThat(node1.agent.table().get(oldId)).isEmpty();
        assertThat(node2.agent.table().get(newId)).isPresent();
        Eventually.await(Duration.ofSeconds(5), () -> node2.agent.table().get(oldId).isEmpty(),
                () -> "node2's agent dropped the old id");

        assertThat(browser.get(node1.uri("/shop/count")).body()).startsWith("counter=2 ");
        assertThat(peek(node1, oldId + ".node1")).isEqualTo("no session");

        node1.kill();
        HttpResponse<String> failover = browser.get(node2.uri("/shop/count"));
        assertThat(failover.body()).startsWith("counter=3 ");
        assertThat(Browser.sessionCookie(failover)).startsWith("SASESSIONID=" + newId + ".node2;");
        assertThat(peek(node2, oldId + ".node1")).isEqualTo("no session");
    }

    /** The filter on a clock the test sets. */
    public static final class ClockedFilter extends SessionReplicationFilter {
        static final AtomicLong NOW_MS = new AtomicLong();

        @Override
        protected LongSupplier clock() {
            return NOW_MS::get;
        }
    }

    @Test
    void sessionConfigTimeoutAppliesAndAnIdleSessionExpires() throws Exception {
        ClockedFilter.NOW_MS.set(System.currentTimeMillis());
        Node node1 = new Node("node1", Map.of(), c -> {
            c.setSessionTimeout(7);
            c.findFilterDef("replication").setFilterClass(ClockedFilter.class.getName());
        });
        HttpResponse<String> first = browser.get(node1.uri("/shop/timeout?set=1"));
        String id = idOf(first);
        assertThat(first.body()).isEqualTo(id + " 420");
        ClockedFilter.NOW_MS.addAndGet(1_000);
        assertThat(browser.get(node1.uri("/shop/timeout")).body()).as("idle exactly 1 s").isEqualTo(id + " 1");

        ClockedFilter.NOW_MS.addAndGet(1_001);
        HttpResponse<String> after = browser.get(node1.uri("/shop/timeout"));
        String newId = idOf(after);
        assertThat(newId).isNotEqualTo(id);
        assertThat(after.body()).isEqualTo(newId + " 420");
        assertThat(node1.events).contains("destroyed " + id, "created " + newId);
        assertThat(node1.counters().get(FilterCounter.SESSIONS_EXPIRED)).isEqualTo(1);
    }

    @Test
    void servesLocallyWhileTheAgentIsDownAndReconnectsWhenItReturns() throws Exception {
        Node node1 = new Node("node1", Map.of("replication-mode", "sync"));
        Node node2 = new Node("node2", Map.of());
        String id = idOf(browser.get(node1.uri("/shop/count")));
        int grpcPort = node1.agent.grpcPort();
        cluster.stop(node1.agent);

        for (int i = 2; i <= 4; i++) {
            assertThat(browser.get(node1.uri("/shop/count")).body()).startsWith("counter=" + i + " ");
        }
        // Gone, not slow: the stream broke, and every change since is counted as not replicated.
        assertThat(node1.counters().get(FilterCounter.STREAM_FAILURES)).isPositive();
        assertThat(node1.counters().get(FilterCounter.WRITES_NOT_REPLICATED)).isGreaterThanOrEqualTo(3);
        assertThat(node1.counters().get(FilterCounter.DELTAS_SENT)).isEqualTo(1);

        Agent back = cluster.start("agent-node1", Map.of("grpc-port", Integer.toString(grpcPort)));
        back.replicator().ready().get(15, TimeUnit.SECONDS);
        // The filter tries again once its backoff (at most 5 s) has passed.
        int counter = 4;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long deltas = node1.counters().get(FilterCounter.DELTAS_SENT);
        while (node1.counters().get(FilterCounter.DELTAS_SENT) == deltas) {
            assertThat(System.nanoTime()).as("a write reached the restarted agent; %s", node1.counters())
                    .isLessThan(deadline);
            Thread.sleep(100);
            assertThat(browser.get(node1.uri("/shop/count")).body()).startsWith("counter=" + ++counter + " ");
        }
        assertThat(back.table().get(id)).isPresent();

        // Node 1's app server dies: what its filter sent after the reconnection is on node 2.
        node1.tomcat.stop();
        node1.tomcat.destroy();
        tomcats.remove(node1.tomcat);
        assertThat(browser.get(node2.uri("/shop/count")).body()).startsWith("counter=" + (counter + 1) + " ");
    }

    @Test
    void aSessionTheAgentCannotBeAskedAboutIsA503KeepingTheCookieNotANewSession() throws Exception {
        Node node1 = new Node("node1", Map.of("replication-mode", "sync"));
        Node node2 = new Node("node2", Map.of());
        String id = idOf(browser.get(node1.uri("/shop/count")));
        browser.get(node1.uri("/shop/count"));
        int grpcPort = node2.agent.grpcPort();
        cluster.stop(node2.agent);

        // Node 2 does not hold the session and its agent is gone: a new session would replace the cookie.
        HttpResponse<String> r = browser.send(node2.uri("/shop/count"));
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).contains("1");
        assertThat(Browser.sessionCookie(r)).isNull();
        assertThat(node2.counters().get(FilterCounter.FAILOVER_UNAVAILABLE)).isEqualTo(1);
        assertThat(node2.counters().get(FilterCounter.FAILOVER_MISSES)).isZero();
        assertThat(node2.counters().get(FilterCounter.SESSIONS_CREATED)).isZero();

        Agent back = cluster.start("agent-node2", Map.of("grpc-port", Integer.toString(grpcPort)));
        back.replicator().ready().get(15, TimeUnit.SECONDS);
        // Once the filter's backoff (at most 5 s) has passed, the same cookie finds the session.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        do {
            assertThat(System.nanoTime()).as("node 2 served the session again; %s", node2.counters())
                    .isLessThan(deadline);
            Thread.sleep(100);
            r = browser.send(node2.uri("/shop/count"));
        } while (r.statusCode() == 503);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).startsWith("counter=3 ");
        assertThat(idOf(r)).isEqualTo(id);
        assertThat(node2.counters().get(FilterCounter.SESSIONS_CREATED)).isZero();
    }

    @Test
    void pastMaxLocalSessionsTheLeastRecentlyUsedLeaveTheCacheOnly() throws Exception {
        Node node1 = new Node("node1", Map.of("max-local-sessions", "2"));
        Browser a = new Browser();
        Browser b = new Browser();
        Browser c = new Browser();
        String idA = idOf(a.get(node1.uri("/shop/count")));
        String idB = idOf(b.get(node1.uri("/shop/count")));
        a.get(node1.uri("/shop/count"));
        String idC = idOf(c.get(node1.uri("/shop/count")));

        // B is the least recently used: it leaves this node's memory, passivated, and stays at the agent.
        assertThat(node1.events).contains("willPassivate " + idB)
                .doesNotContain("willPassivate " + idA, "willPassivate " + idC, "destroyed " + idB);
        assertThat(node1.counters().get(FilterCounter.CACHE_EVICTIONS)).isEqualTo(1);
        assertThat(node1.agent.table().get(idB)).isPresent();

        HttpResponse<String> again = b.get(node1.uri("/shop/count"));
        assertThat(again.body()).startsWith("counter=2 cart=[item1, item2]");
        assertThat(Browser.sessionCookie(again)).as("same node, same cookie").isNull();
        assertThat(node1.events).contains("didActivate " + idB);
        assertThat(node1.counters().get(FilterCounter.CACHE_MISSES)).isEqualTo(1);
        assertThat(node1.counters().get(FilterCounter.FAILOVER_RESTORES)).isZero();
        assertThat(node1.counters().get(FilterCounter.FAILOVER_MISSES)).isZero();
    }

    /** Counter, a cart mutated in place, an unserializable worker, and a listener-aware probe. */
    public static final class ShopServlet extends HttpServlet {
        @Override
        @SuppressWarnings("unchecked")
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
            // An included servlet sees the including request's path info.
            Object included = req.getAttribute(RequestDispatcher.INCLUDE_PATH_INFO);
            String path = included != null ? (String) included : req.getPathInfo();
            resp.setContentType("text/plain");
            if ("/forward".equals(path)) {
                req.getRequestDispatcher("/shop/count").forward(req, resp);
                return;
            }
            if ("/peek".equals(path)) {
                HttpSession s = req.getSession(false);
                resp.getWriter().print(s == null ? "no session" : "counter=" + s.getAttribute("counter"));
                return;
            }
            if ("/include".equals(path)) {
                resp.getWriter().print("included: ");
                req.getRequestDispatcher("/shop/count").include(req, resp);
                return;
            }
            if ("/commit".equals(path)) {
                commitThenChange(req, resp);
                return;
            }
            if ("/rotate".equals(path)) {
                HttpSession s = req.getSession(false);
                String old = s.getId();
                String changed = req.changeSessionId();
                resp.getWriter().print(old + "->" + changed);
                return;
            }
            if ("/timeout".equals(path)) {
                HttpSession s = req.getSession();
                String before = s.getId() + " " + s.getMaxInactiveInterval();
                String seconds = req.getParameter("set");
                if (seconds != null) {
                    s.setMaxInactiveInterval(Integer.parseInt(seconds));
                }
                resp.getWriter().print(before);
                return;
            }
            if ("/local".equals(path)) {
                localAttributes(req, resp);
                return;
            }
            if ("/bean".equals(path)) {
                cartBean(req, resp);
                return;
            }
            if ("/async".equals(path)) {
                changeInAnAsyncCycle(req, resp);
                return;
            }
            if ("/invalidate".equals(path)) {
                HttpSession s = req.getSession(false);
                String id = s.getId();
                s.invalidate();
                resp.getWriter().print("invalidated " + id);
                return;
            }
            HttpSession s = req.getSession();
            Integer counter = (Integer) s.getAttribute("counter");
            int next = counter == null ? 1 : counter + 1;
            s.setAttribute("counter", next);
            List<String> cart = (List<String>) s.getAttribute("cart");
            if (cart == null) {
                cart = new ArrayList<>();
                s.setAttribute("cart", cart);
            }
            cart.add("item" + next);
            boolean worker = s.getAttribute("worker") != null;
            if (!worker) {
                s.setAttribute("worker", new Thread(() -> { }, "not-replicable"));
            }
            if (s.getAttribute("probe") == null) {
                s.setAttribute("probe", new Probe());
            }
            resp.getWriter().print("counter=" + next + " cart=" + cart + " worker=" + (worker ? "present" : "absent"));
        }
    }

    /**
     * Starts an async cycle and changes the session on another thread once the filter chain has
     * returned on the container's: only a commit when the cycle completes carries the change.
     */
    static void changeInAnAsyncCycle(HttpServletRequest req, HttpServletResponse resp) {
        AsyncContext async = req.startAsync(req, resp);
        async.start(() -> {
            try {
                // Well after doFilter returned on the container thread, which takes microseconds.
                Thread.sleep(300);
                req.getSession().setAttribute("async", "set after the chain returned");
                resp.getWriter().print("async written");
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                async.complete();
            }
        });
    }

    /**
     * Sets an attribute, commits the response the way the {@code way} parameter names, asks the
     * test (context attribute {@link #AFTER_COMMIT}) what the other node's agent holds at that
     * instant, then sets another attribute after the commit.
     */
    @SuppressWarnings("unchecked")
    static void commitThenChange(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String way = req.getParameter("way");
        HttpSession s = req.getSession();
        s.setAttribute("before-" + way, way);
        switch (way) {
            case "flushBuffer":
                resp.flushBuffer();
                break;
            case "writerFlush":
                resp.getWriter().print("x");
                resp.getWriter().flush();
                break;
            case "streamFlush":
                resp.getOutputStream().write('x');
                resp.getOutputStream().flush();
                break;
            case "streamOverflow":
                resp.getOutputStream().write(new byte[resp.getBufferSize() + 1]);
                break;
            case "writerOverflow":
                // Tomcat's writer has a char buffer of its own in front of the byte buffer.
                resp.getWriter().print("y".repeat(2 * resp.getBufferSize() + 1));
                break;
            case "contentLength":
                resp.setContentLength(5);
                resp.getOutputStream().print("12345");
                break;
            case "redirect":
                resp.sendRedirect("/shop/peek");
                break;
            case "error":
                resp.sendError(409);
                break;
            default:
                throw new IllegalArgumentException(way);
        }
        Function<String, String> probe = (Function<String, String>) req.getServletContext().getAttribute(AFTER_COMMIT);
        String seen = probe.apply(s.getId());
        ((List<String>) req.getServletContext().getAttribute(EVENTS))
                .add(way + " committed=" + resp.isCommitted() + " " + seen);
        s.setAttribute("after-" + way, way);
    }

    static final String AFTER_COMMIT = "test.afterCommit";

    @SuppressWarnings("unchecked")
    static void record(HttpSession s, String event) {
        Object events = s.getServletContext().getAttribute(EVENTS);
        if (events != null) {
            ((List<String>) events).add(event);
        }
    }

    /**
     * Reports which attributes the session holds, then sets an ordinary counter and three
     * attributes meant to stay on this node: two by name, one by its type.
     */
    private static void localAttributes(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        HttpSession s = req.getSession();
        Integer visits = (Integer) s.getAttribute("visits");
        int next = visits == null ? 1 : visits + 1;
        StringBuilder sb = new StringBuilder("visits=" + next);
        for (String name : new String[] {"cache.products", "tmpFile", "connection"}) {
            sb.append(' ').append(name).append('=').append(s.getAttribute(name) == null ? "absent" : "present");
        }
        s.setAttribute("visits", next);
        s.setAttribute("cache.products", new ArrayList<>(List.of("p1", "p2")));
        s.setAttribute("tmpFile", "/tmp/upload-" + next);
        s.setAttribute("connection", new LocalConnection(req.getLocalPort()));
        resp.getWriter().print(sb);
    }

    /**
     * A cart bean as a JSP's {@code <jsp:useBean scope="session">} keeps it: created and set once, then
     * only read and mutated in place.
     * Answers the items sorted, and whether the set still locks itself (its add from another thread
     * waits while this request holds the set's monitor).
     */
    private static void cartBean(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        HttpSession s = req.getSession();
        CartBean cart = (CartBean) s.getAttribute("bean");
        if (cart == null) {
            cart = new CartBean();
            s.setAttribute("bean", cart);
        }
        String add = req.getParameter("add");
        if (add != null) {
            cart.add(new CartItem(add));
        }
        resp.getWriter().print("bean " + cart.size() + " items " + cart.names() + " locked=" + cart.locksItself());
    }

    public static final class CartBean implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private final java.util.Set<CartItem> items = Collections.synchronizedSet(new java.util.HashSet<>());

        void add(CartItem item) {
            items.add(item);
        }

        int size() {
            return items.size();
        }

        List<String> names() {
            synchronized (items) {
                return items.stream().map(i -> i.name).sorted().collect(Collectors.toList());
            }
        }

        /**
         * Whether another thread's read waits while this one holds the set's monitor: blocked on
         * that very monitor, not for a moment on one of its own (its thread group's as it ends).
         */
        boolean locksItself() {
            Thread t = new Thread(() -> items.contains(null));
            synchronized (items) {
                t.start();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (t.getState() != Thread.State.TERMINATED && System.nanoTime() < deadline) {
                    java.lang.management.ThreadInfo info = java.lang.management.ManagementFactory.getThreadMXBean()
                            .getThreadInfo(t.getId());
                    java.lang.management.LockInfo lock = info == null ? null : info.getLockInfo();
                    if (lock != null && info.getThreadState() == Thread.State.BLOCKED
                            && lock.getIdentityHashCode() == System.identityHashCode(items)) {
                        return true;
                    }
                    Thread.onSpinWait();
                }
                return false;
            }
        }
    }

    /** A cart line without equals or hashCode, as plain beans often are. */
    public static final class CartItem implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final String name;

        CartItem(String name) {
            this.name = name;
        }
    }

    /** A value that means something only in this JVM: never replicated, whatever its name. */
    public static final class LocalConnection implements NodeLocal {
        final int port;

        LocalConnection(int port) {
            this.port = port;
        }
    }

    public static final class RecordingListener implements HttpSessionListener, HttpSessionAttributeListener,
            HttpSessionIdListener {
        @Override
        public void sessionIdChanged(HttpSessionEvent se, String oldId) {
            record(se.getSession(), "idChanged " + oldId + " " + se.getSession().getId());
        }

        @Override
        public void sessionCreated(HttpSessionEvent se) {
            record(se.getSession(), "created " + se.getSession().getId());
        }

        @Override
        public void sessionDestroyed(HttpSessionEvent se) {
            record(se.getSession(), "destroyed " + se.getSession().getId());
        }

        @Override
        public void attributeAdded(HttpSessionBindingEvent e) {
            record(e.getSession(), "added " + e.getName());
        }

        @Override
        public void attributeRemoved(HttpSessionBindingEvent e) {
            record(e.getSession(), "removed " + e.getName());
        }

        @Override
        public void attributeReplaced(HttpSessionBindingEvent e) {
            record(e.getSession(), "replaced " + e.getName());
        }
    }

    public static final class Probe implements HttpSessionActivationListener, HttpSessionBindingListener {
        @Override
        public void sessionDidActivate(HttpSessionEvent se) {
            record(se.getSession(), "didActivate " + se.getSession().getId());
        }

        @Override
        public void sessionWillPassivate(HttpSessionEvent se) {
            record(se.getSession(), "willPassivate " + se.getSession().getId());
        }

        @Override
        public void valueBound(HttpSessionBindingEvent e) {
            record(e.getSession(), "valueBound " + e.getName());
        }

        @Override
        public void valueUnbound(HttpSessionBindingEvent e) {
            record(e.getSession(), "valueUnbound " + e.getName());
        }
    }
}
