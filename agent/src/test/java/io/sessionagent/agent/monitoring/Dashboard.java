package io.sessionagent.agent.monitoring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The Grafana dashboard file, read as the tests need it: its queries and its template variables. */
final class Dashboard {
    /** Where the dashboard lives, from the agent module's directory (the tests' working directory). */
    static final Path FILE = Path.of("..", "grafana", "dashboards", "session-agent.json").toAbsolutePath().normalize();

    /**
     * What Grafana would put in place of the variables with every instance selected and a
     * 1 s scrape interval ({@code $__rate_interval} is at least four scrape intervals).
     */
    static final Map<String, String> VARIABLES = Map.of(
            "job", "session-agent",
            "instance", ".*",
            "__rate_interval", "30s",
            "__interval", "15s");

    private static final Pattern VARIABLE = Pattern.compile("\\$(?:\\{(\\w+)}|(\\w+))");
    private static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\((.*),\\s*(\\w+)\\s*\\)\\s*$");

    /** One target of one panel. */
    record Query(String panel, String refId, String expr, String legend) {
        /** The expression as Prometheus gets it. */
        String promql() {
            return substitute(expr);
        }
    }

    /** A template variable filled by {@code label_values(expr, label)}. */
    record LabelValuesVariable(String name, String expr, String label) {
    }

    private final Map<String, Object> root;

    private Dashboard(Map<String, Object> root) {
        this.root = root;
    }

    static Dashboard load() throws IOException {
        return new Dashboard(Json.object(Json.parse(Files.readString(FILE))));
    }

    Map<String, Object> root() {
        return root;
    }

    /** Every panel, those nested in collapsed rows included, in file order. */
    List<Map<String, Object>> panels() {
        List<Map<String, Object>> out = new ArrayList<>();
        collect(Json.array(root.get("panels")), out);
        return out;
    }

    private static void collect(List<Object> panels, List<Map<String, Object>> out) {
        for (Object o : panels) {
            Map<String, Object> p = Json.object(o);
            out.add(p);
            if (p.get("panels") != null) {
                collect(Json.array(p.get("panels")), out);
            }
        }
    }

    /** Every {@code targets[].expr} of every panel. */
    List<Query> queries() {
        List<Query> out = new ArrayList<>();
        for (Map<String, Object> p : panels()) {
            if (p.get("targets") == null) {
                continue;
            }
            for (Object t : Json.array(p.get("targets"))) {
                Map<String, Object> target = Json.object(t);
                out.add(new Query((String) p.get("title"), (String) target.get("refId"), (String) target.get("expr"),
                        (String) target.getOrDefault("legendFormat", "")));
            }
        }
        return out;
    }

    List<Map<String, Object>> variables() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object v : Json.array(Json.object(root.get("templating")).get("list"))) {
            out.add(Json.object(v));
        }
        return out;
    }

    /** The variables of type query, which all use {@code label_values(expr, label)}. */
    List<LabelValuesVariable> labelValuesVariables() {
        List<LabelValuesVariable> out = new ArrayList<>();
        for (Map<String, Object> v : variables()) {
            if (!"query".equals(v.get("type"))) {
                continue;
            }
            Object q = v.get("query");
            String text = q instanceof Map ? (String) Json.object(q).get("query") : (String) q;
            Matcher m = LABEL_VALUES.matcher(text);
            if (!m.matches()) {
                throw new AssertionError("variable " + v.get("name") + " is not label_values(expr, label): " + text);
            }
            out.add(new LabelValuesVariable((String) v.get("name"), m.group(1), m.group(2)));
        }
        return out;
    }

    /** Puts the values of {@link #VARIABLES} in place; a variable without a value is an error. */
    static String substitute(String expr) {
        Matcher m = VARIABLE.matcher(expr);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            String value = VARIABLES.get(name);
            if (value == null) {
                throw new AssertionError("unknown variable $" + name + " in " + expr);
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(value));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
