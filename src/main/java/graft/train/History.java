package graft.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.io.AtomicOutput;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Per-epoch training history, written as CSV, JSON and a PNG plot of the loss and accuracy
 * curves (drawn with Java2D; run headless, {@code -Djava.awt.headless=true}). Not thread-safe.
 */
public final class History {
    /** One epoch; validation values are NaN without validation data. */
    public record Epoch(int epoch, double loss, double acc, double valLoss, double valAcc, double lr, double imagesPerSecond,
                        double seconds) {
    }

    private final List<Epoch> rows = new ArrayList<>();
    private static final ObjectMapper JSON = new ObjectMapper();

    public List<Epoch> rows() {
        return rows;
    }

    public void add(Epoch e) {
        rows.add(e);
    }

    public void write(Path dir) {
        StringBuilder csv = new StringBuilder("epoch,loss,acc,val_loss,val_acc,lr,images_per_s,seconds\n");
        ArrayNode arr = JSON.createArrayNode();
        for (Epoch e : rows) {
            // without validation data the validation cells are empty (JSON null), never NaN
            csv.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%s,%s,%.6g,%.1f,%.2f%n", e.epoch, e.loss, e.acc, cell(e.valLoss),
                    cell(e.valAcc), e.lr, e.imagesPerSecond, e.seconds));
            ObjectNode o = arr.addObject();
            o.put("epoch", e.epoch);
            o.put("loss", e.loss);
            o.put("acc", e.acc);
            o.put("val_loss", Double.isNaN(e.valLoss) ? null : e.valLoss);
            o.put("val_acc", Double.isNaN(e.valAcc) ? null : e.valAcc);
            o.put("lr", e.lr);
            o.put("images_per_s", e.imagesPerSecond);
            o.put("seconds", e.seconds);
        }
        try {
            write(dir.resolve("history.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
            write(dir.resolve("history.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(arr));
            java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
            ImageIO.write(plot(), "png", png);
            write(dir.resolve("history.png"), png.toByteArray());
        } catch (IOException e) {
            throw new graft.error.GraftException("history in '" + dir + "': cannot be written: " + e.getMessage(), e);
        }
    }

    private static String cell(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6f", v);
    }

    /** Reads a history.json written by {@link #write} (for --resume). */
    public static History read(Path file) {
        History h = new History();
        if (!Files.exists(file)) {
            return h;
        }
        try {
            for (JsonNode o : JSON.readTree(file.toFile())) {
                h.add(new Epoch(o.path("epoch").asInt(), o.path("loss").asDouble(), o.path("acc").asDouble(),
                        o.path("val_loss").isNull() ? Double.NaN : o.path("val_loss").asDouble(),
                        o.path("val_acc").isNull() ? Double.NaN : o.path("val_acc").asDouble(), o.path("lr").asDouble(),
                        o.path("images_per_s").asDouble(), o.path("seconds").asDouble()));
            }
            return h;
        } catch (IOException e) {
            throw new graft.error.UsageException("--resume: history '" + file + "' is unreadable: " + e.getMessage()
                    + ". Start without --resume");
        }
    }

    private static void write(Path file, byte[] bytes) throws IOException {
        try (AtomicOutput out = AtomicOutput.open(file, true, List.of());
             OutputStream os = Channels.newOutputStream(out.channel())) {
            os.write(bytes);
            os.flush();
            out.commit();
        }
    }

    /** Two panels: loss (train, validation) and accuracy (train, validation) per epoch. */
    BufferedImage plot() {
        int w = 900;
        int h = 360;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        boolean validated = rows.stream().anyMatch(r -> !Double.isNaN(r.valLoss()));
        panel(g, 40, 30, 380, 280, "loss", rows.stream().mapToDouble(Epoch::loss).toArray(),
                rows.stream().mapToDouble(Epoch::valLoss).toArray(), false, validated);
        panel(g, 490, 30, 380, 280, "accuracy", rows.stream().mapToDouble(Epoch::acc).toArray(),
                rows.stream().mapToDouble(Epoch::valAcc).toArray(), true, validated);
        g.dispose();
        return img;
    }

    private static void panel(Graphics2D g, int x, int y, int w, int h, String title, double[] train, double[] val, boolean unit,
                              boolean validated) {
        double[] range = axis(train, val, unit);
        double lo = range[0];
        double hi = range[1];
        g.setColor(Color.BLACK);
        g.drawRect(x, y, w, h);
        g.drawString(title + (validated ? " (blue: train, orange: validation)" : " (train; no validation data)"), x, y - 8);
        g.drawString(String.format(Locale.ROOT, "%.3g", hi), x + 4, y + 14);
        g.drawString(String.format(Locale.ROOT, "%.3g", lo), x + 4, y + h - 4);
        g.drawString("epoch 1.." + train.length, x + w - 90, y + h + 16);
        g.setStroke(new BasicStroke(2f));
        line(g, x, y, w, h, train, lo, hi, new Color(31, 119, 180));
        if (validated) {
            line(g, x, y, w, h, val, lo, hi, new Color(255, 127, 14));
        }
    }

    /** The vertical range of a panel: 0..1 for accuracy ({@code unit}), else the finite values' span. */
    static double[] axis(double[] train, double[] val, boolean unit) {
        if (unit) {
            return new double[] {0, 1};
        }
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (double[] s : new double[][] {train, val}) {
            for (double v : s) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo > hi) {
            lo = 0;
            hi = 1;
        }
        if (hi - lo < 1e-9) {
            hi = lo + 1;
        }
        return new double[] {lo, hi};
    }

    private static void line(Graphics2D g, int x, int y, int w, int h, double[] v, double lo, double hi, Color c) {
        g.setColor(c);
        int n = v.length;
        int px = -1;
        int py = -1;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(v[i])) {
                continue;
            }
            int cx = x + (n == 1 ? w / 2 : (int) Math.round((double) i / (n - 1) * w));
            int cy = y + h - (int) Math.round((v[i] - lo) / (hi - lo) * h);
            if (px >= 0) {
                g.drawLine(px, py, cx, cy);
            }
            g.fillOval(cx - 3, cy - 3, 6, 6);
            px = cx;
            py = cy;
        }
    }
}
