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
    public record Tolerance(double atol, double rtol) implements java.io.Serializable {
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
        Sums s = Sums.over(a, b, floor(peak(b)), tol, topK(shapeA, shapeB) ? (int) shapeB[1] : 0);
        return s.metrics(name, shapeA, shapeB, layout);
    }

    /**
     * The layouts under which {@code candidate} reads as {@code reference} (the names
     * {@link Metrics#layout} shows, "same" first when the shapes agree), each with the candidate's
     * values in the reference's layout; empty when none does.
     */
    public static java.util.LinkedHashMap<String, float[]> readings(Tensor candidate, Tensor reference) {
        java.util.LinkedHashMap<String, float[]> r = new java.util.LinkedHashMap<>();
        for (Layouts.Aligned a : Layouts.readings(candidate, reference)) {
            r.putIfAbsent(a.layout(), a.values());
        }
        return r;
    }

    /** The largest |v| (NaN when a value is NaN): what relative errors are floored against. */
    public static double peak(float[] v) {
        double peak = 0;
        for (float x : v) {
            peak = Math.max(peak, Math.abs(x));
        }
        return peak;
    }

    /** The floor of relative errors' denominators for a reference whose largest |value| is {@code peak}. */
    public static double floor(double peak) {
        return Math.max(1e-6 * peak, Double.MIN_NORMAL);
    }

    /** Whether top-1/top-5 agreement is measured: classifier-shaped (N, K >= 2) outputs of equal shapes. */
    public static boolean topK(long[] shapeA, long[] shapeB) {
        return shapeB.length == 2 && shapeB[1] >= 2 && Arrays.equals(shapeA, shapeB);
    }

    /**
     * The running sums and extremes behind {@link Metrics}, over any slice of the elements (rows of
     * a batch), so that slices computed apart (a distributed validation's partitions) merge into
     * the metrics of the whole: maxima and counts exactly, sums in float64 (added in another order,
     * they may differ from one pass in the last bits). One pass over a whole tensor is what
     * {@link Compare#of} computes.
     */
    public static final class Sums implements java.io.Serializable {
        long count;
        double maxAbs;
        double maxRel;
        double sumAbs;
        double dot;
        double na;
        double nb;
        boolean within = true;
        long rows;
        long agree1;
        long agree5;

        /** Candidate {@code a} against reference {@code b}; {@code k} > 0: rows of k classes whose top-1/top-5 are compared. */
        public static Sums over(float[] a, float[] b, double floor, Tolerance tol, int k) {
            Sums s = new Sums();
            s.count = a.length;
            for (int i = 0; i < a.length; i++) {
                double x = a[i];
                double y = b[i];
                double d = Math.abs(x - y);
                if (Double.isNaN(d)) {
                    if (!(Double.isNaN(x) && Double.isNaN(y))) {
                        s.maxAbs = Double.NaN;
                        s.within = false;
                    }
                    continue;
                }
                if (!(d <= s.maxAbs) && !Double.isNaN(s.maxAbs)) {
                    s.maxAbs = d;
                }
                s.maxRel = Math.max(s.maxRel, d / Math.max(Math.abs(y), floor));
                s.sumAbs += d;
                s.dot += x * y;
                s.na += x * x;
                s.nb += y * y;
                if (s.within && !tol.accepts(x, y)) {
                    s.within = false;
                }
            }
            if (k > 0) {
                int rows = a.length / k;
                s.rows = rows;
                for (int r = 0; r < rows; r++) {
                    int[] ta = top(a, r * k, k, Math.min(5, k));
                    int[] tb = top(b, r * k, k, Math.min(5, k));
                    if (ta[0] == tb[0]) {
                        s.agree1++;
                    }
                    if (Arrays.equals(Arrays.stream(ta).sorted().toArray(), Arrays.stream(tb).sorted().toArray())) {
                        s.agree5++;
                    }
                }
            }
            return s;
        }

        /** This slice followed by {@code o}: the sums of both. */
        public Sums plus(Sums o) {
            Sums s = new Sums();
            s.count = count + o.count;
            s.maxAbs = Double.isNaN(maxAbs) || Double.isNaN(o.maxAbs) ? Double.NaN : Math.max(maxAbs, o.maxAbs);
            s.maxRel = Math.max(maxRel, o.maxRel);
            s.sumAbs = sumAbs + o.sumAbs;
            s.dot = dot + o.dot;
            s.na = na + o.na;
            s.nb = nb + o.nb;
            s.within = within && o.within;
            s.rows = rows + o.rows;
            s.agree1 = agree1 + o.agree1;
            s.agree5 = agree5 + o.agree5;
            return s;
        }

        public boolean within() {
            return within;
        }

        /** The metrics of the whole comparison, of tensors of shapes {@code shapeA} (candidate) and {@code shapeB}. */
        public Metrics metrics(String name, long[] shapeA, long[] shapeB, String layout) {
            double cosine = na == 0 && nb == 0 ? 1 : dot / Math.sqrt(na * nb);
            Double top1 = null;
            Double top5 = null;
            if (topK(shapeA, shapeB)) {
                top1 = rows == 0 ? 1.0 : agree1 / (double) rows;
                top5 = rows == 0 ? 1.0 : agree5 / (double) rows;
            }
            return new Metrics(name, shapeA, shapeB, layout, count, maxAbs, maxRel, count == 0 ? 0 : sumAbs / count, cosine, top1, top5,
                    within, null);
        }
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
