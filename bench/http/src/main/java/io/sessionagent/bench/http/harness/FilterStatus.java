package io.sessionagent.bench.http.harness;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The filter counters node 1's {@code /status} reports ({@code FilterCounters.snapshot()} as
 * {@code name=value} pairs): the writes the agent accepted ({@code deltas.sent}), changes merged into
 * a write of their session that had not left yet ({@code writes.coalesced}), agent calls that
 * failed ({@code agent.errors}) or that the filter skipped while it considered the agent down
 * ({@code agent.calls_skipped}), write streams that failed ({@code agent.stream_failures}) and
 * writes the filter did not replicate ({@code writes.not_replicated}). A counter a filter version
 * does not have reads 0. A run with any of them above 0 replicated less than every write, so the
 * report shows them.
 */
record FilterStatus(long deltasSent, long coalesced, long agentErrors, long callsSkipped, long streamFailures,
                    long notReplicated) {

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
        return new FilterStatus(m.get("deltas.sent"), m.getOrDefault("writes.coalesced", 0L),
                m.getOrDefault("agent.errors", 0L),
                m.getOrDefault("agent.calls_skipped", 0L), m.getOrDefault("agent.stream_failures", 0L),
                m.getOrDefault("writes.not_replicated", 0L));
    }

    FilterStatus minus(FilterStatus before) {
        return new FilterStatus(deltasSent - before.deltasSent, coalesced - before.coalesced,
                agentErrors - before.agentErrors,
                callsSkipped - before.callsSkipped, streamFailures - before.streamFailures,
                notReplicated - before.notReplicated);
    }

    /** Agent calls that failed or were skipped (a skipped call is one the filter did not make). */
    long errors() {
        return agentErrors + callsSkipped;
    }
}
