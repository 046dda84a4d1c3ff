package io.sessionagent.sample.e2e;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The filter on real server distributions: runs {@code servers/matrix.sh}, which fetches each
 * server from Maven Central, deploys the sample WAR as the README says, puts two nodes and two
 * agents behind NGINX, kills node1 with SIGKILL under load and checks every simulated user's
 * session. By default the CI set (Tomcat 9 for javax, Jetty 12 for jakarta, and Jetty 6 for the
 * Servlet 2.5 containers, embedded from its Maven Central jars) and a shorter control run of
 * Jetty 12 with the filter taken out of web.xml, which must fail; with {@code -Dmatrix=all} (or
 * {@code MATRIX=all}) every server of the script, or a space-separated list of its server names.
 */
class ServerMatrixIT {
    private static final Pattern LINE = Pattern.compile("^MATRIX server=(\\S+) .*result=(PASS|FAIL) .*");
    private static final Pattern LOST = Pattern.compile(" sessions_lost=(\\d+)");

    @Test
    void everyServerKeepsEveryUsersSessionThroughAKill() throws Exception {
        String set = System.getProperty("matrix", "").trim();
        if (set.isEmpty()) {
            set = System.getenv().getOrDefault("MATRIX", "").trim();
        }
        List<String> servers = set.isEmpty() ? List.of("ci") : List.of(set.split("\\s+"));
        Run run = matrix(servers, false);
        System.out.println(String.join("\n", run.output));
        assertThat(run.exit).as(run.why()).isZero();
        assertThat(run.results).as(run.why()).isNotEmpty().allSatisfy((server, line) ->
                assertThat(line).as(server).contains("result=PASS").contains("sessions_lost=0"));
        if (servers.contains("ci")) {
            assertThat(run.results.keySet()).containsExactly("tomcat9", "jetty12", "jetty6");
        }
    }

    @Test
    void withoutTheFilterInWebXmlTheSameRunFails() throws Exception {
        // Every user of node1 loses its session at the kill: a short load shows it as well as a long one.
        Run run = matrix(List.of("--before", "2", "--after", "3", "jetty12"), true);
        System.out.println(String.join("\n", run.output));
        assertThat(run.exit).as(run.why()).isNotZero();
        String line = run.results.get("jetty12");
        assertThat(line).as(run.why()).contains("result=FAIL");
        Matcher lost = LOST.matcher(line);
        assertThat(lost.find() && Integer.parseInt(lost.group(1)) > 0).as("sessions lost in " + line).isTrue();
    }

    private static final class Run {
        final List<String> output = new ArrayList<>();
        final Map<String, String> results = new LinkedHashMap<>();
        int exit;

        String why() {
            return String.join("\n", output.subList(Math.max(0, output.size() - 60), output.size()));
        }
    }

    private static Run matrix(List<String> servers, boolean withoutFilter) throws Exception {
        LocalCluster.nginxBinary(); // skipped without nginx, failed under CI
        List<String> cmd = new ArrayList<>(List.of("bash", LocalCluster.repoRoot().resolve("servers/matrix.sh").toString()));
        if (withoutFilter) {
            cmd.add("--without-filter");
        }
        cmd.addAll(servers);
        Process p = new ProcessBuilder(cmd).directory(LocalCluster.repoRoot().toFile()).redirectErrorStream(true).start();
        Run run = new Run();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String l;
            while ((l = r.readLine()) != null) {
                run.output.add(l);
                Matcher m = LINE.matcher(l);
                if (m.matches()) {
                    run.results.put(m.group(1), l);
                }
            }
        }
        // The script bounds every wait itself; this is the backstop.
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("servers/matrix.sh did not end within 30 minutes");
        }
        run.exit = p.exitValue();
        return run;
    }
}
