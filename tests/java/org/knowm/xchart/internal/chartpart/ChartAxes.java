package org.knowm.xchart.internal.chartpart;

import java.util.List;

/**
 * Test access to XChart's own axis model after a paint: the range each axis was drawn with and its tick labels
 * (the axis getters are package-private in XChart, hence this class in XChart's package, test scope only).
 */
public final class ChartAxes {
    private ChartAxes() {
    }

    /** {min, max} of the y axis as painted. */
    public static double[] yRange(Chart<?, ?> c) {
        Axis<?, ?> y = c.getAxisPair().getYAxis();
        return new double[] {y.getMin(), y.getMax()};
    }

    public static double[] xRange(Chart<?, ?> c) {
        Axis<?, ?> x = c.getAxisPair().getXAxis();
        return new double[] {x.getMin(), x.getMax()};
    }

    public static List<String> yTickLabels(Chart<?, ?> c) {
        return c.getAxisPair().getYAxis().getAxisTickCalculator().getTickLabels();
    }

    public static List<String> xTickLabels(Chart<?, ?> c) {
        return c.getAxisPair().getXAxis().getAxisTickCalculator().getTickLabels();
    }
}
