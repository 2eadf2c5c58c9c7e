package graft.validate;

import graft.ir.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Computes {@link Metrics} between a candidate and a reference tensor, first aligning the
 * candidate's layout to the reference's ({@link Layouts}). Accumulates in float64.
 */
public final class Compare {
    private Compare() {
    }

    /** Tolerance: |a - b| <= atol + rtol * |b|. */
    public record Tolerance(double atol, double rtol) {
        public boolean accepts(double a, double b) {
            if (Double.isNaN(a) || Double.isNaN(b)) {
                return Double.isNaN(a) && Double.isNaN(b);
            }
            if (Double.isInfinite(b)) {
                return a == b;
            }
            return Math.abs(a - b) <= atol + rtol * Math.abs(b);
        }
    }

    public static Metrics of(String name, Tensor candidate, Tensor reference, Tolerance tol) {
        return of(name, candidate, reference, tol, null);
    }

    /**
     * As {@link #of(String, Tensor, Tensor, Tolerance)}; when more than one layout reading fits
     * the shapes, the one within tolerance wins, else the one named by {@code layoutHint} (the
     * layout the neighbouring layers had), else the first.
     */
    public static Metrics of(String name, Tensor candidate, Tensor reference, Tolerance tol, String layoutHint) {
        List<Layouts.Aligned> readings = Layouts.readings(candidate, reference);
        if (readings.isEmpty()) {
            return Metrics.incomparable(name, candidate.shape(), reference.shape(), "shapes " + Arrays.toString(candidate.shape())
                    + " and " + Arrays.toString(reference.shape()) + " differ and no layout change reconciles them");
        }
        float[] ref = reference.toFloats();
        Metrics chosen = null;
        for (Layouts.Aligned al : readings) {
            Metrics m = of(name, al.values(), ref, candidate.shape(), reference.shape(), al.layout(), tol);
            if (m.within()) {
                return m;
            }
            if (chosen == null || al.layout().equals(layoutHint)) {
                chosen = m;
            }
        }
        return chosen;
    }

    static Metrics of(String name, float[] a, float[] b, long[] shapeA, long[] shapeB, String layout, Tolerance tol) {
        double maxAbs = 0;
        double sumAbs = 0;
        double dot = 0;
        double na = 0;
        double nb = 0;
        double peak = 0;
        boolean within = true;
        for (float v : b) {
            peak = Math.max(peak, Math.abs(v));
        }
        double floor = Math.max(1e-6 * peak, Double.MIN_NORMAL);
        double maxRel = 0;
        for (int i = 0; i < a.length; i++) {
            double x = a[i];
            double y = b[i];
            double d = Math.abs(x - y);
            if (Double.isNaN(d)) {
                if (!(Double.isNaN(x) && Double.isNaN(y))) {
                    maxAbs = Double.NaN;
                    within = false;
                }
                continue;
            }
            if (!(d <= maxAbs) && !Double.isNaN(maxAbs)) {
                maxAbs = d;
            }
            maxRel = Math.max(maxRel, d / Math.max(Math.abs(y), floor));
            sumAbs += d;
            dot += x * y;
            na += x * x;
            nb += y * y;
            if (within && !tol.accepts(x, y)) {
                within = false;
            }
        }
        double cosine = na == 0 && nb == 0 ? 1 : dot / Math.sqrt(na * nb);
        Double top1 = null;
        Double top5 = null;
        if (shapeB.length == 2 && shapeB[1] >= 2 && Arrays.equals(shapeA, shapeB)) {
            int rows = (int) shapeB[0];
            int k = (int) shapeB[1];
            int agree1 = 0;
            int agree5 = 0;
            for (int r = 0; r < rows; r++) {
                int[] ta = top(a, r * k, k, Math.min(5, k));
                int[] tb = top(b, r * k, k, Math.min(5, k));
                if (ta[0] == tb[0]) {
                    agree1++;
                }
                if (Arrays.equals(Arrays.stream(ta).sorted().toArray(), Arrays.stream(tb).sorted().toArray())) {
                    agree5++;
                }
            }
            top1 = rows == 0 ? 1.0 : agree1 / (double) rows;
            top5 = rows == 0 ? 1.0 : agree5 / (double) rows;
        }
        return new Metrics(name, shapeA, shapeB, layout, a.length, maxAbs, maxRel, a.length == 0 ? 0 : sumAbs / a.length, cosine,
                top1, top5, within, null);
    }

    /** Indices of the n largest values of v[off .. off+k), largest first. */
    static int[] top(float[] v, int off, int k, int n) {
        int[] best = new int[n];
        Arrays.fill(best, -1);
        for (int i = 0; i < k; i++) {
            float x = v[off + i];
            for (int j = 0; j < n; j++) {
                if (best[j] < 0 || x > v[off + best[j]]) {
                    System.arraycopy(best, j, best, j + 1, n - j - 1);
                    best[j] = i;
                    break;
                }
            }
        }
        return best;
    }
}
