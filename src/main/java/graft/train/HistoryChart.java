package graft.train;

import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.svg.SVGProcessor;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The training history as XChart line charts, side by side: loss (train, validation), accuracy (train,
 * validation) on a fixed 0..1 axis, and the learning rate per epoch, each with axis titles, ticks, grid and
 * legend. Drawn into one PNG (Java2D, headless) and one SVG (VectorGraphics2D, XChart's own vector back end).
 */
public final class HistoryChart {
    static final int WIDTH = 420;
    static final int HEIGHT = 340;

    private HistoryChart() {
    }

    /** The three panels: loss, accuracy, learning rate. Without validation data only the train series are drawn. */
    public static List<XYChart> charts(List<History.Epoch> rows) {
        double[] epochs = rows.stream().mapToDouble(History.Epoch::epoch).toArray();
        boolean validated = rows.stream().anyMatch(r -> !Double.isNaN(r.valLoss()));
        XYChart loss = chart("loss", "loss");
        series(loss, "train", epochs, rows.stream().mapToDouble(History.Epoch::loss).toArray(), new Color(31, 119, 180));
        XYChart acc = chart("accuracy", "accuracy");
        acc.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        series(acc, "train", epochs, rows.stream().mapToDouble(History.Epoch::acc).toArray(), new Color(31, 119, 180));
        if (validated) {
            series(loss, "validation", epochs, rows.stream().mapToDouble(History.Epoch::valLoss).toArray(), new Color(255, 127, 14));
            series(acc, "validation", epochs, rows.stream().mapToDouble(History.Epoch::valAcc).toArray(), new Color(255, 127, 14));
        }
        XYChart lr = chart("learning rate", "learning rate");
        series(lr, "lr", epochs, rows.stream().mapToDouble(History.Epoch::lr).toArray(), new Color(44, 160, 44));
        lr.getStyler().setYAxisDecimalPattern("0.###E0");
        return List.of(loss, acc, lr);
    }

    private static XYChart chart(String title, String y) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("epoch").yAxisTitle(y).build();
        // below the plot, in one row: inside, it covered the curves (accuracy near 1 sits under the NE corner)
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotBackgroundColor(Color.WHITE);
        c.getStyler().setXAxisDecimalPattern("0");
        c.getStyler().setXAxisMaxLabelCount(12);
        return c;
    }

    private static void series(XYChart c, String name, double[] x, double[] y, Color colour) {
        // XChart draws NaN as a gap; a single epoch still shows as a marker
        XYSeries s = c.addSeries(name, x, y);
        s.setLineColor(colour);
        s.setMarkerColor(colour);
        s.setMarker(SeriesMarkers.CIRCLE);
    }

    public static byte[] png(List<XYChart> charts) throws IOException {
        BufferedImage img = new BufferedImage(WIDTH * charts.size(), HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        paint(g, charts);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    public static byte[] svg(List<XYChart> charts) throws IOException {
        VectorGraphics2D g = new VectorGraphics2D();
        paint(g, charts);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new SVGProcessor().getDocument(g.getCommands(), new PageSize(0, 0, WIDTH * charts.size(), HEIGHT)).writeTo(out);
        return out.toByteArray();
    }

    private static void paint(Graphics2D g, List<XYChart> charts) {
        for (int i = 0; i < charts.size(); i++) {
            Graphics2D panel = (Graphics2D) g.create(i * WIDTH, 0, WIDTH, HEIGHT);
            charts.get(i).paint(panel, WIDTH, HEIGHT);
            panel.dispose();
        }
    }

    /** The series' y values as XChart holds them (for callers that check a chart's content). */
    static List<double[]> data(XYChart c) {
        List<double[]> r = new ArrayList<>();
        c.getSeriesMap().values().forEach(s -> r.add(s.getYData()));
        return r;
    }
}
