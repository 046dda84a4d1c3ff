package io.sessionagent.bench.http.harness;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Asks node 2, with each user's own cookie, for the counter of that user's session: missing when
 * node 2 has no such session, stale when its counter is below the last one the user saw from
 * node 1. (A replica may be ahead: a request wrk abandoned at the end of its run can still have
 * been served.)
 */
final class ReplicaCheck {
    private static final Pattern COUNTER = Pattern.compile("^c=(\\d+)");

    record Outcome(int checked, int missing, int stale, String firstProblem) {
    }

    private ReplicaCheck() {
    }

    static Outcome run(URI node2, List<Wrk.User> users) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        int missing = 0, stale = 0;
        String first = null;
        for (Wrk.User u : users) {
            HttpRequest.Builder req = HttpRequest.newBuilder(node2.resolve("/bench/read")).timeout(Duration.ofSeconds(5));
            if (!u.cookie().isEmpty()) {
                req.header("Cookie", u.cookie());
            }
            HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
            Matcher m = COUNTER.matcher(r.body());
            String problem = null;
            if (r.statusCode() != 200 || !m.find()) {
                missing++;
                problem = "missing: user " + u.id() + " " + u.cookie() + " -> " + r.statusCode() + " " + r.body().strip();
            } else if (Long.parseLong(m.group(1)) < u.counter()) {
                stale++;
                problem = "stale: user " + u.id() + " saw " + u.counter() + ", node 2 has " + m.group(1);
            }
            if (first == null) {
                first = problem;
            }
        }
        return new Outcome(users.size(), missing, stale, first);
    }
}
