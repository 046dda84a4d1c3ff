package io.sessionagent.bench.http.harness;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What agent 2 (the replica) reports on its {@code /metrics} page (Prometheus text): the deltas it
 * applied ({@code session_agent_deltas_applied_total}) and its replication lag histogram
 * ({@code session_agent_replication_lag_seconds_bucket}, cumulative counts by upper bound {@code
 * le}, in seconds). Two scrapes, before and after the measured run, give the run's own figures
 * ({@link #minus}).
 *
 * @param lagBuckets cumulative count of lags at most each bound, in seconds; the last bound is
 *                   +Inf, whose count is every lag recorded
 */
record AgentMetrics(long deltasApplied, NavigableMap<Double, Long> lagBuckets) {
    static final String DELTAS_APPLIED = "session_agent_deltas_applied_total";
    static final String LAG_BUCKET = "session_agent_replication_lag_seconds_bucket";

    private static final Pattern SAMPLE = Pattern.compile(
            "(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*})?\\s+(\\S+)");
    private static final Pattern LE = Pattern.compile("[{,]\\s*le=\"([^\"]+)\"");

    AgentMetrics {
        lagBuckets = Collections.unmodifiableNavigableMap(new TreeMap<>(lagBuckets));
    }

    static AgentMetrics fetch(URI metricsBase) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(metricsBase.resolve("/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(metricsBase + "/metrics answered " + r.statusCode());
        }
        return parse(r.body());
    }

    static AgentMetrics parse(String scrape) {
        Long applied = null;
        NavigableMap<Double, Long> buckets = new TreeMap<>();
        Matcher m = SAMPLE.matcher(scrape);
        while (m.find()) {
            String name = m.group(1);
            if (name.equals(DELTAS_APPLIED)) {
                applied = count(m.group(3));
            } else if (name.equals(LAG_BUCKET) && m.group(2) != null) {
                Matcher le = LE.matcher(m.group(2));
                if (le.find()) {
                    buckets.merge(bound(le.group(1)), count(m.group(3)), Long::sum);
                }
            }
        }
        if (applied == null || buckets.isEmpty()) {
            throw new IllegalStateException("no " + DELTAS_APPLIED + " or no " + LAG_BUCKET + " in the agent's metrics");
        }
        return new AgentMetrics(applied, buckets);
    }

    /** This scrape's counts less an earlier one's: what happened in between. */
    AgentMetrics minus(AgentMetrics before) {
        NavigableMap<Double, Long> diff = new TreeMap<>();
        for (Map.Entry<Double, Long> e : lagBuckets.entrySet()) {
            diff.put(e.getKey(), e.getValue() - before.lagBuckets.getOrDefault(e.getKey(), 0L));
        }
        return new AgentMetrics(deltasApplied - before.deltasApplied, diff);
    }

    /** Lags recorded: the count of the largest bound (+Inf). */
    long lagCount() {
        return lagBuckets.isEmpty() ? 0 : lagBuckets.lastEntry().getValue();
    }

    /**
     * The upper bound of the bucket that holds the 99th percentile lag, in seconds: the smallest
     * bound whose cumulative count is at least 99% of all lags recorded. NaN when none was
     * recorded; +Infinity when the percentile lies above the largest finite bound.
     */
    double lagP99Seconds() {
        return percentileUpperBound(lagBuckets, 99);
    }

    /**
     * @param buckets cumulative counts by upper bound, the last one (+Inf) holding the total
     * @param percent 0 to 100
     */
    static double percentileUpperBound(NavigableMap<Double, Long> buckets, int percent) {
        long total = buckets.isEmpty() ? 0 : buckets.lastEntry().getValue();
        if (total <= 0) {
            return Double.NaN;
        }
        for (Map.Entry<Double, Long> e : buckets.entrySet()) {
            // cumulative >= percent% of total, in integers: no rounding at the edge.
            if (e.getValue() * 100 >= total * percent) {
                return e.getKey();
            }
        }
        return Double.POSITIVE_INFINITY;
    }

    /** The largest finite bound, in seconds (what "above every bucket" means), or NaN. */
    double largestFiniteBound() {
        Double b = lagBuckets.lowerKey(Double.POSITIVE_INFINITY);
        return b == null ? Double.NaN : b;
    }

    private static double bound(String le) {
        return switch (le) {
            case "+Inf", "Inf", "inf", "+inf" -> Double.POSITIVE_INFINITY;
            default -> Double.parseDouble(le);
        };
    }

    /** A count as Prometheus prints it: {@code 12}, {@code 12.0} or {@code 1.2E7}. */
    private static long count(String v) {
        return Math.round(Double.parseDouble(v));
    }
}
