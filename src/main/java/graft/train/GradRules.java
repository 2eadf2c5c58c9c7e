package graft.train;

import graft.ir.Op;
import graft.error.UnsupportedModelException;
import graft.ir.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * One gradient rule per differentiable op, each written with standard ONNX ops that ONNX
 * Runtime's CPU provider runs. A rule receives the node, the gradient of its first output and
 * which inputs need a gradient, and returns their gradients (null where not needed).
 * Spatial ops (Conv, pools, BatchNormalization, LRN) live in {@link SpatialGrads}.
 */
final class GradRules {
    private final Autodiff ad;
    private final Emitter e;
    private final SpatialGrads spatial;

    GradRules(Autodiff ad) {
        this.ad = ad;
        this.e = ad.emitter();
        this.spatial = new SpatialGrads(ad);
    }

    String[] apply(Node n, String dy, boolean[] want) {
        String[] dx = new String[n.inputs().size()];
        String x = n.input(0);
        String y = n.output(0);
        Op op = n.op();
        if (op == null) {
            throw noGradient(n);
        }
        switch (op) {
            case CONV -> spatial.conv(n, dy, want, dx);
            case MAX_POOL -> dx[0] = spatial.maxPool(n, dy);
            case AVERAGE_POOL -> dx[0] = spatial.averagePool(n, dy);
            case GLOBAL_AVERAGE_POOL -> dx[0] = spatial.globalAveragePool(n, dy);
            case BATCH_NORMALIZATION -> spatial.batchNorm(n, dy, want, dx);
            case LRN -> dx[0] = spatial.lrn(n, dy);
            case GEMM -> gemm(n, dy, want, dx);
            case MAT_MUL -> matMul(n, dy, want, dx);
            case ADD, SUM -> {
                for (int i = 0; i < dx.length; i++) {
                    dx[i] = want[i] ? unbroadcast(dy, n.input(i), y) : null;
                }
            }
            case SUB -> {
                dx[0] = want[0] ? unbroadcast(dy, x, y) : null;
                dx[1] = want[1] ? unbroadcast(e.op("Neg", dy), n.input(1), y) : null;
            }
            case MUL -> {
                dx[0] = want[0] ? unbroadcast(e.mul(dy, n.input(1)), x, y) : null;
                dx[1] = want[1] ? unbroadcast(e.mul(dy, x), n.input(1), y) : null;
            }
            case DIV -> {
                dx[0] = want[0] ? unbroadcast(e.div(dy, n.input(1)), x, y) : null;
                // d(a/b)/db = -y/b
                dx[1] = want[1] ? unbroadcast(e.op("Neg", e.mul(dy, e.div(y, n.input(1)))), n.input(1), y) : null;
            }
            case IDENTITY, FLATTEN, RESHAPE, SQUEEZE, UNSQUEEZE -> dx[0] = e.reshapeLike(dy, x);
            case TRANSPOSE -> {
                long[] perm = n.intsAttr("perm", null);
                if (perm == null) {
                    perm = new long[ad.shape(x).length];
                    for (int i = 0; i < perm.length; i++) {
                        perm[i] = perm.length - 1 - i;
                    }
                }
                long[] inv = new long[perm.length];
                for (int i = 0; i < perm.length; i++) {
                    inv[(int) perm[i]] = i;
                }
                dx[0] = e.transpose(dy, inv);
            }
            case CONCAT -> concat(n, dy, want, dx);
            case DROPOUT -> {
                // Training mode (see Autodiff.prepare): the mask selects, survivors are scaled by 1/(1-ratio).
                String keep = e.sub(e.scalar(1), n.input(1));
                dx[0] = e.div(e.mul(dy, e.castFloat(n.output(1))), keep);
            }
            case RELU -> dx[0] = where(e.op("Greater", x, e.scalar(0)), dy, e.scalar(0));
            case LEAKY_RELU -> dx[0] = where(e.op("Greater", x, e.scalar(0)), dy,
                    e.mul(dy, e.scalar(n.floatAttr("alpha"))));
            case THRESHOLDED_RELU -> dx[0] = where(e.op("Greater", x, e.scalar(n.floatAttr("alpha"))), dy, e.scalar(0));
            case ELU -> dx[0] = where(e.op("Greater", x, e.scalar(0)), dy,
                    e.mul(dy, e.add(y, e.scalar(n.floatAttr("alpha")))));
            case SELU -> {
                float a = n.floatAttr("alpha");
                float g = n.floatAttr("gamma");
                dx[0] = where(e.op("Greater", x, e.scalar(0)), e.mul(dy, e.scalar(g)),
                        e.mul(dy, e.add(y, e.scalar((double) a * g))));
            }
            case PRELU -> {
                String pos = e.op("Greater", x, e.scalar(0));
                dx[0] = want[0] ? where(pos, dy, e.mul(dy, n.input(1))) : null;
                dx[1] = want[1] ? unbroadcast(where(pos, e.scalar(0), e.mul(dy, x)), n.input(1), y) : null;
            }
            case SIGMOID -> dx[0] = e.mul(dy, e.mul(y, e.sub(e.scalar(1), y)));
            case HARD_SIGMOID -> {
                float a = n.floatAttr("alpha");
                String lin = e.op("And", e.op("Greater", y, e.scalar(0)), e.op("Less", y, e.scalar(1)));
                dx[0] = where(lin, e.mul(dy, e.scalar(a)), e.scalar(0));
            }
            case TANH -> dx[0] = e.mul(dy, e.sub(e.scalar(1), e.mul(y, y)));
            case SOFTPLUS -> dx[0] = e.mul(dy, e.op("Sigmoid", x));
            case SOFTSIGN -> {
                String d = e.add(e.scalar(1), e.op("Abs", x));
                dx[0] = e.div(dy, e.mul(d, d));
            }
            case EXP -> dx[0] = e.mul(dy, y);
            case LOG -> dx[0] = e.div(dy, x);
            case ABS -> dx[0] = e.mul(dy, e.op("Sign", x));
            case NEG -> dx[0] = e.op("Neg", dy);
            case SQRT -> dx[0] = e.div(dy, e.mul(e.scalar(2), y));
            case POW -> {
                // Caffe's Power layer and its WITHIN_CHANNEL LRN (exponent -beta) import as Pow.
                // d(a^b)/da = b * a^(b-1); d(a^b)/db = a^b * ln(a), defined for a > 0.
                String b = e.castFloat(n.input(1));
                dx[0] = want[0] ? unbroadcast(e.mul(dy, e.mul(b, e.op("Pow", x, e.sub(b, e.scalar(1))))), x, y) : null;
                dx[1] = want[1] ? unbroadcast(e.mul(dy, e.mul(y, e.op("Log", x))), n.input(1), y) : null;
            }
            case CLIP -> {
                String mask = null;
                if (!n.input(1).isEmpty()) {
                    mask = e.op("Greater", x, n.input(1));
                }
                if (n.inputs().size() > 2 && !n.input(2).isEmpty()) {
                    String hi = e.op("Less", x, n.input(2));
                    mask = mask == null ? hi : e.op("And", mask, hi);
                }
                dx[0] = mask == null ? dy : where(mask, dy, e.scalar(0));
            }
            case SOFTMAX -> {
                long axis = axis(n, x);
                String s = e.reduceSum(e.mul(dy, y), new long[] {axis}, true);
                dx[0] = e.mul(y, e.sub(dy, s));
            }
            case LOG_SOFTMAX -> {
                long axis = axis(n, x);
                dx[0] = e.sub(dy, e.mul(e.op("Exp", y), e.reduceSum(dy, new long[] {axis}, true)));
            }
            case PAD -> dx[0] = pad(n, dy);
            default -> throw noGradient(n);
        }
        return dx;
    }

    private static UnsupportedModelException noGradient(Node n) {
        return new UnsupportedModelException(n.opType() + " '" + n.name() + "' (training step): graft has no "
                + "gradient for this op. Freeze the layers up to and including it");
    }

    /**
     * Pad in constant mode (Keras's ZeroPadding2D, the pads before MobileNetV2's and EfficientNet's
     * strided depthwise convolutions) passes its input through: dx is dy with the padding sliced
     * off. Pads must be constant and not negative (a crop); edge and reflect modes, which fold the
     * border's gradient back in, have no rule here.
     */
    private String pad(Node n, String dy) {
        long[] pads = ad.constantLongs(n.input(1));
        String why = !n.stringAttr("mode").equals("constant") ? "mode '" + n.stringAttr("mode") + "'"
                : pads == null ? "pads computed at run time"
                : n.inputs().size() > 3 && !n.input(3).isEmpty() ? "an axes input" : null;
        if (why == null) {
            for (long p : pads) {
                why = p < 0 ? "negative pads (a crop)" : why;
            }
        }
        if (why != null) {
            throw new UnsupportedModelException(n.opType() + " '" + n.name() + "' (training step): graft has no gradient for a Pad with "
                    + why + ". Freeze the layers up to and including it");
        }
        int rank = pads.length / 2;
        List<Long> starts = new ArrayList<>();
        List<Long> ends = new ArrayList<>();
        List<Long> axes = new ArrayList<>();
        for (int i = 0; i < rank; i++) {
            if (pads[i] != 0 || pads[i + rank] != 0) {
                starts.add(pads[i]);
                ends.add(pads[i + rank] != 0 ? -pads[i + rank] : Long.MAX_VALUE);
                axes.add((long) i);
            }
        }
        if (axes.isEmpty()) {
            return dy;
        }
        return e.op("Slice", dy, e.ints(longs(starts)), e.ints(longs(ends)), e.ints(longs(axes)));
    }

    private static long[] longs(List<Long> v) {
        return v.stream().mapToLong(Long::longValue).toArray();
    }

    private long axis(Node n, String x) {
        long axis = n.intAttr("axis");
        return axis < 0 ? axis + ad.shape(x).length : axis;
    }

    private String where(String cond, String a, String b) {
        return e.op("Where", cond, a, b);
    }

    /**
     * Y = alpha * A' B' + beta * C with A' = transA ? A^T : A and B' likewise; each gradient is
     * one Gemm with the transpose flags chosen so that no explicit Transpose is needed.
     */
    private void gemm(Node n, String dy, boolean[] want, String[] dx) {
        float alpha = n.floatAttr("alpha");
        float beta = n.floatAttr("beta");
        long ta = n.intAttr("transA");
        long tb = n.intAttr("transB");
        String a = n.input(0);
        String b = n.input(1);
        if (want[0]) {
            dx[0] = ta == 0 ? gemmOf(dy, b, 0, 1 - tb, alpha) : gemmOf(b, dy, tb, 1, alpha);
        }
        if (want[1]) {
            dx[1] = tb == 0 ? gemmOf(a, dy, 1 - ta, 0, alpha) : gemmOf(dy, a, 1, ta, alpha);
        }
        if (dx.length > 2 && want[2]) {
            String g = unbroadcast(dy, n.input(2), n.output(0));
            dx[2] = beta == 1f ? g : e.mul(g, e.scalar(beta));
        }
    }

    private String gemmOf(String a, String b, long ta, long tb, float alpha) {
        return e.op("Gemm", List.of(a, b), Emitter.attrs("transA", ta, "transB", tb, "alpha", alpha));
    }

    /** 2-D MatMul (what Keras Dense and ONNX Linear without Gemm become). */
    private void matMul(Node n, String dy, boolean[] want, String[] dx) {
        long[] sa = ad.shape(n.input(0));
        long[] sb = ad.shape(n.input(1));
        if (sa == null || sb == null || sa.length < 2 || sb.length < 2) {
            throw new UnsupportedModelException("MatMul '" + n.name() + "' (training step): only MatMul of operands of rank 2 or more "
                    + "with known shapes is differentiated. Freeze this layer");
        }
        if (sa.length == 2 && sb.length == 2) {
            if (want[0]) {
                dx[0] = gemmOf(dy, n.input(1), 0, 1, 1f);
            }
            if (want[1]) {
                dx[1] = gemmOf(n.input(0), dy, 1, 0, 1f);
            }
            return;
        }
        long[] sy = ad.shape(n.output(0));
        if (sy == null) {
            throw new UnsupportedModelException("MatMul '" + n.name() + "' (training step): the batched product's shape is unknown. "
                    + "Freeze this layer");
        }
        // Batched (Y = A B over broadcast leading axes, as LocallyConnected2D's per-position
        // product): dA = dY B^T and dB = A^T dY, each summed over the batch axes its operand
        // was broadcast along.
        if (want[0]) {
            dx[0] = sumBroadcast(e.op("MatMul", dy, e.transpose(n.input(1), swapLast(sb.length))), sa, sy, sy.length - 2, n.input(0));
        }
        if (want[1]) {
            dx[1] = sumBroadcast(e.op("MatMul", e.transpose(n.input(0), swapLast(sa.length)), dy), sb, sy, sy.length - 2, n.input(1));
        }
    }

    private static long[] swapLast(int rank) {
        long[] p = new long[rank];
        for (int i = 0; i < rank; i++) {
            p[i] = i;
        }
        p[rank - 2] = rank - 1;
        p[rank - 1] = rank - 2;
        return p;
    }

    private void concat(Node n, String dy, boolean[] want, String[] dx) {
        long axis = n.intAttr("axis", 0);
        long[] sizes = new long[n.inputs().size()];
        for (int i = 0; i < sizes.length; i++) {
            long[] s = ad.staticShape(n.input(i), n);
            sizes[i] = s[(int) (axis < 0 ? axis + s.length : axis)];
        }
        String[] parts = e.ops("Split", List.of(dy, e.ints(sizes)), sizes.length, Emitter.attrs("axis", axis));
        for (int i = 0; i < sizes.length; i++) {
            dx[i] = want[i] ? parts[i] : null;
        }
    }

    /**
     * The gradient of a broadcast operand: sums {@code dy} over the axes broadcasting expanded
     * (leading axes the operand lacks, and axes where it has size 1), then gives it the operand's
     * shape.
     */
    String unbroadcast(String dy, String x, String y) {
        long[] sx = ad.shape(x);
        long[] sy = ad.shape(y);
        if (sx == null || sy == null) {
            return e.reshapeLike(dy, x);
        }
        return sumBroadcast(dy, sx, sy, sy.length, x);
    }

    /**
     * {@code g} summed over those of the first {@code axes} axes of the broadcast shape
     * {@code sy} that operand {@code x} (shape {@code sx}) lacks or has as 1, and given x's
     * shape; unchanged when there are none. A batched MatMul passes its batch axes only.
     */
    private String sumBroadcast(String g, long[] sx, long[] sy, int axes, String x) {
        int lead = sy.length - sx.length;
        List<Long> sum = new java.util.ArrayList<>();
        for (int i = 0; i < axes; i++) {
            if (i < lead || (sx[i - lead] == 1 && sy[i] != 1)) {
                sum.add((long) i);
            }
        }
        if (sum.isEmpty()) {
            return g;
        }
        return e.reshapeLike(e.reduceSum(g, sum.stream().mapToLong(Long::longValue).toArray(), true), x);
    }
}
