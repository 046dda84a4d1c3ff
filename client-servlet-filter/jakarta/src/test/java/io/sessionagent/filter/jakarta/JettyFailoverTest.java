package io.sessionagent.filter.jakarta;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.filter.core.metrics.FilterCounters;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.DispatcherType;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link FailoverTest} on Jetty 12 (ee10): two embedded Jettys, each with the filter and an in-JVM
 * agent; node 1 stops and node 2 continues the session.
 */
class JettyFailoverTest {
    private final TestCluster cluster = new TestCluster("filter-jetty");
    private final List<Server> servers = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (Server s : servers) {
            s.stop();
        }
        cluster.close();
    }

    private final class Node {
        final Agent agent;
        final Server server;
        final ServletContextHandler context;
        final int port;
        final List<String> events = Collections.synchronizedList(new ArrayList<>());

        Node(String route, String mode) throws Exception {
            agent = cluster.start("agent-" + route);
            agent.replicator().ready().get(15, TimeUnit.SECONDS);
            server = new Server();
            ServerConnector connector = new ServerConnector(server);
            connector.setHost("127.0.0.1");
            connector.setPort(0);
            server.addConnector(connector);
            context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
            context.setContextPath("/");
            context.addServlet(new ServletHolder(new FailoverTest.ShopServlet()), "/shop/*");
            FilterHolder filter = new FilterHolder(SessionReplicationFilter.class);
            filter.setName("replication");
            filter.setAsyncSupported(true);
            filter.setInitParameter("agent-address", "127.0.0.1:" + agent.grpcPort());
            filter.setInitParameter("route", route);
            filter.setInitParameter("replication-mode", mode);
            filter.setInitParameter("listeners", FailoverTest.RecordingListener.class.getName());
            context.addFilter(filter, "/*", EnumSet.allOf(DispatcherType.class));
            context.setAttribute(FailoverTest.EVENTS, events);
            server.setHandler(context);
            server.start();
            servers.add(server);
            port = connector.getLocalPort();
        }

        FilterCounters counters() {
            return (FilterCounters) context.getServletContext().getAttribute(SessionReplicationFilter.COUNTERS_ATTRIBUTE);
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
        }

        void kill() throws Exception {
            server.stop();
            servers.remove(server);
            cluster.stop(agent);
        }
    }

    private final Browser browser = new Browser();

    @Test
    void sessionSurvivesItsJettyNode() throws Exception {
        Node node1 = new Node("node1", "sync");
        Node node2 = new Node("node2", "async");

        HttpResponse<String> first = browser.get(node1.uri("/shop/count"));
        assertThat(first.body()).startsWith("counter=1 cart=[item1] worker=absent");
        String cookie = Browser.sessionCookie(first);
        assertThat(cookie).matches("SASESSIONID=[A-Za-z0-9_-]{27}\\.node1; Path=/; HttpOnly; SameSite=Lax");
        String id = cookie.substring("SASESSIONID=".length(), cookie.indexOf('.'));
        assertThat(node1.events).contains("created " + id);
        assertThat(browser.get(node1.uri("/shop/count")).body()).startsWith("counter=2 cart=[item1, item2] worker=present");
        assertThat(browser.get(node1.uri("/shop/forward")).body())
                .startsWith("counter=3 cart=[item1, item2, item3] worker=present");
        assertThat(node2.agent.table().get(id)).isPresent();

        node1.kill();

        HttpResponse<String> failover = browser.get(node2.uri("/shop/count"));
        assertThat(failover.body()).startsWith("counter=4 cart=[item1, item2, item3, item4] worker=absent");
        assertThat(Browser.sessionCookie(failover)).startsWith("SASESSIONID=" + id + ".node2;");
        assertThat(node2.events).contains("didActivate " + id).doesNotContain("created " + id);
        assertThat(node2.counters().get(FilterCounter.FAILOVER_RESTORES)).isEqualTo(1);
        assertThat(browser.get(node2.uri("/shop/count")).body()).startsWith("counter=5 ");

        assertThat(browser.get(node2.uri("/shop/invalidate")).body()).isEqualTo("invalidated " + id);
        assertThat(node2.events).contains("destroyed " + id);
        assertThat(node2.agent.table().get(id)).isEmpty();
    }
}
