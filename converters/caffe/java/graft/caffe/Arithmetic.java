package graft.caffe;

import graft.caffe.proto.Caffe.EltwiseParameter;
import graft.caffe.proto.Caffe.LayerParameter;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Elementwise arithmetic as Caffe layers: by a scalar constant, a Power layer; by a per-channel
 * constant, a Scale layer (with bias when a Mul is followed by an Add); between computed
 * tensors of the same shape, an Eltwise layer (Sub as SUM with coefficients 1, -1). Also
 * BatchNormalization as Caffe's BatchNorm (scale factor 1) plus a Scale for its affine part.
 */
final class Arithmetic {
    private Arithmetic() {
    }

    static void write(LayerWriter w, ExportPlanner p, Node n, Op op) {
        List<String> in = n.inputs();
        int constants = 0;
        int constAt = -1;
        for (int i = 0; i < in.size(); i++) {
            if (p.g.initializer(in.get(i)) != null) {
                constants++;
                constAt = i;
            }
        }
        if (constants == 0) {
            eltwise(w, p, n, op);
            return;
        }
        if (constants > 1 || in.size() != 2) {
            p.refuse(n, "arithmetic on more than one constant; fold the constants first");
            return;
        }
        String x = in.get(1 - constAt);
        Float c = w.scalar(in.get(constAt));
        if (c != null) {
            power(w, p, n, op, x, c, constAt);
        } else if (op == Op.MUL || op == Op.ADD) {
            scale(w, p, n, op, x, constAt);
        } else {
            p.refuse(n, op.opName() + " by a non-scalar constant has no Caffe layer");
        }
    }

    private static void power(LayerWriter w, ExportPlanner p, Node n, Op op, String x, float c, int constAt) {
        LayerParameter.Builder b = w.layer(n, "Power", List.of(x));
        var pp = b.getPowerParamBuilder();
        switch (op) {
            case MUL -> pp.setScale(c);
            case ADD -> pp.setShift(c);
            case SUB -> {
                if (constAt == 1) {
                    pp.setShift(-c);
                } else {
                    pp.setScale(-1f).setShift(c);
                }
            }
            case DIV -> {
                if (constAt != 1) {
                    p.refuse(n, "a constant divided by a tensor has no Caffe layer");
                    return;
                }
                pp.setScale(1f / c);
            }
            case POW -> {
                if (constAt != 1) {
                    p.refuse(n, "a constant raised to a tensor has no Caffe layer");
                    return;
                }
                pp.setPower(c);
            }
            default -> {
                p.refuse(n, op.opName() + " with a constant has no Caffe layer");
                return;
            }
        }
        w.emit(b.addTop(p.top(n, 0)), List.of());
    }

    private static void scale(LayerWriter w, ExportPlanner p, Node n, Op op, String x, int constAt) {
        Weight factor = null;
        Weight bias = null;
        Node up = w.producer(x);
        String bottom = x;
        if (op == Op.ADD && up != null && p.fused.contains(up.name())) {
            factor = p.g.initializer(up.input(1));
            bottom = up.input(0);
            bias = p.g.initializer(n.input(constAt));
        } else if (op == Op.MUL) {
            factor = p.g.initializer(n.input(constAt));
        } else {
            bias = p.g.initializer(n.input(constAt));
        }
        Weight shapeOf = factor != null ? factor : bias;
        long[] cs = shapeOf.shape();
        int rank = p.rank(bottom);
        int q = cs.length;
        while (q > 0 && cs[q - 1] == 1) {
            q--;
        }
        long[] trimmed = Arrays.copyOf(cs, q);
        int axis = rank - cs.length;
        long[] xs = p.dims(bottom);
        if (rank < 0 || axis < 0 || (xs != null && !matches(trimmed, Arrays.copyOfRange(xs, axis, axis + q)))
                || (factor != null && bias != null && factor.elementCount() != bias.elementCount())) {
            p.refuse(n, "a constant of shape " + Arrays.toString(cs) + " broadcast in a way Caffe's Scale cannot");
            return;
        }
        LayerParameter.Builder b = w.layer(n, "Scale", List.of(bottom));
        b.getScaleParamBuilder().setAxis(axis).setNumAxes(q).setBiasTerm(bias != null);
        List<ExportPlanner.Blob> blobs = new ArrayList<>();
        if (factor == null) {
            float[] ones = new float[(int) bias.elementCount()];
            Arrays.fill(ones, 1f);
            factor = Weight.ofFloats(n.name() + "/ones", cs, ones);
        }
        blobs.add(w.blob(factor, trimmed));
        if (bias != null) {
            blobs.add(w.blob(bias, trimmed));
        }
        w.emit(b.addTop(p.top(n, 0)), blobs);
    }

    private static boolean matches(long[] want, long[] have) {
        for (int i = 0; i < want.length; i++) {
            if (have[i] >= 0 && have[i] != want[i]) {
                return false;
            }
        }
        return true;
    }

    private static void eltwise(LayerWriter w, ExportPlanner p, Node n, Op op) {
        graft.ir.TensorType first = p.g.type(n.input(0));
        for (String i : n.inputs()) {
            graft.ir.TensorType s = p.g.type(i);
            if (first == null || s == null || first.shape() == null || !first.shape().equals(s.shape())) {
                p.refuse(n, "Caffe's Eltwise needs inputs of one fixed shape (no broadcasting)");
                return;
            }
        }
        LayerParameter.Builder b = w.layer(n, "Eltwise", n.inputs());
        switch (op) {
            case ADD, SUM -> w.eltwise(b, EltwiseParameter.EltwiseOp.SUM);
            case SUB -> w.eltwise(b, EltwiseParameter.EltwiseOp.SUM).addCoeff(1f).addCoeff(-1f);
            case MUL -> w.eltwise(b, EltwiseParameter.EltwiseOp.PROD);
            case MAX -> w.eltwise(b, EltwiseParameter.EltwiseOp.MAX);
            default -> {
                p.refuse(n, op.opName() + " of two tensors has no Caffe layer");
                return;
            }
        }
        w.emit(b.addTop(p.top(n, 0)), List.of());
    }

    static void batchNorm(LayerWriter w, ExportPlanner p, Node n) {
        Weight scale = w.weight(n, 1);
        Weight bias = w.weight(n, 2);
        Weight mean = w.weight(n, 3);
        Weight var = w.weight(n, 4);
        if (scale == null || bias == null || mean == null || var == null) {
            return;
        }
        if (n.intAttr("training_mode") != 0) {
            p.refuse(n, "training-mode batch normalization");
            return;
        }
        long ch = mean.elementCount();
        LayerParameter.Builder b = w.layer(n, "BatchNorm", List.of(n.input(0)));
        b.getBatchNormParamBuilder().setUseGlobalStats(true).setEps(n.floatAttr("epsilon"));
        String top = p.top(n, 0);
        w.emit(b.addTop(top), List.of(w.blob(mean, ch), w.blob(var, ch),
                w.blob(Weight.ofFloats(n.name() + "/factor", new long[] {1}, new float[] {1f}), 1)));
        float[] sv = scale.toFloats();
        float[] bv = bias.toFloats();
        boolean identity = true;
        for (int i = 0; i < sv.length; i++) {
            identity &= sv[i] == 1f && bv[i] == 0f;
        }
        // Caffe's BatchNorm holds only statistics; scale and bias go to a Scale layer. It may be
        // left out when it is the identity and cannot train (a trainable scale of 1 is still a parameter).
        if (identity && !p.g.trainingOf(n.layer()).trainable()) {
            return;
        }
        LayerParameter.Builder s = LayerParameter.newBuilder().setName(p.uniqueLayerName(n.layer() + "_scale")).setType("Scale")
                .addBottom(top).addTop(top);
        s.getScaleParamBuilder().setBiasTerm(true);
        p.params(s, n.layer(), 2);
        w.emit(s, List.of(w.blob(scale, ch), w.blob(bias, ch)));
    }
}
