package io.sessionagent.filter.jakarta;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.filter.core.FilterCounters;
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

import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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
import jakarta.servlet.http.HttpSessionListener;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two embedded Tomcat 11s, each with the filter and an in-JVM agent; one node dies and the
 * user's next request, sent to the other, finds the whole session there.
 */
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
            agent = cluster.start("agent-" + route);
            agent.replicator().ready().get(15, TimeUnit.SECONDS);
            tomcat = new Tomcat();
            tomcat.setBaseDir(baseDir.resolve(route).toString());
            Connector connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            tomcat.setConnector(connector);
            context = tomcat.addContext("", null);
            Tomcat.addServlet(context, "shop", new ShopServlet());
            context.addServletMappingDecoded("/shop/*", "shop");
            FilterDef def = new FilterDef();
            def.setFilterName("replication");
            def.setFilterClass(SessionReplicationFilter.class.getName());
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

    private final HttpClient http = HttpClient.newBuilder()
            .cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL))
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("status of %s: %s", uri, r.body()).isEqualTo(200);
        return r;
    }

    private static String sessionCookie(HttpResponse<?> r) {
        return r.headers().allValues("Set-Cookie").stream().filter(h -> h.startsWith("SASESSIONID="))
                .findFirst().orElse(null);
    }

    @Test
    void sessionSurvivesItsNodeAndInvalidationReachesEveryNode() throws Exception {
        // Node 1 writes synchronously: once it answered, the other agent holds the change.
        Node node1 = new Node("node1", Map.of("replication-mode", "sync"));
        Node node2 = new Node("node2", Map.of());

        HttpResponse<String> first = get(node1.uri("/shop/count"));
        assertThat(first.body()).startsWith("counter=1 cart=[item1] worker=absent");
        String cookie = sessionCookie(first);
        assertThat(cookie).matches("SASESSIONID=[A-Za-z0-9_-]{27}\\.node1; Path=/; HttpOnly; SameSite=Lax");
        String id = cookie.substring("SASESSIONID=".length(), cookie.indexOf('.'));
        assertThat(node1.events).contains("created " + id);

        assertThat(get(node1.uri("/shop/count")).body()).startsWith("counter=2 cart=[item1, item2] worker=present");
        long deltasBefore = node1.counters().deltasSent();
        // A forward dispatches through the filter again; the request still writes once.
        assertThat(get(node1.uri("/shop/forward")).body())
                .startsWith("counter=3 cart=[item1, item2, item3] worker=present");
        assertThat(node1.counters().deltasSent()).isEqualTo(deltasBefore + 1);
        assertThat(sessionCookie(get(node1.uri("/shop/count")))).as("a sticky request sets no cookie").isNull();

        SessionRecord atNode1 = node1.agent.table().get(id).orElseThrow();
        SessionRecord atNode2 = node2.agent.table().get(id).orElseThrow();
        assertThat(atNode2.getVersion()).isEqualTo(atNode1.getVersion());
        assertThat(atNode2.getAttributesList()).extracting(a -> a.getName())
                .contains("counter", "cart", "probe").doesNotContain("worker");
        assertThat(node1.counters().skippedAttributes()).isPositive();

        node1.kill();

        HttpResponse<String> failover = get(node2.uri("/shop/count"));
        assertThat(failover.body()).startsWith("counter=5 cart=[item1, item2, item3, item4, item5] worker=absent");
        assertThat(sessionCookie(failover)).startsWith("SASESSIONID=" + id + ".node2;");
        assertThat(node2.events).contains("didActivate " + id).doesNotContain("created " + id);
        assertThat(node2.counters().failoverRestores()).as("%s %s", node2.counters(), node2.events).isEqualTo(1);
        assertThat(get(node2.uri("/shop/count")).body()).startsWith("counter=6 ");
        Eventually.await(Duration.ofSeconds(5),
                () -> node2.agent.table().get(id).map(r -> r.getAttributesCount() > 0).orElse(false),
                () -> "node2's agent holds the session");

        assertThat(get(node2.uri("/shop/invalidate")).body()).isEqualTo("invalidated " + id);
        assertThat(node2.events).contains("destroyed " + id, "valueUnbound probe", "removed counter");
        assertThat(node2.agent.table().get(id)).isEmpty();

        // Node 1 comes back empty: the session must not come back with it.
        Node node1Again = new Node("node1", Map.of());
        // Without the cookie jar, so that exactly this cookie is sent.
        HttpResponse<String> after = HttpClient.newHttpClient().send(HttpRequest.newBuilder(node1Again.uri("/shop/peek"))
                .header("Cookie", "SASESSIONID=" + id + ".node2").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(after.body()).isEqualTo("no session");
        assertThat(node1Again.counters().failoverMisses()).isEqualTo(1);
        assertThat(node1Again.counters().failoverRestores()).isZero();
    }

    /** Counter, a cart mutated in place, an unserializable worker, and a listener-aware probe. */
    public static final class ShopServlet extends HttpServlet {
        @Override
        @SuppressWarnings("unchecked")
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
            String path = req.getPathInfo();
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

    @SuppressWarnings("unchecked")
    static void record(HttpSession s, String event) {
        Object events = s.getServletContext().getAttribute(EVENTS);
        if (events != null) {
            ((List<String>) events).add(event);
        }
    }

    public static final class RecordingListener implements HttpSessionListener, HttpSessionAttributeListener {
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
