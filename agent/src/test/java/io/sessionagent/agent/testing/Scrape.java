package io.sessionagent.agent.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One scrape of /metrics in the Prometheus text format, parsed into samples. */
public final class Scrape {
    /** One line: a series name, its labels and its value. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private final String text;
    private final List<Sample> samples;

    private Scrape(String text, List<Sample> samples) {
        this.text = text;
        this.samples = samples;
    }

    public static Scrape parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            Map<String, String> labels = new LinkedHashMap<>();
            String name;
            if (brace >= 0 && brace < space) {
                name = line.substring(0, brace);
                String inner = line.substring(brace + 1, line.lastIndexOf('}'));
                // Label values here never hold commas or quotes, so a plain split is enough.
                for (String pair : inner.split(",")) {
                    if (!pair.isBlank()) {
                        int eq = pair.indexOf('=');
                        labels.put(pair.substring(0, eq), pair.substring(eq + 2, pair.length() - 1));
                    }
                }
            } else {
                name = line.substring(0, space);
            }
            out.add(new Sample(name, labels, Double.parseDouble(line.substring(space + 1))));
        }
        return new Scrape(text, out);
    }

    /** The sum of the series of that name whose labels include the given pairs (name, value, ...). */
    public double value(String name, String... labelPairs) {
        double sum = 0;
        boolean found = false;
        for (Sample s : samples) {
            if (s.name().equals(name) && matches(s.labels(), labelPairs)) {
                sum += s.value();
                found = true;
            }
        }
        if (!found) {
            throw new AssertionError("no series " + name + " " + List.of(labelPairs) + " in:\n" + text);
        }
        return sum;
    }

    /** Every sample of a series name. */
    public List<Sample> samples(String name) {
        return samples.stream().filter(s -> s.name().equals(name)).toList();
    }

    public boolean has(String name) {
        return samples.stream().anyMatch(s -> s.name().equals(name));
    }

    /** The help text of a metric family, or null. */
    public String help(String family) {
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP " + family + " ")) {
                return line.substring(("# HELP " + family + " ").length());
            }
        }
        return null;
    }

    public String text() {
        return text;
    }

    private static boolean matches(Map<String, String> labels, String[] pairs) {
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            if (!pairs[i + 1].equals(labels.get(pairs[i]))) {
                return false;
            }
        }
        return true;
    }
}
