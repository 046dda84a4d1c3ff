package io.sessionagent.sample.launcher;

import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ServerInfo;
import org.apache.tomcat.util.descriptor.web.FilterDef;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One app node: embedded Tomcat on 127.0.0.1:PORT serving a WAR at the root, with {@code jvmRoute}
 * set to the route (the filter takes its route from it). One source, two jars: this module's
 * {@code sample-node.jar} is built with Tomcat 11 and serves a jakarta WAR, launcher-tomcat9's
 * {@code sample-node-tomcat9.jar} is built from this same file with Tomcat 9 and serves a javax WAR.
 * The line it prints once started names the Tomcat it runs.
 *
 * <pre>
 * java -jar sample-node.jar --port 8081 --route node1 --agent 127.0.0.1:7400 --war sample-app-jakarta.war
 * java -jar sample-node.jar --port 8081 --route node1 --war sample-app-jakarta.war --replication-mode async
 * java -jar sample-node-tomcat9.jar --port 8081 --route node1 --agent 127.0.0.1:7400 --war sample-app-javax.war
 * </pre>
 *
 * {@code --agent} overrides the filter's {@code agent-address} init-param: on a real host each app
 * server has its agent on the default 127.0.0.1:7400, but two nodes on one machine need two.
 * {@code --replication-mode async|sync} overrides its {@code replication-mode} init-param in the
 * same way (the sample WAR's web.xml sets {@code sync}). Both apply to every filter whose class is
 * in {@code io.sessionagent.filter.} and replace what web.xml says; without them web.xml decides.
 */
public final class SampleNode {
    /** The values {@code --replication-mode} takes: the filter's {@code replication-mode} init-param. */
    static final List<String> REPLICATION_MODES = List.of("async", "sync");

    private SampleNode() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        if (opts == null) {
            System.err.println("usage: java -jar sample-node.jar --port PORT --route ROUTE --war FILE.war"
                    + " [--agent HOST:PORT] [--replication-mode async|sync] [--address 127.0.0.1]");
            System.exit(2);
            return;
        }
        int port = Integer.parseInt(opts.get("port"));
        String route = opts.get("route");
        String agent = opts.get("agent");
        Map<String, String> filterParams = filterInitParams(opts);
        Path war = Path.of(opts.get("war")).toAbsolutePath();
        if (!Files.isRegularFile(war)) {
            System.err.println("no such WAR: " + war);
            System.exit(2);
            return;
        }
        System.setProperty("jvmRoute", route);

        Path base = Files.createTempDirectory("sample-node-" + route + "-");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector();
        connector.setPort(port);
        connector.setProperty("address", opts.getOrDefault("address", "127.0.0.1"));
        tomcat.setConnector(connector);
        tomcat.getEngine().setJvmRoute(route);
        tomcat.getHost().setAppBase(base.resolve("webapps").toString());
        Files.createDirectories(base.resolve("webapps"));
        // No JSP engine on this classpath: leave out the default servlets that need one.
        tomcat.setAddDefaultWebXmlToWebapp(false);
        Context context = tomcat.addWebapp("", war.toString());
        if (!filterParams.isEmpty()) {
            // After ContextConfig (added by addWebapp) has read web.xml, before the filters start.
            context.addLifecycleListener(event -> {
                if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType())) {
                    overrideFilterInitParams(context, filterParams);
                }
            });
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                tomcat.stop();
                tomcat.destroy();
            } catch (Exception e) {
                // stopping anyway
            }
            deleteQuietly(base);
        }, "sample-node-stop"));
        tomcat.start();
        if (context.getState() != LifecycleState.STARTED) {
            System.err.println("the web application did not start; see the log above");
            System.exit(1);
        }
        System.out.println("sample node " + route + " on " + ServerInfo.getServerInfo() + ": http://"
                + opts.getOrDefault("address", "127.0.0.1") + ":" + connector.getLocalPort() + "/counter, agent "
                + (agent == null ? "from web.xml" : agent)
                + ", replication mode " + filterParams.getOrDefault("replication-mode", "from web.xml")
                + ", war " + war);
        tomcat.getServer().await();
    }

    /** The filter init-params the options set: {@code agent-address}, {@code replication-mode}. */
    static Map<String, String> filterInitParams(Map<String, String> opts) {
        Map<String, String> params = new LinkedHashMap<>();
        if (opts.containsKey("agent")) {
            params.put("agent-address", opts.get("agent"));
        }
        if (opts.containsKey("replication-mode")) {
            params.put("replication-mode", opts.get("replication-mode"));
        }
        return params;
    }

    /**
     * Sets the params on every filter of the session-agent filter jar, replacing web.xml's values:
     * {@link FilterDef#addInitParameter} would keep the first definition, web.xml's.
     */
    static void overrideFilterInitParams(Context context, Map<String, String> params) {
        for (FilterDef def : context.findFilterDefs()) {
            if (def.getFilterClass() != null && def.getFilterClass().startsWith("io.sessionagent.filter.")) {
                def.getParameterMap().putAll(params);
            }
        }
    }

    /** The options by name, or null when one is missing, malformed or has a value it does not take. */
    static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                return null;
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                return null;
            }
            m.put(name, value);
        }
        if (m.containsKey("replication-mode") && !REPLICATION_MODES.contains(m.get("replication-mode"))) {
            return null;
        }
        return m.containsKey("port") && m.containsKey("route") && m.containsKey("war") ? m : null;
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory; the OS cleans up eventually
        }
    }
}
