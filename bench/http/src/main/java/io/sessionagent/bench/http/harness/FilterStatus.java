package io.sessionagent.bench.http.harness;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The filter counters node 1's {@code /status} reports: writes the filter sent, and calls that
 * failed or that it skipped while it considered the agent down. A run whose writes failed or were
 * skipped measured less than full replication, so the report shows them.
 */
record FilterStatus(long deltasSent, long agentErrors, long callsSkipped) {

    static FilterStatus fetch(URI node) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(node.resolve("/status"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return parse(r.body());
    }

    static FilterStatus parse(String body) {
        Map<String, Long> m = new HashMap<>();
        for (String pair : body.strip().split(" ")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                m.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
            }
        }
        if (!m.containsKey("deltas.sent")) {
            throw new IllegalStateException("no filter counters in /status: " + body);
        }
        return new FilterStatus(m.get("deltas.sent"), m.getOrDefault("agent.errors", 0L),
                m.getOrDefault("agent.calls_skipped", 0L));
    }

    FilterStatus minus(FilterStatus before) {
        return new FilterStatus(deltasSent - before.deltasSent, agentErrors - before.agentErrors,
                callsSkipped - before.callsSkipped);
    }

    long failedOrSkipped() {
        return agentErrors + callsSkipped;
    }
}
