package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.internal.chartpart.ChartAxes;

/**
 * The history charts read back from XChart's own model after painting (not from pixels): accuracy drawn on
 * 0..1 whatever the values (a flat 0.333 run once went to 1.33), loss on its values' span, epochs on x, one
 * series per curve with the history's values, validation only when there is some; PNG and SVG written.
 */
class HistoryTest {
    static History history(boolean validated) {
        History h = new History();
        double[] loss = {2.1, 1.4, 0.9, 0.7};
        double[] acc = {0.333, 0.333, 0.5, 0.62};
        for (int i = 0; i < loss.length; i++) {
            h.add(new History.Epoch(i + 1, loss[i], acc[i], validated ? loss[i] + 0.2 : Double.NaN, validated ? acc[i] - 0.1 : Double.NaN,
                    1e-3 * Math.pow(0.5, i), 100, 1));
        }
        return h;
    }

    @Test
    void accuracyIsDrawnOnZeroToOneAndLossOnItsValues() throws Exception {
        History h = history(true);
        List<XYChart> charts = HistoryChart.charts(h.rows());
        HistoryChart.png(charts); // XChart computes the axes while painting
        XYChart loss = charts.get(0);
        XYChart acc = charts.get(1);
        XYChart lr = charts.get(2);
        assertThat(acc.getStyler().getYAxisMin()).isEqualTo(0.0);
        assertThat(acc.getStyler().getYAxisMax()).isEqualTo(1.0);
        assertThat(ChartAxes.yRange(acc)).containsExactly(0.0, 1.0);
        assertThat(ChartAxes.yTickLabels(acc)).contains("0", "1"); // the calculator also lists ticks outside the range, not drawn
        assertThat(ChartAxes.yRange(loss)).containsExactly(new double[] {0.7, 2.3}, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(ChartAxes.xRange(acc)).containsExactly(1.0, 4.0);
        assertThat(ChartAxes.xTickLabels(loss)).isNotEmpty();
        assertThat(ChartAxes.yRange(lr)).containsExactly(1.25e-4, 1e-3);
        assertThat(loss.getSeriesMap().keySet()).containsExactly("train", "validation");
        assertThat(acc.getSeriesMap().get("train").getYData()).containsExactly(0.333, 0.333, 0.5, 0.62);
        assertThat(acc.getSeriesMap().get("validation").getYData()).containsExactly(new double[] {0.233, 0.233, 0.4, 0.52},
                org.assertj.core.data.Offset.offset(1e-12));
        assertThat(loss.getTitle()).isEqualTo("loss");
        assertThat(loss.getXAxisTitle()).isEqualTo("epoch");
        assertThat(acc.getYAxisTitle()).isEqualTo("accuracy");
        assertThat(lr.getSeriesMap().get("lr").getYData()).containsExactly(1e-3, 5e-4, 2.5e-4, 1.25e-4);
        assertThat(loss.getStyler().isLegendVisible()).isTrue();
        assertThat(loss.getStyler().isPlotGridLinesVisible()).isTrue();
    }

    @Test
    void withoutValidationDataOnlyTheTrainCurvesAndAFlatRunStaysOnZeroToOne() throws Exception {
        History h = new History();
        h.add(new History.Epoch(1, 1.0986, 0.333, Double.NaN, Double.NaN, 0.01, 10, 1));
        h.add(new History.Epoch(2, 1.0986, 0.333, Double.NaN, Double.NaN, 0.01, 10, 1));
        List<XYChart> charts = HistoryChart.charts(h.rows());
        HistoryChart.png(charts);
        assertThat(charts.get(0).getSeriesMap().keySet()).containsExactly("train");
        assertThat(ChartAxes.yRange(charts.get(1))).containsExactly(0.0, 1.0);
    }

    @Test
    void writesPngAndSvgBesideCsvAndJson() throws Exception {
        Path dir = TestPaths.scratch("history-chart");
        history(true).write(dir);
        BufferedImage png = ImageIO.read(dir.resolve("history.png").toFile());
        assertThat(png.getWidth()).isEqualTo(3 * HistoryChart.WIDTH);
        assertThat(png.getHeight()).isEqualTo(HistoryChart.HEIGHT);
        byte[] svg = Files.readAllBytes(dir.resolve("history.svg"));
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        // VectorGraphics2D names the SVG 1.1 DTD: parse as XML without fetching it (no network in tests)
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        var doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(svg));
        assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
        // VectorGraphics2D draws text as glyph outlines: the three panels are checked by size
        assertThat(doc.getDocumentElement().getAttribute("viewBox")).isEqualTo("0 0 " + 3 * HistoryChart.WIDTH + " " + HistoryChart.HEIGHT);
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("history.csv", "history.json", "history.png", "history.svg");
        }
    }
}
