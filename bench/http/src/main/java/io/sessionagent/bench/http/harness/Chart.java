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
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** Two horizontal bar charts side by side, req/s and p99 per configuration, drawn with Java2D. */
final class Chart {
    private static final int WIDTH = 1000;
    private static final int ROW = 44;
    private static final int TOP = 70;
    private static final int LABEL = 190;
    private static final Color ALONE = new Color(0x8c8c8c);
    private static final Color DELTA = new Color(0xe07b39);
    private static final Color OURS = new Color(0x3a78c2);

    private Chart() {
    }

    static void write(List<Result> results, String title, Path file) throws IOException {
        int height = TOP + results.size() * ROW + 40;
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
            int half = WIDTH / 2;
            panel(g, results, "requests per second (higher is better)", 0, half, Result::rps, "%,.0f");
            panel(g, results, "p99 latency, ms (lower is better)", half, half, Result::p99Ms, "%.1f");
        } finally {
            g.dispose();
        }
        ImageIO.write(img, "png", file.toFile());
    }

    private static void panel(Graphics2D g, List<Result> results, String heading, int x0, int width,
            ToDoubleFunction<Result> value, String format) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.setColor(Color.DARK_GRAY);
        g.drawString(heading, x0 + 20, TOP - 18);
        double max = results.stream().mapToDouble(value).max().orElse(1);
        int barX = x0 + LABEL;
        int barMax = width - LABEL - 70;
        FontMetrics fm = g.getFontMetrics();
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            int y = TOP + i * ROW;
            double v = value.applyAsDouble(r);
            int len = max <= 0 ? 0 : (int) Math.round(v / max * barMax);
            g.setColor(color(r.config()));
            g.fillRect(barX, y, Math.max(len, 1), ROW - 14);
            g.setColor(Color.BLACK);
            String label = r.config().label;
            g.drawString(label, barX - 8 - fm.stringWidth(label), y + (ROW - 14) / 2 + fm.getAscent() / 2 - 1);
            g.drawString(String.format(Locale.ROOT, format, v), barX + len + 6, y + (ROW - 14) / 2 + fm.getAscent() / 2 - 1);
        }
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1));
        g.drawLine(barX, TOP - 6, barX, TOP + results.size() * ROW - 8);
    }

    private static Color color(Configuration c) {
        return switch (c.kind) {
            case ALONE -> ALONE;
            case DELTA -> DELTA;
            case FILTER -> OURS;
        };
    }
}
