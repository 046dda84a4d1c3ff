package io.sessionagent.agent.cli;

import java.io.PrintStream;
import java.util.List;

/** Rows as left-aligned columns; the last column is not padded. */
final class TextTable {

    private TextTable() {}

    static void print(PrintStream out, String indent, List<String[]> rows) {
        out.print(format(indent, rows));
    }

    static String format(String indent, List<String[]> rows) {
        int columns = rows.stream().mapToInt(r -> r.length).max().orElse(0);
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder sb = new StringBuilder(indent);
            for (int i = 0; i < row.length; i++) {
                sb.append(row[i]);
                if (i < row.length - 1) {
                    sb.append(" ".repeat(widths[i] - row[i].length() + 2));
                }
            }
            out.append(sb.toString().stripTrailing()).append(System.lineSeparator());
        }
        return out.toString();
    }
}
