package graft.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.io.AtomicOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Per-epoch training history, written as CSV, JSON and charts of the loss, accuracy and learning rate
 * ({@link HistoryChart}: XChart, as PNG and SVG; run headless, {@code -Djava.awt.headless=true}). Not thread-safe.
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
            java.util.List<org.knowm.xchart.XYChart> charts = HistoryChart.charts(rows);
            write(dir.resolve("history.png"), HistoryChart.png(charts));
            write(dir.resolve("history.svg"), HistoryChart.svg(charts));
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
}
