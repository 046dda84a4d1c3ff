package io.sessionagent.bench.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The figures of one harness run with the machine they ran on, written as JSON and TSV. */
final class Results {
    private final Map<String, String> context = new LinkedHashMap<>();
    private final List<Figure> figures = new ArrayList<>();

    void context(String key, String value) {
        context.put(key, value);
    }

    Map<String, String> context() {
        return context;
    }

    void add(String key, String label, double value, String unit) {
        figures.add(new Figure(key, label, value, unit));
    }

    List<Figure> figures() {
        return List.copyOf(figures);
    }

    double get(String key) {
        return figures.stream().filter(f -> f.key().equals(key)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no figure " + key)).value();
    }

    boolean has(String key) {
        return figures.stream().anyMatch(f -> f.key().equals(key));
    }

    void writeTsv(Path file) throws IOException {
        StringBuilder b = new StringBuilder("key\tvalue\tunit\tlabel\n");
        for (Figure f : figures) {
            b.append(f.key()).append('\t').append(number(f.value())).append('\t').append(f.unit()).append('\t')
                    .append(f.label()).append('\n');
        }
        Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
    }

    void writeJson(Path file) throws IOException {
        StringBuilder b = new StringBuilder("{\n  \"context\": {");
        String sep = "\n";
        for (Map.Entry<String, String> e : context.entrySet()) {
            b.append(sep).append("    ").append(quote(e.getKey())).append(": ").append(quote(e.getValue()));
            sep = ",\n";
        }
        b.append("\n  },\n  \"figures\": [");
        sep = "\n";
        for (Figure f : figures) {
            b.append(sep).append("    {\"key\": ").append(quote(f.key())).append(", \"value\": ")
                    .append(number(f.value())).append(", \"unit\": ").append(quote(f.unit()))
                    .append(", \"label\": ").append(quote(f.label())).append('}');
            sep = ",\n";
        }
        b.append("\n  ]\n}\n");
        Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
    }

    static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v)
                : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
