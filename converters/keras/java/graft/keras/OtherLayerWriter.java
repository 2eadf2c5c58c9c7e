package graft.keras;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.ir.ConvGeometry;
import graft.ir.Dim;
import graft.ir.LayoutTransform;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.Weight;
import graft.keras.KerasExporter.KLayer;
import graft.keras.KerasExporter.KTensor;
import graft.keras.LayerWriter.Fused;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Keras writer's layers beyond convolution, dense and pooling: Conv2DTranspose, PReLU,
 * UpSampling2D (from the importer's Unsqueeze/Concat/Reshape/Transpose nodes), Cropping2D
 * (Slice), Reshape, Permute, ReLU/ThresholdedReLU spellings, the noise layers, and the
 * SeparableConv2D pair. Each either writes one Keras layer that computes exactly what its
 * nodes compute, or refuses the node by name (or, for the pattern matchers, answers false so
 * that the caller refuses).
 */
final class OtherLayerWriter {
    private OtherLayerWriter() {
    }

    // ---- activations ----------------------------------------------------------------------

    /**
     * A Relu or LeakyRelu (optionally followed by a Clip of the same layer) that was a Keras
     * {@code ReLU} layer, written as that layer. False when the source class was not ReLU.
     */
    static boolean reluLayer(KerasExporter x, Node n) {
        if (!x.sourceClass(n.layer()).equals("ReLU")) {
            return false;
        }
        double slope = n.op() == Op.LEAKY_RELU ? Double.parseDouble(Float.toString(n.floatAttr("alpha"))) : 0.0;
        Node clip = LayerWriter.next(x, n, Op.CLIP);
        Double max = null;
        if (clip != null) {
            float[] mm = clipBounds(x, clip);
            if (mm == null || mm[0] != -Float.MAX_VALUE && mm[0] != Float.NEGATIVE_INFINITY) {
                clip = null;
            } else {
                max = (double) mm[1];
            }
        }
        ObjectNode c = x.config(x.newName(n), n);
        putMax(c, max);
        c.put("negative_slope", slope);
        c.put("threshold", 0.0);
        KTensor t = x.tensor(n.input(0));
        String out = n.output(0);
        if (clip != null) {
            x.markFused(clip);
            out = clip.output(0);
        }
        x.add(new KLayer("ReLU", c.get("name").asText(), c, List.of(t.layer()), List.of()), out, t.nchw(), null);
        return true;
    }

    private static void putMax(ObjectNode c, Double max) {
        if (max == null) {
            c.putNull("max_value");
        } else {
            c.put("max_value", Double.parseDouble(Float.toString(max.floatValue())));
        }
    }

    /** {min, max} of a Clip whose bounds are constants (absent: -inf / +inf), or null. */
    private static float[] clipBounds(KerasExporter x, Node clip) {
        float[] r = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        for (int i = 1; i <= 2; i++) {
            if (clip.inputs().size() > i && !clip.input(i).isEmpty()) {
                Weight w = x.graph().initializer(clip.input(i));
                if (w == null || w.elementCount() != 1) {
                    return null;
                }
                r[i - 1] = w.toFloats()[0];
            } else if (clip.attrs().containsKey(i == 1 ? "min" : "max")) {
                r[i - 1] = clip.floatAttr(i == 1 ? "min" : "max", 0f);
            }
        }
        return r;
    }

    /** Clip(0, m) -> ReLU(max_value=m); ThresholdedRelu -> ThresholdedReLU(theta), or ReLU(threshold) when it was a Keras ReLU. */
    static void clipOrThreshold(KerasExporter x, Node n) {
        ObjectNode c = x.config(x.newName(n), n);
        if (n.op() == Op.THRESHOLDED_RELU) {
            double theta = Double.parseDouble(Float.toString(n.floatAttr("alpha")));
            if (x.sourceClass(n.layer()).equals("ReLU")) {
                // Keras ReLU(threshold=t) is what the importer read as ThresholdedRelu(t); written back as it was.
                c.putNull("max_value");
                c.put("negative_slope", 0.0);
                c.put("threshold", theta);
                LayerWriter.one(x, n, "ReLU", c, List.of());
            } else {
                c.put("theta", theta);
                LayerWriter.one(x, n, "ThresholdedReLU", c, List.of());
            }
            return;
        }
        float[] mm = clipBounds(x, n);
        if (mm == null || mm[0] != 0f || !(mm[1] > 0f)) {
            x.refuseNode(n, "a Clip other than Clip(0, max) (Keras ReLU(max_value)), or with computed bounds");
            return;
        }
        putMax(c, Float.isInfinite(mm[1]) ? null : (double) mm[1]);
        c.put("negative_slope", 0.0);
        c.put("threshold", 0.0);
        LayerWriter.one(x, n, "ReLU", c, List.of());
    }

    /** Selu and HardSigmoid with Keras's constants -> Activation('selu' / 'hard_sigmoid'); other constants are refused. */
    static void fixedActivation(KerasExporter x, Node n) {
        boolean selu = n.op() == Op.SELU;
        // Keras 3's hard_sigmoid is relu6(x + 3) / 6 (slope 1/6), Keras 2's clip(0.2 x + 0.5, 0, 1).
        float slope = x.keras3() ? LayerReader.KERAS3_HARD_SIGMOID_ALPHA : 0.2f;
        boolean keras = selu ? kerasSelu(n) : n.floatAttr("alpha") == slope && n.floatAttr("beta") == 0.5f;
        if (!keras) {
            x.refuseNode(n, "constants other than Keras " + (x.keras3() ? "3" : "2") + "'s '" + (selu ? "selu" : "hard_sigmoid") + "' activation"
                    + (selu ? "" : " (slope " + (x.keras3() ? "1/6" : "0.2") + ", offset 0.5)"));
            return;
        }
        ObjectNode c = x.config(x.newName(n), n);
        c.put("activation", selu ? "selu" : "hard_sigmoid");
        LayerWriter.one(x, n, "Activation", c, List.of());
    }

    /** Whether a Selu node has Keras's constants. */
    static boolean kerasSelu(Node n) {
        return n.floatAttr("alpha") == 1.6732632423543772f && n.floatAttr("gamma") == 1.0507009873554805f;
    }

    /**
     * An Identity that was a Keras noise layer (GaussianNoise, GaussianDropout, AlphaDropout:
     * identities at inference) or a linear Activation, written as that layer with its kept
     * config. False otherwise (the Identity is then no layer at all).
     */
    static boolean identityLayer(KerasExporter x, Node n) {
        String cls = x.sourceClass(n.layer());
        if (!List.of("GaussianNoise", "GaussianDropout", "AlphaDropout", "Activation").contains(cls)
                || !cls.equals("Activation") && Double.isNaN(x.classes().value(n.layer(), cls.equals("GaussianNoise") ? "stddev" : "rate"))) {
            return false;
        }
        KTensor t = x.tensor(n.input(0));
        ObjectNode c = x.config(x.newName(n), n);
        switch (cls) {
            case "GaussianNoise" -> {
                double v = x.classes().value(n.layer(), "stddev");
                if (Double.isNaN(v)) {
                    return false;
                }
                c.put("stddev", v);
            }
            case "GaussianDropout", "AlphaDropout" -> {
                double v = x.classes().value(n.layer(), "rate");
                if (Double.isNaN(v)) {
                    return false;
                }
                c.put("rate", v);
                if (cls.equals("AlphaDropout")) {
                    c.putNull("noise_shape");
                    c.putNull("seed");
                }
            }
            case "Activation" -> c.put("activation", "linear");
            default -> {
                return false;
            }
        }
        x.add(new KLayer(cls, c.get("name").asText(), c, List.of(t.layer()), List.of()), n.output(0), t.nchw(), t.flattenedChw());
        return true;
    }

    /**
     * PRelu(x, slope) -> PReLU: the slope goes back to Keras's per-position shape (the input's
     * shape without the batch, in Keras's axes), with {@code shared_axes} where it is 1 and the
     * input's is not. A single slope is shared over every axis.
     */
    static void prelu(KerasExporter x, Node n) {
        KTensor t = x.tensor(n.input(0));
        Weight slope = x.graph().initializer(n.input(1));
        Shape in = x.graph().type(n.input(0)).shape();
        int r = in.rank();
        if (slope == null || r < 2) {
            x.refuseNode(n, "its slope is computed, not a weight");
            return;
        }
        long[] s = slope.shape();
        if (slope.elementCount() == 1 && s.length != r - 1) {
            long[] ones = new long[r - 1];
            Arrays.fill(ones, 1);
            slope = slope.with(LayoutTransform.permute(new long[] {1}, new int[] {0}, ones));
            s = ones;
        }
        if (s.length != r - 1) {
            x.refuseNode(n, "slope of shape " + Arrays.toString(s) + " (PReLU needs one per non-batch axis)");
            return;
        }
        long[] irDims = new long[r - 1];
        for (int i = 1; i < r; i++) {
            irDims[i - 1] = in.dim(i).isFixed() ? in.dim(i).value() : -1;
        }
        Weight alpha = slope;
        long[] kerasDims = irDims;
        if (r == 4 && t.nchw()) {
            // IR (C, H, W) -> Keras (H, W, C)
            alpha = slope.with(LayoutTransform.transpose(s, 1, 2, 0));
            s = new long[] {s[1], s[2], s[0]};
            kerasDims = new long[] {irDims[1], irDims[2], irDims[0]};
        }
        ObjectNode c = x.config(x.newName(n), n);
        ObjectNode init = c.putObject("alpha_initializer");
        init.put("class_name", "Zeros");
        init.putObject("config");
        c.putNull("alpha_regularizer");
        c.putNull("alpha_constraint");
        ArrayNode shared = JsonTree.NODES.arrayNode();
        for (int i = 0; i < s.length; i++) {
            if (s[i] == 1 && kerasDims[i] != 1) {
                shared.add(i + 1);
            } else if (s[i] != kerasDims[i]) {
                x.refuseNode(n, "slope of shape " + Arrays.toString(slope.shape()) + " does not broadcast over the input like a PReLU alpha");
                return;
            }
        }
        if (shared.isEmpty()) {
            c.putNull("shared_axes");
        } else {
            c.set("shared_axes", shared);
        }
        LayerWriter.one(x, n, "PReLU", c, List.of(alpha.renamed("alpha:0")));
    }

    // ---- convolutions -----------------------------------------------------------------------

    /**
     * The 1x1, stride-1, unpadded, ungrouped Conv of the same source layer that alone reads the
     * depthwise Conv {@code n}: with it, n is one SeparableConv2D. Null otherwise.
     */
    static Node pointwise(KerasExporter x, Node n) {
        Node p = LayerWriter.next(x, n, Op.CONV);
        if (p == null || !p.input(0).equals(n.output(0)) || x.graph().initializer(p.input(1)) == null
                || p.inputs().size() > 2 && x.graph().initializer(p.input(2)) == null) {
            return null;
        }
        long[] ws = x.graph().initializer(p.input(1)).shape();
        boolean ones = ws.length == 4 && ws[2] == 1 && ws[3] == 1;
        boolean plain = p.intAttr("group") == 1 && Arrays.stream(p.intsAttr("strides", new long[] {1, 1})).allMatch(v -> v == 1)
                && Arrays.stream(p.intsAttr("pads", new long[4])).allMatch(v -> v == 0)
                && Arrays.stream(p.intsAttr("dilations", new long[] {1, 1})).allMatch(v -> v == 1)
                && p.stringAttr("auto_pad").matches("NOTSET|VALID");
        return ones && plain ? p : null;
    }

    /**
     * ConvTranspose -> Conv2DTranspose when its pads and output_padding are the ones Keras's
     * "valid" or "same" give (Keras: valid makes in*s + max(k_eff - s, 0), same makes in*s).
     */
    static void convTranspose(KerasExporter x, Node n) {
        if (!ConvLayerWriter.twoD(x, n)) {
            return;
        }
        KTensor t = x.tensor(n.input(0));
        Weight w = x.graph().initializer(n.input(1));
        if (w == null || n.inputs().size() > 2 && x.graph().initializer(n.input(2)) == null) {
            x.refuseNode(n, "kernel or bias is computed, not a weight");
            return;
        }
        if (x.graph().type(n.input(0)).shape().rank() != 4 || n.intAttr("group") != 1 || n.attrs().containsKey("output_shape")
                || !n.stringAttr("auto_pad").equals("NOTSET")) {
            x.refuseNode(n, "a grouped, non-2-D, output_shape or auto_pad transposed convolution (Keras Conv2DTranspose has none)");
            return;
        }
        long[] ws = w.shape();
        ConvGeometry geometry = ConvGeometry.of(n, ws);
        long[] k = geometry.kernel();
        long[] s = geometry.strides();
        long[] d = geometry.dilations();
        long[] p = n.intsAttr("pads", new long[4]);
        long[] op = n.intsAttr("output_padding", new long[2]);
        boolean valid = true;
        boolean same = true;
        for (int i = 0; i < 2; i++) {
            long eff = (k[i] - 1) * d[i] + 1;
            long total = Math.max(eff - s[i], 0);
            long outPad = Math.max(s[i] - eff, 0);
            valid &= p[i] == 0 && p[i + 2] == 0 && op[i] == outPad;
            same &= p[i] == total / 2 && p[i + 2] == total - total / 2 && op[i] == outPad;
        }
        if (!valid && !same) {
            x.refuseNode(n, "pads " + Arrays.toString(p) + " and output_padding " + Arrays.toString(op)
                    + " are neither Keras 'valid' nor 'same' for Conv2DTranspose");
            return;
        }
        Fused act = LayerWriter.fusedActivation(x, n);
        ObjectNode c = LayerWriter.layerConfig(x, n, act);
        c.put("filters", ws[1]);
        c.putArray("kernel_size").add(k[0]).add(k[1]);
        c.putArray("strides").add(s[0]).add(s[1]);
        c.put("padding", valid ? "valid" : "same");
        c.put("data_format", LayerWriter.format(t));
        c.putArray("dilation_rate").add(d[0]).add(d[1]);
        c.put("activation", act == null ? "linear" : act.activation());
        c.put("use_bias", n.inputs().size() > 2);
        LayerWriter.defaults(c, "kernel");
        c.putNull("output_padding");
        // (in, out, kh, kw) -> Keras (kh, kw, out, in): the same axis permutation as OIHW -> HWIO.
        List<Weight> weights = new ArrayList<>(List.of(x.convKernel(w).renamed("kernel:0")));
        if (n.inputs().size() > 2) {
            weights.add(x.graph().initializer(n.input(2)).renamed("bias:0"));
        }
        String out = act == null ? n.output(0) : act.output();
        x.add(new KLayer("Conv2DTranspose", c.get("name").asText(), c, List.of(t.layer()), weights), out, t.nchw(), null);
    }

    // ---- resampling and reshaping -------------------------------------------------------------

    /** A repetition of the last axis: Unsqueeze(axes=[4]) -> Concat(k copies, axis 4) -> Reshape(0, 0, 0, -1). */
    private record Repeat(long times, List<Node> nodes) {
    }

    private static Repeat repeat(KerasExporter x, Node u) {
        if (u == null || u.op() != Op.UNSQUEEZE || u.inputs().size() < 2) {
            return null;
        }
        Weight axes = x.graph().initializer(u.input(1));
        if (axes == null || axes.elementCount() != 1 || (axes.toLongs()[0] != 4 && axes.toLongs()[0] != -1)
                || x.graph().type(u.input(0)) == null || x.graph().type(u.input(0)).shape().rank() != 4) {
            return null;
        }
        Node cat = LayerWriter.next(x, u, Op.CONCAT);
        if (cat == null || (cat.intAttr("axis", 0) != 4 && cat.intAttr("axis", 0) != -1)
                || !cat.inputs().stream().allMatch(v -> v.equals(u.output(0)))) {
            return null;
        }
        Node merge = LayerWriter.next(x, cat, Op.RESHAPE);
        Weight shape = merge == null ? null : x.graph().initializer(merge.input(1));
        if (shape == null || !Arrays.equals(shape.toLongs(), new long[] {0, 0, 0, -1}) || merge.intAttr("allowzero") != 0) {
            return null;
        }
        return new Repeat(cat.inputs().size(), List.of(u, cat, merge));
    }

    /**
     * Nearest UpSampling2D from the importer's nodes, starting at {@code first}: a repetition of
     * W (Unsqueeze...), then optionally Transpose(0,1,3,2), a repetition, Transpose(0,1,3,2)
     * for H; or the H part alone (starting at the Transpose). All of one source layer. False when
     * the nodes are not that pattern.
     */
    static boolean upSampling(KerasExporter x, Node first) {
        List<Node> nodes = new ArrayList<>();
        long sw = 1;
        long sh = 1;
        Node last = null;
        Node cur = first;
        if (first.op() == Op.UNSQUEEZE) {
            Repeat r = repeat(x, first);
            if (r == null) {
                return false;
            }
            sw = r.times();
            nodes.addAll(r.nodes());
            last = r.nodes().get(2);
            cur = LayerWriter.next(x, last, Op.TRANSPOSE);
        }
        if (cur != null && cur.op() == Op.TRANSPOSE && LayerWriter.isPerm(cur, 0, 1, 3, 2)) {
            Repeat r = repeat(x, LayerWriter.next(x, cur, Op.UNSQUEEZE));
            Node back = r == null ? null : LayerWriter.next(x, r.nodes().get(2), Op.TRANSPOSE);
            if (back != null && LayerWriter.isPerm(back, 0, 1, 3, 2)) {
                sh = r.times();
                nodes.add(cur);
                nodes.addAll(r.nodes());
                nodes.add(back);
                last = back;
            }
        }
        if (last == null) {
            return false;
        }
        KTensor t = x.tensor(first.input(0));
        for (Node f : nodes) {
            if (f != first) {
                x.markFused(f);
            }
        }
        ObjectNode c = x.config(x.newName(first), first);
        c.putArray("size").add(sh).add(sw);
        c.put("data_format", LayerWriter.format(t));
        c.put("interpolation", "nearest");
        x.add(new KLayer("UpSampling2D", c.get("name").asText(), c, List.of(t.layer()), List.of()), last.output(0), t.nchw(), null);
        return true;
    }

    /** Slice of H and W with constant starts/ends and unit steps -> Cropping2D. */
    static void cropping(KerasExporter x, Node n) {
        KTensor t = x.tensor(n.input(0));
        Shape in = x.graph().type(n.input(0)).shape();
        List<Weight> w = new ArrayList<>();
        for (int i = 1; i < Math.min(5, n.inputs().size()); i++) {
            w.add(n.input(i).isEmpty() ? null : x.graph().initializer(n.input(i)));
        }
        if (in.rank() != 4 || w.size() < 3 || w.get(0) == null || w.get(1) == null || w.get(2) == null
                || w.size() > 3 && w.get(3) != null && !Arrays.stream(w.get(3).toLongs()).allMatch(v -> v == 1)) {
            x.refuseNode(n, "a Slice other than constant unit-step cropping of H and W (Keras Cropping2D)");
            return;
        }
        long[] starts = w.get(0).toLongs();
        long[] ends = w.get(1).toLongs();
        long[] axes = w.get(2).toLongs();
        long[][] crop = new long[4][];
        for (int i = 0; i < axes.length; i++) {
            int a = (int) (axes[i] < 0 ? axes[i] + 4 : axes[i]);
            if (a < 0 || a > 3 || crop[a] != null) {
                x.refuseNode(n, "a Slice with repeated or out-of-range axes");
                return;
            }
            Dim dim = in.dim(a);
            long size = dim.isFixed() ? dim.value() : -1;
            // an end at or past the axis (INT64_MAX from graft's importer, INT32_MAX from other exporters) crops nothing
            long b = ends[i] < 0 ? -ends[i] : size >= 0 ? Math.max(size - ends[i], 0) : ends[i] >= Integer.MAX_VALUE ? 0 : -1;
            if (starts[i] < 0 || b < 0) {
                x.refuseNode(n, "a Slice whose start or end needs the size of a symbolic axis, or counts from the end");
                return;
            }
            crop[a] = new long[] {starts[i], b};
        }
        for (int a = 0; a < 2; a++) {
            if (crop[a] != null && (crop[a][0] != 0 || crop[a][1] != 0)) {
                x.refuseNode(n, "a Slice of the batch or channel axis (Keras Cropping2D crops H and W)");
                return;
            }
        }
        ObjectNode c = x.config(x.newName(n), n);
        ArrayNode a = c.putArray("cropping");
        long[] h = crop[2] == null ? new long[2] : crop[2];
        long[] ww = crop[3] == null ? new long[2] : crop[3];
        a.addArray().add(h[0]).add(h[1]);
        a.addArray().add(ww[0]).add(ww[1]);
        c.put("data_format", LayerWriter.format(t));
        LayerWriter.one(x, n, "Cropping2D", c, List.of());
    }

    /**
     * Reshape keeping the batch axis over a tensor in Keras's own axes -> Reshape(target_shape);
     * false when the shape is computed, touches the batch axis, or the input is a channels_last
     * 4-D tensor (its IR and Keras element orders differ).
     */
    static boolean reshape(KerasExporter x, Node n) {
        KTensor t = x.tensor(n.input(0));
        Weight shape = x.graph().initializer(n.input(1));
        Shape in = x.graph().type(n.input(0)).shape();
        if (shape == null || t == null || (in.rank() == 4 && t.nchw()) || n.intAttr("allowzero") != 0) {
            return false;
        }
        long[] v = shape.toLongs();
        if (v.length < 2) {
            return false;
        }
        long per = 1;
        for (int i = 1; i < in.rank(); i++) {
            per = in.dim(i).isFixed() && per >= 0 ? per * in.dim(i).value() : -1;
        }
        long[] target = new long[v.length - 1];
        long known = 1;
        int unknown = 0;
        for (int i = 1; i < v.length; i++) {
            long d = v[i];
            if (d == 0) {
                if (i >= in.rank() || !in.dim(i).isFixed()) {
                    return false;
                }
                d = in.dim(i).value();
            }
            if (d == -1) {
                unknown++;
            } else {
                known *= d;
            }
            target[i - 1] = d;
        }
        boolean batchKept = v[0] == 0 || v[0] == -1 && unknown == 0 && per > 0 && known == per;
        if (!batchKept || unknown > 1) {
            return false;
        }
        ObjectNode c = x.config(x.newName(n), n);
        ArrayNode ts = c.putArray("target_shape");
        for (long d : target) {
            ts.add(d);
        }
        x.add(new KLayer("Reshape", c.get("name").asText(), c, List.of(t.layer()), List.of()), n.output(0), false, null);
        return true;
    }

    /** A Transpose keeping the batch axis over a tensor in Keras's own axes -> Permute(dims). */
    static boolean permute(KerasExporter x, Node n) {
        KTensor t = x.tensor(n.input(0));
        long[] perm = n.intsAttr("perm", new long[0]);
        if (perm.length < 2 || perm[0] != 0 || t.nchw()) {
            return false;
        }
        ObjectNode c = x.config(x.newName(n), n);
        ArrayNode dims = c.putArray("dims");
        for (int i = 1; i < perm.length; i++) {
            dims.add(perm[i]);
        }
        x.add(new KLayer("Permute", c.get("name").asText(), c, List.of(t.layer()), List.of()), n.output(0), false, null);
        return true;
    }
}
