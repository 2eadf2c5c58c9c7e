package graft.validate;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How far one tensor (the candidate) is from another (the reference), element by element:
 * max absolute error, max relative error (|a - b| / max(|b|, 1e-6 * max|b|), so values near zero
 * do not explode it), mean absolute error, cosine similarity, and for classifier-shaped
 * outputs (N, K) the share of rows whose top-1 class agrees and whose top-5 sets agree.
 * {@code within} is |a - b| <= atol + rtol * |b| everywhere. {@code layout} says how the
 * candidate was aligned to the reference ("same", or "NHWC->NCHW" and the like).
 */
public record Metrics(String name, long[] shape, long[] otherShape, String layout, long count, double maxAbs, double maxRel,
                      double meanAbs, double cosine, Double top1, Double top5, boolean within, String problem) {

    /** A comparison that could not be made (shapes that no layout reconciles). */
    public static Metrics incomparable(String name, long[] a, long[] b, String why) {
        return new Metrics(name, a, b, "-", 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, null, null, false, why);
    }

    /** A layer deliberately left out of the comparison ({@code why} says so); it neither passes nor fails. */
    static Metrics notCompared(String name, String why) {
        return new Metrics(name, new long[0], new long[0], "-", 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, null, null, true, why);
    }

    /** True for a {@link #notCompared} row. */
    public boolean compared() {
        return !(within && problem != null);
    }

    /** The same comparison without top-k agreement (an intermediate activation is not a class score). */
    Metrics withoutTopK() {
        return new Metrics(name, shape, otherShape, layout, count, maxAbs, maxRel, meanAbs, cosine, null, null, within, problem);
    }

    /** The metrics as ordered key/values for JSON. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("shape", shape);
        m.put("other_shape", otherShape);
        m.put("layout", layout);
        m.put("elements", count);
        m.put("max_abs", finite(maxAbs));
        m.put("max_rel", finite(maxRel));
        m.put("mean_abs", finite(meanAbs));
        m.put("cosine", finite(cosine));
        if (top1 != null) {
            m.put("top1_agreement", top1);
            m.put("top5_agreement", top5);
        }
        m.put("within", within);
        if (!compared()) {
            m.put("compared", false);
        }
        if (problem != null) {
            m.put("problem", problem);
        }
        return m;
    }

    private static Object finite(double v) {
        return Double.isFinite(v) ? v : String.valueOf(v);
    }
}
