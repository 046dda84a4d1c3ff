package io.sessionagent.bench.http.harness;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Horizontal bar charts side by side, req/s, p99 and (with the filter) agent 2's replication lag p99
 * per configuration, one group of rows per connection count (each panel scaled to its largest value
 * over all counts), drawn with Java2D. A filter row that did not replicate every write says so in
 * red beside its lag.
 */
final class Chart {
    static final int WIDTH = 1200;
    private static final int ROW = 34;
    private static final int GROUP = 28;
    private static final int TOP = 70;
    private static final int LABEL = 190;
    private static final Color ALONE = new Color(0x8c8c8c);
    private static final Color DELTA = new Color(0xe07b39);
    private static final Color OURS = new Color(0x3a78c2);

    private Chart() {
    }

    /** A line of the chart: the heading of a connection count's group, or a configuration's bars. */
    private record Line(int y, Integer connections, Result result) {
    }

    /**
     * @param note       what is written after the value, or null; in red
     * @param textRoom   pixels kept right of the longest bar for the value and the note
     */
    private record Panel(String heading, ToDoubleFunction<Result> value, String format,
                         Function<Result, String> note, int textRoom) {
    }

    static void write(List<Result> results, String title, Path file) throws IOException {
        List<Line> lines = new ArrayList<>();
        int y = TOP;
        Integer group = null;
        for (Result r : results) {
            if (group == null || group != r.connections()) {
                group = r.connections();
                lines.add(new Line(y, group, null));
                y += GROUP;
            }
            lines.add(new Line(y, null, r));
            y += ROW;
        }
        int height = y + 30;
        List<Panel> panels = List.of(
                new Panel("requests per second (higher is better)", Result::rps, "%,.0f", null, 70),
                new Panel("p99 latency, ms (lower is better)", Result::p99Ms, "%.1f", null, 70),
                new Panel("replication lag p99 on node 2, ms (bucket bound)", Result::lagP99Ms, "≤ %.2f",
                        r -> Boolean.FALSE.equals(r.everyWriteReplicated()) ? "not every write replicated" : null, 235));
        BufferedImage img = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(title, 20, 28);
            labels(g, lines);
            int width = (WIDTH - LABEL - 10) / panels.size();
            for (int i = 0; i < panels.size(); i++) {
                panel(g, lines, results, panels.get(i), LABEL + i * width, width);
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(img, "png", file.toFile());
    }

    private static void labels(Graphics2D g, List<Line> lines) {
        for (Line l : lines) {
            if (l.connections() != null) {
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
                g.setColor(Color.BLACK);
                g.drawString(l.connections() + " connections", 20, l.y() + GROUP - 10);
            } else {
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
                FontMetrics fm = g.getFontMetrics();
                String label = l.result().config().label;
                g.setColor(Color.BLACK);
                g.drawString(label, LABEL - 8 - fm.stringWidth(label), baseline(l, fm));
            }
        }
    }

    private static void panel(Graphics2D g, List<Line> lines, List<Result> results, Panel p, int x0, int width) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        FontMetrics fm = g.getFontMetrics();
        g.setColor(Color.DARK_GRAY);
        g.drawString(p.heading(), x0 + 4, TOP - 18);
        double max = results.stream().mapToDouble(p.value()).filter(Double::isFinite).max().orElse(1);
        int barMax = width - p.textRoom() - 10;
        for (Line l : lines) {
            if (l.result() == null) {
                continue;
            }
            double v = p.value().applyAsDouble(l.result());
            g.setColor(Color.BLACK);
            if (Double.isNaN(v)) {
                g.drawString("–", x0 + 6, baseline(l, fm));
                continue;
            }
            int len = Double.isInfinite(v) ? barMax : max <= 0 ? 0 : (int) Math.round(v / max * barMax);
            g.setColor(color(l.result().config()));
            g.fillRect(x0, l.y(), Math.max(len, 1), ROW - 10);
            g.setColor(Color.BLACK);
            String text = Double.isInfinite(v) ? "above every bucket" : String.format(Locale.ROOT, p.format(), v);
            g.drawString(text, x0 + len + 6, baseline(l, fm));
            String note = p.note() == null ? null : p.note().apply(l.result());
            if (note != null) {
                g.setColor(Color.RED.darker());
                g.drawString(note, x0 + len + 12 + fm.stringWidth(text), baseline(l, fm));
            }
        }
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1));
        g.drawLine(x0, TOP - 6, x0, lines.isEmpty() ? TOP : lines.get(lines.size() - 1).y() + ROW - 8);
    }

    private static int baseline(Line l, FontMetrics fm) {
        return l.y() + (ROW - 10) / 2 + fm.getAscent() / 2 - 1;
    }

    private static Color color(Configuration c) {
        return switch (c.kind) {
            case ALONE -> ALONE;
            case DELTA -> DELTA;
            case FILTER -> OURS;
        };
    }
}
