package io.sessionagent.sample.e2e;

import io.sessionagent.agent.testing.AgentProcess;
import io.sessionagent.agent.testing.Networks;
import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample WAR (the filter's {@code -all} jar in its {@code WEB-INF/lib}) in an embedded Tomcat
 * 11, beside a real agent process, reloaded twice while 16 users keep writing to their sessions.
 * Tomcat's own leak detection runs at each stop: it must report no thread the application left
 * running and no {@code ThreadLocal} it left behind, and the old web application's class loader
 * must be collectable, so that a hot redeploy does not leak it. The users' sessions go on across
 * each reload: the new filter finds them at the agent.
 */
class RedeployIT {
    private static final int USERS = 16;
    private static final Pattern COUNT = Pattern.compile("\"count\":(\\d+)");

    /** Tomcat's leak reports: WebappClassLoaderBase logs them at WARNING (threads) and SEVERE (ThreadLocals). */
    private final List<String> leaks = new CopyOnWriteArrayList<>();
    private final Handler leakLog = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                leaks.add(r.getLevel() + " " + new java.util.logging.SimpleFormatter().formatMessage(r));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @Test
    void reloadingUnderLoadLeavesNoThreadNoThreadLocalAndNoClassLoader() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "e2e", "redeploy-" + System.currentTimeMillis()))
                .toAbsolutePath();
        Logger loaderLog = Logger.getLogger("org.apache.catalina.loader.WebappClassLoaderBase");
        loaderLog.addHandler(leakLog);
        Tomcat tomcat = null;
        try (AgentProcess agent = AgentProcess.start("redeploy", Networks.loopbackCluster("redeploy-" + System.nanoTime()),
                dir)) {
            agent.awaitReady(Duration.ofSeconds(30));
            tomcat = new Tomcat();
            tomcat.setBaseDir(dir.resolve("tomcat").toString());
            Connector connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            tomcat.setConnector(connector);
            tomcat.getEngine().setJvmRoute("node1");
            tomcat.getHost().setAppBase(dir.resolve("webapps").toString());
            Files.createDirectories(dir.resolve("webapps"));
            tomcat.setAddDefaultWebXmlToWebapp(false);
            Context context = tomcat.addWebapp("", LocalCluster.file("sample.war").toString());
            String agentAddress = "127.0.0.1:" + agent.grpcPort();
            context.addLifecycleListener(event -> {
                if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType())) {
                    for (FilterDef def : context.findFilterDefs()) {
                        if (def.getFilterClass() != null && def.getFilterClass().startsWith("io.sessionagent.filter.")) {
                            def.getParameterMap().put("agent-address", agentAddress);
                        }
                    }
                }
            });
            tomcat.start();
            assertThat(context.getState()).isEqualTo(LifecycleState.STARTED);
            URI counter = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/counter?pad=256");

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger answered = new AtomicInteger();
            ConcurrentHashMap<Integer, Integer> lastCount = new ConcurrentHashMap<>();
            List<String> wentBack = new CopyOnWriteArrayList<>();
            List<Thread> users = new ArrayList<>();
            for (int u = 0; u < USERS; u++) {
                int user = u;
                Thread t = new Thread(() -> {
                    HttpClient http = HttpClient.newBuilder().cookieHandler(new java.net.CookieManager())
                            .connectTimeout(Duration.ofSeconds(5)).build();
                    for (int i = 0; i < 100_000 && !stop.get(); i++) {
                        try {
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(counter)
                                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                            Matcher m = COUNT.matcher(r.body());
                            if (r.statusCode() == 200 && m.find()) {
                                int c = Integer.parseInt(m.group(1));
                                Integer before = lastCount.put(user, c);
                                if (before != null && c != before + 1) {
                                    wentBack.add("user " + user + ": " + before + " then " + c);
                                }
                                answered.incrementAndGet();
                            }
                            Thread.sleep(5);
                        } catch (InterruptedException e) {
                            return;
                        } catch (Exception e) {
                            // A request during the reload may fail; the next one goes on.
                        }
                    }
                }, "user-" + u);
                t.start();
                users.add(t);
            }

            List<WeakReference<ClassLoader>> oldLoaders = new ArrayList<>();
            for (int reload = 0; reload < 2; reload++) {
                int before = answered.get();
                awaitAnswers(answered, before + 500);
                oldLoaders.add(new WeakReference<>(context.getLoader().getClassLoader()));
                context.reload();
                assertThat(context.getState()).isEqualTo(LifecycleState.STARTED);
            }
            awaitAnswers(answered, answered.get() + 500);
            stop.set(true);
            for (Thread t : users) {
                t.join(15_000);
            }

            System.out.println("REDEPLOY answered=" + answered.get() + " went_back=" + wentBack.size()
                    + " leak_reports=" + leaks.size());
            leaks.forEach(l -> System.out.println("REDEPLOY-LEAK " + l));
            assertThat(leaks).as("Tomcat's leak reports at stop").isEmpty();
            assertThat(wentBack).as("sessions that did not go on across a reload").isEmpty();
            for (int i = 0; i < 50 && oldLoaders.stream().anyMatch(r -> r.get() != null); i++) {
                System.gc();
                Thread.sleep(100);
            }
            assertThat(oldLoaders).as("old web application class loaders still reachable")
                    .allSatisfy(r -> assertThat(r.get()).isNull());
            // Before the agent goes: the filter's last writes and its stream end normally.
            tomcat.stop();
            tomcat.destroy();
            tomcat = null;
        } finally {
            if (tomcat != null) {
                tomcat.stop();
                tomcat.destroy();
            }
            loaderLog.removeHandler(leakLog);
        }
    }

    private static void awaitAnswers(AtomicInteger answered, int atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (answered.get() < atLeast) {
            assertThat(System.nanoTime()).as("%d answers", atLeast).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
