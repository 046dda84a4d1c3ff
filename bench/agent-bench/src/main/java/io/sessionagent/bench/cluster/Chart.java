package io.sessionagent.bench.cluster;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** The results as a PNG drawn with Java2D (headless): throughput bars and lag percentiles. */
final class Chart {
    private static final int W = 1000;
    private static final int H = 440;
    private static final Color[] SERIES = {new Color(0x2b6cb0), new Color(0x63b3ed), new Color(0xdd6b20),
        new Color(0x718096)};
    private static final Color[] LAG = {new Color(0x2b6cb0), new Color(0xdd6b20), new Color(0x718096)};

    private Chart() {
    }

    static void write(Results r, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(r.context().get("nproc") + " × " + r.context().get("cpu") + ", " + r.context().get("java")
                + ", " + r.context().get("mode") + " mode, " + r.context().get("date"), 20, H - 12);

        String[] names = {"agent", "agent, 1472 B", "JGroups", "raw UDP"};
        double[] rates = {r.get("agent_deltas_per_s"), r.get("agent_ethernet_deltas_per_s"), r.get("jgroups_msgs_per_s"),
                r.get("raw_multicast_per_s")};
        bars(g, 20, 20, 500, 360, "1 KB messages per second, 2 members on loopback", names, rates);

        String[] loads = new String[Harness.LOAD_POINTS.length];
        double[][] lag = new double[3][loads.length];
        for (int i = 0; i < loads.length; i++) {
            String at = Integer.toString((int) Math.round(Harness.LOAD_POINTS[i] * 100));
            loads[i] = at + "% of max";
            lag[0][i] = r.get("lag_" + at + "_p50_ms");
            lag[1][i] = r.get("lag_" + at + "_p99_ms");
            lag[2][i] = r.get("lag_" + at + "_p999_ms");
        }
        grouped(g, 540, 20, 440, 360, "replication lag, commit → apply (ms): p50, p99, p99.9", loads, lag);
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static void bars(Graphics2D g, int x, int y, int w, int h, String title, String[] names,
                             double[] values) {
        double max = 0;
        for (double v : values) {
            max = Math.max(max, v);
        }
        frame(g, x, y, w, h, title);
        int plotTop = y + 62;
        int plotH = h - 100;
        int slot = (w - 40) / values.length;
        for (int i = 0; i < values.length; i++) {
            int bh = (int) Math.round(plotH * values[i] / max);
            int bx = x + 20 + i * slot + slot / 6;
            g.setColor(SERIES[i % SERIES.length]);
            g.fillRect(bx, plotTop + plotH - bh, slot * 2 / 3, bh);
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, "%,.0f", values[i]), bx, plotTop + plotH - bh - 4);
            g.drawString(names[i], bx, plotTop + plotH + 16);
        }
    }

    private static void grouped(Graphics2D g, int x, int y, int w, int h, String title, String[] groups,
                                double[][] series) {
        double max = 0;
        for (double[] s : series) {
            for (double v : s) {
                max = Math.max(max, v);
            }
        }
        frame(g, x, y, w, h, title);
        int plotTop = y + 62;
        int plotH = h - 100;
        int slot = (w - 40) / groups.length;
        int bw = slot * 2 / 3 / series.length;
        String[] legend = {"p50", "p99", "p99.9"};
        for (int gi = 0; gi < groups.length; gi++) {
            int gx = x + 20 + gi * slot + slot / 6;
            for (int si = 0; si < series.length; si++) {
                int bh = (int) Math.round(plotH * series[si][gi] / max);
                g.setColor(LAG[si]);
                g.fillRect(gx + si * bw, plotTop + plotH - bh, bw - 2, bh);
                g.setColor(Color.BLACK);
                g.drawString(String.format(Locale.ROOT, "%.2f", series[si][gi]), gx + si * bw,
                        plotTop + plotH - bh - 4);
            }
            g.drawString(groups[gi], gx, plotTop + plotH + 16);
        }
        for (int si = 0; si < legend.length; si++) {
            g.setColor(LAG[si]);
            g.fillRect(x + 10 + si * 70, y + 30, 10, 10);
            g.setColor(Color.BLACK);
            g.drawString(legend[si], x + 24 + si * 70, y + 40);
        }
    }

    private static void frame(Graphics2D g, int x, int y, int w, int h, String title) {
        g.setColor(new Color(0xe2e8f0));
        g.setStroke(new BasicStroke(1f));
        g.drawRect(x, y, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(title, x + 10, y + 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    }
}
