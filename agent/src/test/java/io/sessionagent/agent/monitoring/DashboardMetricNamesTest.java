package io.sessionagent.agent.monitoring;

import io.micrometer.core.instrument.Meter;
import io.sessionagent.agent.metrics.JvmMeters;
import io.sessionagent.agent.metrics.MeterCatalogue;
import io.sessionagent.agent.metrics.MeterSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard against the meter catalogue, without Prometheus: every series and label a query
 * names is one the agent exports, and every meter is shown somewhere. {@code DashboardQueriesIT}
 * then runs the queries against a real Prometheus scraping real agents.
 */
class DashboardMetricNamesTest {
    private static final String DATASOURCE = "${DS_PROMETHEUS}";
    private static final Pattern SERIES = Pattern.compile(
            "\\b(session_agent_[a-z0-9_]+|grpc_server_[a-z0-9_]+|jvm_[a-z0-9_]+|process_[a-z0-9_]+"
                    + "|system_[a-z0-9_]+|up)\\b(\\{[^}]*})?");
    private static final Pattern MATCHER = Pattern.compile("(\\w+)\\s*(?:=~|!~|!=|=)\\s*\"");
    private static final Pattern BY = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");
    /** Labels Prometheus adds to every series. */
    private static final Set<String> TARGET_LABELS = Set.of("job", "instance");

    /** Every series name a scrape shows, with the labels it carries (target labels aside). */
    private static Map<String, Set<String>> exportedSeries() {
        Map<String, Set<String>> out = new HashMap<>();
        for (MeterSpec spec : MeterCatalogue.all()) {
            Set<String> tags = new HashSet<>(spec.tagKeys());
            String name = spec.prometheusName();
            if (spec.type() == Meter.Type.TIMER) {
                Set<String> bucket = new HashSet<>(tags);
                bucket.add("le");
                out.put(name + "_bucket", bucket);
                out.put(name + "_count", tags);
                out.put(name + "_sum", tags);
            } else {
                out.put(name, tags);
            }
        }
        out.putAll(JvmMeters.DASHBOARD_SERIES);
        out.put("up", Set.of());
        return out;
    }

    @Test
    void everyQueryNamesOnlyExportedSeriesAndTheirLabels() throws Exception {
        Map<String, Set<String>> exported = exportedSeries();
        List<Dashboard.Query> queries = Dashboard.load().queries();
        assertThat(queries).hasSizeGreaterThan(20);
        List<String> problems = new ArrayList<>();
        for (Dashboard.Query q : queries) {
            String expr = Dashboard.substitute(q.expr());
            Matcher s = SERIES.matcher(expr);
            Set<String> labelsInExpr = new HashSet<>(TARGET_LABELS);
            int found = 0;
            while (s.find()) {
                found++;
                Set<String> labels = exported.get(s.group(1));
                if (labels == null) {
                    problems.add(q.panel() + ": " + s.group(1) + " is not exported");
                    continue;
                }
                labelsInExpr.addAll(labels);
                if (s.group(2) != null) {
                    Matcher m = MATCHER.matcher(s.group(2));
                    while (m.find()) {
                        if (!TARGET_LABELS.contains(m.group(1)) && !labels.contains(m.group(1))) {
                            problems.add(q.panel() + ": " + s.group(1) + " has no label " + m.group(1));
                        }
                    }
                }
            }
            if (found == 0) {
                problems.add(q.panel() + ": no series in " + expr);
            }
            Matcher by = BY.matcher(expr);
            while (by.find()) {
                for (String label : by.group(1).split(",")) {
                    if (!label.isBlank() && !labelsInExpr.contains(label.strip())) {
                        problems.add(q.panel() + ": grouping by " + label.strip() + ", which no series of "
                                + expr + " has");
                    }
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void everyMeterOfTheCatalogueIsShown() throws Exception {
        StringBuilder all = new StringBuilder();
        Dashboard.load().queries().forEach(q -> all.append(q.expr()).append('\n'));
        Set<String> missing = new TreeSet<>();
        for (MeterSpec spec : MeterCatalogue.all()) {
            if (!Pattern.compile("\\b" + spec.prometheusName() + "(_bucket|_count|_sum)?\\b").matcher(all).find()) {
                missing.add(spec.prometheusName());
            }
        }
        assertThat(missing).isEmpty();
    }

    @Test
    void panelsUseTheDatasourceVariableAndTheTemplateHasJobAndInstance() throws Exception {
        Dashboard d = Dashboard.load();
        assertThat(((Double) d.root().get("schemaVersion")).intValue()).isBetween(36, 41);
        List<String> rows = new ArrayList<>();
        for (Map<String, Object> p : d.panels()) {
            if ("row".equals(p.get("type"))) {
                rows.add((String) p.get("title"));
                continue;
            }
            assertThat(Json.object(p.get("datasource")).get("uid")).as(p.get("title") + " datasource")
                    .isEqualTo(DATASOURCE);
            for (Object t : Json.array(p.get("targets"))) {
                assertThat(Json.object(Json.object(t).get("datasource")).get("uid")).as(p.get("title") + " target")
                        .isEqualTo(DATASOURCE);
            }
        }
        assertThat(rows).containsExactly("Cluster overview", "Per node", "JVM and process");

        Map<String, Map<String, Object>> vars = new HashMap<>();
        d.variables().forEach(v -> vars.put((String) v.get("name"), v));
        assertThat(vars.keySet()).containsExactlyInAnyOrder("DS_PROMETHEUS", "job", "instance");
        assertThat(vars.get("DS_PROMETHEUS").get("type")).isEqualTo("datasource");
        assertThat(vars.get("DS_PROMETHEUS").get("query")).isEqualTo("prometheus");
        assertThat(Json.object(vars.get("DS_PROMETHEUS").get("current")).get("value")).isEqualTo("prometheus");
        assertThat(vars.get("instance").get("allValue")).isEqualTo(".*");
        assertThat(d.labelValuesVariables()).extracting(Dashboard.LabelValuesVariable::label)
                .containsExactly("job", "instance");

        // Every selector takes the instance variable as a regex, so that "All" (.*) and several work.
        for (Dashboard.Query q : d.queries()) {
            assertThat(q.expr()).as(q.panel()).doesNotContain("instance=\"$instance\"");
            Matcher s = SERIES.matcher(q.expr());
            while (s.find()) {
                assertThat(s.group(2)).as(q.panel() + ": " + q.expr()).contains("job=\"$job\"")
                        .contains("instance=~\"$instance\"");
            }
        }
    }
}
