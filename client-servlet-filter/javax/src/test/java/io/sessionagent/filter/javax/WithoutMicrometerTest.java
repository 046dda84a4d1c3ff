package io.sessionagent.filter.javax;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.testing.TestCluster;
import io.sessionagent.filter.core.metrics.FilterMetrics;
import io.sessionagent.filter.core.SessionManager;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.servlet.Filter;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The filter in an application without Micrometer. The test JVM has Micrometer (the agent uses
 * it), so the filter's own classes are loaded by a class loader that hides io.micrometer, and
 * the application's class loader sits on top of it.
 */
@Isolated
class WithoutMicrometerTest {
    private static final String BINDER = "io.sessionagent.filter.core.metrics.MicrometerMeters";

    @TempDir
    Path baseDir;

    /** Defines the filter's classes itself, from the given locations, and refuses io.micrometer. */
    static final class HidingLoader extends URLClassLoader {
        final Set<String> defined = ConcurrentHashMap.newKeySet();
        final Set<String> refused = ConcurrentHashMap.newKeySet();

        HidingLoader(URL[] urls, ClassLoader parent) {
            super(urls, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("io.micrometer.")) {
                refused.add(name);
                throw new ClassNotFoundException(name);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null && name.startsWith("io.sessionagent.filter.")) {
                    try {
                        c = findClass(name);
                        defined.add(name);
                    } catch (ClassNotFoundException e) {
                        // A test class: the parent has it.
                    }
                }
                if (c == null) {
                    return super.loadClass(name, resolve);
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }
    }

    /** Where the javax adapter's and the core's classes come from: directories or jars. */
    private static URL[] filterLocations() {
        return new URL[] {
                SessionReplicationFilter.class.getProtectionDomain().getCodeSource().getLocation(),
                SessionManager.class.getProtectionDomain().getCodeSource().getLocation()};
    }

    @Test
    void theFilterServesAndPublishesOverJmxWhenMicrometerIsAbsent() throws Exception {
        MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("io.sessionagent.filter:type=SessionReplicationFilter,context=ROOT,name=bare");
        try (TestCluster cluster = new TestCluster("filter-no-micrometer");
             HidingLoader loader = new HidingLoader(filterLocations(), getClass().getClassLoader())) {
            Agent agent = cluster.start("agent-a");
            agent.replicator().ready().get(15, TimeUnit.SECONDS);
            Tomcat tomcat = new Tomcat();
            tomcat.setBaseDir(baseDir.toString());
            Connector connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            tomcat.setConnector(connector);
            Context context = tomcat.addContext("", null);
            context.setParentClassLoader(loader);
            Tomcat.addServlet(context, "count", new CountServlet());
            context.addServletMappingDecoded("/count", "count");
            FilterDef def = new FilterDef();
            def.setFilterName("bare");
            def.setFilterClass(SessionReplicationFilter.class.getName());
            def.setFilter((Filter) loader.loadClass(SessionReplicationFilter.class.getName())
                    .getDeclaredConstructor().newInstance());
            def.addInitParameter("agent-address", "127.0.0.1:" + agent.grpcPort());
            def.addInitParameter("route", "a");
            context.addFilterDef(def);
            FilterMap map = new FilterMap();
            map.setFilterName("bare");
            map.addURLPattern("/*");
            context.addFilterMap(map);
            tomcat.start();
            try {
                assertThat(context.getLoader().getClassLoader().getParent()).isSameAs(loader);
                HttpClient http = HttpClient.newHttpClient();
                URI uri = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/count");
                HttpResponse<String> first = http.send(HttpRequest.newBuilder(uri).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(first.body()).isEqualTo("n=1");
                String cookie = first.headers().firstValue("Set-Cookie").orElseThrow();
                HttpResponse<String> second = http.send(HttpRequest.newBuilder(uri)
                        .header("Cookie", cookie.substring(0, cookie.indexOf(';'))).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(second.body()).isEqualTo("n=2");

                assertThat(loader.defined).as("the filter runs on the hiding loader's classes")
                        .contains(SessionReplicationFilter.class.getName(), FilterMetrics.class.getName());
                assertThat(loader.refused).as("Micrometer was looked for")
                        .contains("io.micrometer.core.instrument.MeterRegistry");
                assertThat(loader.defined).as("and its binder never loaded").doesNotContain(BINDER);
                assertThat(mbeans.getAttribute(name, "SessionsCreated")).isEqualTo(1L);
                // An async request answers before the agent does: the second count may come just after.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!Long.valueOf(2).equals(mbeans.getAttribute(name, "DeltasSent"))
                        && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(mbeans.getAttribute(name, "DeltasSent")).isEqualTo(2L);
            } finally {
                tomcat.stop();
                tomcat.destroy();
            }
            assertThat(mbeans.isRegistered(name)).isFalse();
        }
    }

    /**
     * Catches a hard reference before any class loader does: outside the binder, no class of the
     * core or the adapter may name a Micrometer type, even in code that a test never runs.
     */
    @Test
    void onlyTheBinderNamesMicrometer() throws Exception {
        List<String> offenders = new ArrayList<>();
        int scanned = 0;
        for (URL location : filterLocations()) {
            Path p = Paths.get(location.toURI());
            if (Files.isDirectory(p)) {
                try (Stream<Path> files = Files.walk(p)) {
                    for (Path f : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
                        scanned++;
                        check(p.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f), offenders);
                    }
                }
            } else {
                try (JarFile jar = new JarFile(p.toFile())) {
                    for (JarEntry e : (Iterable<JarEntry>) jar.stream()::iterator) {
                        if (e.getName().endsWith(".class")) {
                            scanned++;
                            try (InputStream in = jar.getInputStream(e)) {
                                check(e.getName(), in.readAllBytes(), offenders);
                            }
                        }
                    }
                }
            }
        }
        assertThat(scanned).isGreaterThan(10);
        assertThat(offenders).isEmpty();
    }

    private static void check(String entry, byte[] classFile, List<String> offenders) {
        String binary = BINDER.replace('.', '/');
        if (entry.equals(binary + ".class") || entry.startsWith(binary + "$")) {
            assertThat(new String(classFile, StandardCharsets.ISO_8859_1)).contains("io/micrometer/");
            return;
        }
        if (new String(classFile, StandardCharsets.ISO_8859_1).contains("io/micrometer/")) {
            offenders.add(entry);
        }
    }

    public static final class CountServlet extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession s = req.getSession();
            Integer n = (Integer) s.getAttribute("n");
            s.setAttribute("n", n == null ? 1 : n + 1);
            resp.setContentType("text/plain");
            resp.getWriter().print("n=" + s.getAttribute("n"));
        }
    }
}
