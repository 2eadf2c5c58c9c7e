package graft.validate;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code validate --per-layer --plot}: the max absolute error of every compared layer in network order (XChart,
 * log scale), the absolute tolerance as a horizontal line, and the first layer beyond tolerance marked. A layer
 * whose outputs are identical (error 0, which a log axis cannot show) is drawn at {@link #FLOOR}, as the axis
 * title says.
 */
public final class LayerErrorChart {
    /** Where an error of exactly 0 is drawn. */
    public static final double FLOOR = 1e-12;

    private LayerErrorChart() {
    }

    public static XYChart chart(Validation.Result r) {
        List<Metrics> layers = r.layers();
        int n = layers.size();
        double[] x = new double[n];
        double[] y = new double[n];
        int first = -1;
        for (int i = 0; i < n; i++) {
            x[i] = i;
            double e = layers.get(i).maxAbs();
            y[i] = Double.isNaN(e) ? Double.NaN : Math.max(e, FLOOR);
            if (first < 0 && layers.get(i).name().equals(r.firstDivergingLayer())) {
                first = i;
            }
        }
        int width = Math.max(640, Math.min(2400, 40 + 18 * n));
        XYChart c = new XYChartBuilder().width(width).height(480).title("max |A - B| per layer: " + r.reference() + " vs " + r.candidate())
                .xAxisTitle("layer").yAxisTitle("max abs error (0 drawn at 1e-12)").build();
        c.getStyler().setYAxisLogarithmic(true);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotBackgroundColor(Color.WHITE);
        c.getStyler().setXAxisLabelRotation(90);
        c.getStyler().setXAxisMaxLabelCount(Math.max(2, n));
        c.setCustomXAxisTickLabelsFormatter(v -> {
            int i = (int) Math.round(v);
            return i >= 0 && i < n && Math.abs(v - i) < 1e-9 ? layers.get(i).name() : "";
        });
        XYSeries err = c.addSeries("max abs error", x, y);
        err.setLineColor(new Color(31, 119, 180));
        err.setMarkerColor(new Color(31, 119, 180));
        err.setMarker(SeriesMarkers.CIRCLE);
        double atol = Math.max(r.tolerance().atol(), FLOOR);
        XYSeries tol = c.addSeries("atol " + r.tolerance().atol() + " (rtol " + r.tolerance().rtol() + " on top)",
                new double[] {0, Math.max(1, n - 1)}, new double[] {atol, atol});
        tol.setLineColor(new Color(214, 39, 40));
        tol.setMarker(SeriesMarkers.NONE);
        if (first >= 0) {
            XYSeries f = c.addSeries("first beyond tolerance: " + r.firstDivergingLayer(), new double[] {first}, new double[] {y[first]});
            f.setMarkerColor(new Color(214, 39, 40));
            f.setMarker(SeriesMarkers.DIAMOND);
            f.setLineColor(new Color(214, 39, 40));
        }
        return c;
    }

    public static byte[] png(XYChart c) throws IOException {
        BufferedImage img = new BufferedImage(c.getWidth(), c.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        c.paint(g, c.getWidth(), c.getHeight());
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }
}
