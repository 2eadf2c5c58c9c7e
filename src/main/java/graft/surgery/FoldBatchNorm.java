package graft.surgery;

import graft.ir.Op;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code fold-batchnorm}: every inference BatchNormalization, and every per-channel constant Mul
 * and Add (Caffe's Scale layer as imported), that directly follows a convolution (grouped and
 * depthwise included) or a Dense
 * (Gemm, transB=1) and is its only reader, is folded into that layer's kernel and bias:
 * W' = W s, b' = (b - mean) s + beta with s = gamma / sqrt(var + eps). The folded layers vanish
 * from the table; the numbers are the same up to float rounding.
 */
public record FoldBatchNorm() implements Edit {
    @Override
    public String describe() {
        return "fold-batchnorm";
    }

    @Override
    public void check(Graph g) {
        if (next(g) == null) {
            throw new EditException(describe(), "no BatchNormalization (or per-channel Mul/Add) directly follows a Conv or Dense layer");
        }
    }

    /** The next foldable (producer, follower) pair, or null. */
    private static Node[] next(Graph g) {
        for (Node f : g.nodes()) {
            if (!java.util.EnumSet.of(Op.BATCH_NORMALIZATION, Op.MUL, Op.ADD).contains(f.op())) {
                continue;
            }
            Node p = g.producer(f.input(0));
            if (p == null || g.consumers(p.output(0)).size() != 1 || g.outputs().stream().anyMatch(v -> v.name().equals(p.output(0)))) {
                continue;
            }
            // A grouped (depthwise) Conv folds the same way: output channel o reads only kernel row o.
            boolean conv = p.op() == Op.CONV;
            boolean dense = p.op() == Op.GEMM && p.intAttr("transB") == 1 && p.floatAttr("alpha") == 1f && p.floatAttr("beta") == 1f;
            if (!(conv || dense) || g.initializer(p.input(1)) == null || p.inputs().size() > 2 && g.initializer(p.input(2)) == null) {
                continue;
            }
            long out = g.initializer(p.input(1)).shape()[0];
            if (perChannel(g, f, out, dense)) {
                return new Node[] {p, f};
            }
        }
        return null;
    }

    private static boolean perChannel(Graph g, Node f, long channels, boolean dense) {
        List<String> params = f.op() == Op.BATCH_NORMALIZATION ? f.inputs().subList(1, 5) : f.inputs().subList(1, 2);
        if (f.op() == Op.BATCH_NORMALIZATION && (f.intAttr("training_mode") != 0 || f.outputs().size() > 1)) {
            return false;
        }
        for (String s : params) {
            Weight w = g.initializer(s);
            if (w == null || w.elementCount() != channels) {
                return false;
            }
            long[] sh = w.shape();
            boolean ok = f.op() == Op.BATCH_NORMALIZATION ? sh.length == 1
                    : dense ? sh.length <= 2 && sh[sh.length - 1] == channels
                    : sh.length >= 3 && sh[sh.length - 3] == channels && sh[sh.length - 1] == 1 && sh[sh.length - 2] == 1;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void rewire(Graph g) {
        for (Node[] pf = next(g); pf != null; pf = next(g)) {
            fold(g, pf[0], pf[1]);
        }
    }

    private static void fold(Graph g, Node p, Node f) {
        Weight kw = g.initializer(p.input(1));
        int out = (int) kw.shape()[0];
        float[] w = kw.toFloats();
        int per = w.length / out;
        float[] b = p.inputs().size() > 2 ? g.initializer(p.input(2)).toFloats() : new float[out];
        double[] scale = new double[out];
        double[] shift = new double[out];
        switch (f.op()) {
            case BATCH_NORMALIZATION -> {
                float[] gamma = g.initializer(f.input(1)).toFloats();
                float[] beta = g.initializer(f.input(2)).toFloats();
                float[] mean = g.initializer(f.input(3)).toFloats();
                float[] var = g.initializer(f.input(4)).toFloats();
                double eps = f.floatAttr("epsilon");
                for (int o = 0; o < out; o++) {
                    scale[o] = gamma[o] / Math.sqrt(var[o] + eps);
                    shift[o] = beta[o] - mean[o] * scale[o];
                }
            }
            case MUL -> {
                float[] s = g.initializer(f.input(1)).toFloats();
                for (int o = 0; o < out; o++) {
                    scale[o] = s[o];
                }
            }
            default -> {
                float[] s = g.initializer(f.input(1)).toFloats();
                for (int o = 0; o < out; o++) {
                    scale[o] = 1;
                    shift[o] = s[o];
                }
            }
        }
        float[] nw = new float[w.length];
        float[] nb = new float[out];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < per; i++) {
                nw[o * per + i] = (float) (w[o * per + i] * scale[o]);
            }
            nb[o] = (float) (b[o] * scale[o] + shift[o]);
        }
        String bName = p.inputs().size() > 2 ? p.input(2) : Layers.fresh(g, p.layer() + "_b");
        // New names: the old weights may be shared with nodes that are not folded.
        String wNew = Layers.fresh(g, kw.name() + "_folded");
        String bNew = Layers.fresh(g, bName + "_folded");
        g.addInitializer(Weight.ofFloats(wNew, kw.shape(), nw));
        g.addInitializer(Weight.ofFloats(bNew, new long[] {out}, nb));
        List<String> in = new ArrayList<>(List.of(p.input(0), wNew, bNew));
        Node folded = p.withInputs(in).withOutputs(List.of(f.output(0)));
        int at = g.nodes().indexOf(p);
        g.nodes().remove(f);
        g.nodes().set(at, folded);
    }
}
