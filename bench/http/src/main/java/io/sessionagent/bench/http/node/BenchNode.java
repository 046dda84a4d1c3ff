package io.sessionagent.bench.http.node;

import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.jakarta.SessionReplicationFilter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.catalina.Context;
import org.apache.catalina.ha.tcp.SimpleTcpCluster;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One embedded Tomcat serving {@link CounterServlet} at {@code /bench/*}, in one of three ways:
 * {@code alone} (its own StandardManager, nothing replicated), {@code delta} (a member of a
 * two-node DeltaManager cluster) or {@code filter} (the session-agent filter in front, talking to
 * an agent). {@code GET /status} answers 200 with the number of cluster members it sees.
 *
 * <pre>
 * java -cp ... io.sessionagent.bench.http.node.BenchNode --mode=delta --port=8081 --base-dir=DIR \
 *      --send-options=8 --tribes-port=4001 --peer-tribes-port=4002 --index=1
 * java -cp ... io.sessionagent.bench.http.node.BenchNode --mode=filter --port=8081 --base-dir=DIR \
 *      --agent=127.0.0.1:7400 --route=node1 --replication-mode=async [--async-wait-for-agent=false]
 * </pre>
 */
public final class BenchNode {
    private BenchNode() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(required(a, "base-dir"));
        Connector connector = new Connector();
        connector.setPort(Integer.parseInt(required(a, "port")));
        connector.setProperty("address", "127.0.0.1");
        // wrk keeps its connections for the whole run; a server-side limit would only add reconnects.
        connector.setProperty("maxKeepAliveRequests", "-1");
        tomcat.setConnector(connector);

        Context context = tomcat.addContext("", null);
        Tomcat.addServlet(context, "counter", new CounterServlet());
        context.addServletMappingDecoded("/bench/*", "counter");

        Supplier<String> status = () -> "members=0";
        String mode = required(a, "mode");
        switch (mode) {
            case "alone" -> { }
            case "delta" -> {
                SimpleTcpCluster cluster = DeltaCluster.create(Integer.parseInt(required(a, "send-options")),
                        Integer.parseInt(required(a, "tribes-port")), Integer.parseInt(required(a, "peer-tribes-port")),
                        Integer.parseInt(required(a, "index")));
                tomcat.getEngine().setCluster(cluster);
                context.setDistributable(true);
                status = () -> "members=" + cluster.getMembers().length;
            }
            case "filter" -> {
                addFilter(context, required(a, "agent"), required(a, "route"), required(a, "replication-mode"),
                        a.getOrDefault("async-wait-for-agent", "true"));
                status = () -> "members=0 " + filterCounters(context);
            }
            default -> throw new IllegalArgumentException("--mode must be alone, delta or filter, was " + mode);
        }
        Tomcat.addServlet(context, "status", new StatusServlet(status));
        context.addServletMappingDecoded("/status", "status");

        tomcat.start();
        tomcat.getServer().await();
    }

    /**
     * The filter as a user configures it: where its agent is, this node's route and the mode the
     * configuration measures; everything else at its default.
     */
    private static void addFilter(Context context, String agent, String route, String replicationMode,
                                  String waitForAgent) {
        FilterDef def = new FilterDef();
        def.setFilterName("replication");
        def.setFilterClass(SessionReplicationFilter.class.getName());
        def.addInitParameter("agent-address", agent);
        def.addInitParameter("route", route);
        def.addInitParameter("replication-mode", replicationMode);
        def.addInitParameter("async-wait-for-agent", waitForAgent);
        context.addFilterDef(def);
        FilterMap map = new FilterMap();
        map.setFilterName("replication");
        map.addURLPattern("/bench/*");
        context.addFilterMap(map);
    }

    /** The filter's counters as {@code name=value} pairs, e.g. {@code agent.errors=0}. */
    private static String filterCounters(Context context) {
        Object c = context.getServletContext().getAttribute(SessionReplicationFilter.COUNTERS_ATTRIBUTE);
        if (!(c instanceof FilterCounters counters)) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        counters.snapshot().forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(v));
        return sb.toString();
    }

    /**
     * Answers that the node is up, how many other cluster members it sees and, with the filter,
     * the filter's counters (so that a run can tell whether a write was skipped or failed).
     */
    private static final class StatusServlet extends HttpServlet {
        private final transient Supplier<String> status;

        StatusServlet(Supplier<String> status) {
            this.status = status;
        }

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("text/plain");
            resp.getOutputStream().write((status.get() + "\n").getBytes(StandardCharsets.US_ASCII));
        }
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("arguments are --name=value, got " + arg);
            }
            m.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        return m;
    }

    private static String required(Map<String, String> a, String name) {
        String v = a.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }
}
