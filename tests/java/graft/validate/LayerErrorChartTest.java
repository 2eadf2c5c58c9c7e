package graft.validate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.internal.chartpart.ChartAxes;

/**
 * The per-layer error chart read back from XChart's model after painting: one point per compared layer in order
 * with its max abs error (0 drawn at the floor), a log y axis spanning them, the atol line, and the first layer
 * beyond tolerance as its own series at that layer.
 */
class LayerErrorChartTest {
    static Metrics layer(String name, double maxAbs, boolean within) {
        return new Metrics(name, new long[] {1, 4}, new long[] {1, 4}, "same", 4, maxAbs, maxAbs, maxAbs, 1.0, null, null, within, null);
    }

    @Test
    void pointsToleranceLineAndFirstDivergence() throws Exception {
        List<Metrics> layers = new ArrayList<>(List.of(layer("conv1", 0, true), layer("relu1", 3e-7, true), layer("fc1", 0.25, false),
                layer("fc2", 0.5, false)));
        Validation.Result r = new Validation.Result("A", "B", new Compare.Tolerance(1e-4, 1e-3), List.of(), layers, List.of(), "fc1", List.of());
        XYChart c = LayerErrorChart.chart(r);
        LayerErrorChart.png(c);
        assertThat(c.getStyler().isYAxisLogarithmic()).isTrue();
        assertThat(c.getSeriesMap().get("max abs error").getXData()).containsExactly(0, 1, 2, 3);
        assertThat(c.getSeriesMap().get("max abs error").getYData()).containsExactly(LayerErrorChart.FLOOR, 3e-7, 0.25, 0.5);
        XYChartSeriesCheck.tolerance(c, 1e-4);
        assertThat(c.getSeriesMap().get("first beyond tolerance: fc1").getXData()).containsExactly(2);
        assertThat(c.getSeriesMap().get("first beyond tolerance: fc1").getYData()).containsExactly(0.25);
        double[] y = ChartAxes.yRange(c);
        assertThat(y[0]).isLessThanOrEqualTo(LayerErrorChart.FLOOR);
        assertThat(y[1]).isGreaterThanOrEqualTo(0.5);
        assertThat(ChartAxes.xTickLabels(c)).contains("conv1", "fc1", "fc2");
    }

    @Test
    void noDivergenceNoMarker() throws Exception {
        Validation.Result r = new Validation.Result("A", "B", new Compare.Tolerance(1e-4, 1e-3), List.of(),
                List.of(layer("a", 1e-6, true), layer("b", 2e-6, true)), List.of(), null, List.of());
        XYChart c = LayerErrorChart.chart(r);
        LayerErrorChart.png(c);
        assertThat(c.getSeriesMap().keySet()).hasSize(2).noneMatch(k -> k.startsWith("first"));
    }

    /** The tolerance series: a horizontal line at atol. */
    static final class XYChartSeriesCheck {
        static void tolerance(XYChart c, double atol) {
            var s = c.getSeriesMap().values().stream().filter(x -> x.getName().startsWith("atol ")).findFirst().orElseThrow();
            assertThat(s.getYData()).containsOnly(atol);
        }
    }
}
