package graft.keras;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.ir.ConvGeometry;
import graft.ir.LayoutTransform;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.Weight;
import graft.keras.KerasExporter.KLayer;
import graft.keras.KerasExporter.KTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The spatial half of {@link LayerWriter}: a Conv as Conv2D, DepthwiseConv2D or (with the pointwise
 * Conv after it) SeparableConv2D, LocallyConnected2D, pooling and global pooling, with the padding
 * Keras can express ('valid', 'same', or a ZeroPadding2D before the layer), as
 * {@link ConvLayerReader} is the spatial half of {@link LayerReader}. (ConvTranspose:
 * {@link OtherLayerWriter}.)
 */
final class ConvLayerWriter {
    private ConvLayerWriter() {
    }

    /**
     * The pads the node applies, {top, left, bottom, right}: its {@code pads}, or what
     * {@code auto_pad} SAME_UPPER/SAME_LOWER computes (SAME_LOWER puts the odd pixel first);
     * null when that needs an H or W that is symbolic.
     */
    static long[] pads(KerasExporter x, Node n, long[] k, long[] s, long[] d) {
        String auto = n.stringAttr("auto_pad");
        if (auto.equals("VALID")) {
            return new long[4];
        }
        if (!auto.startsWith("SAME")) {
            return n.intsAttr("pads", new long[4]);
        }
        return SamePadding.pads(spatial(x, n), k, s, d, auto.equals("SAME_LOWER"));
    }

    /** The node's input H and W, -1 where symbolic. */
    static long[] spatial(KerasExporter x, Node n) {
        Shape in = x.graph().type(n.input(0)).shape();
        long[] r = new long[2];
        for (int i = 0; i < 2; i++) {
            r[i] = in.dim(2 + i).isFixed() ? in.dim(2 + i).value() : -1;
        }
        return r;
    }

    /** Keras "valid"/"same" for the node's pads, or null when neither produces them. */
    static String padding(KerasExporter x, Node n, long[] k, long[] s, long[] d) {
        if (n.stringAttr("auto_pad").equals("SAME_UPPER")) {
            return "same";
        }
        long[] p = pads(x, n, k, s, d);
        if (p == null) {
            return null;
        }
        if (Arrays.stream(p).allMatch(v -> v == 0)) {
            return "valid";
        }
        return Arrays.equals(p, SamePadding.pads(spatial(x, n), k, s, d, false)) ? "same" : null;
    }

    /** For pads "same" cannot express ({@code p}, from {@link #pads}): a ZeroPadding2D layer before the op (option explicit-padding), or null. */
    static String zeroPadBefore(KerasExporter x, Node n, long[] p) {
        String auto = n.stringAttr("auto_pad");
        String what = auto.startsWith("SAME") ? "auto_pad " + auto + (p == null ? "" : " (pads " + Arrays.toString(p) + ")")
                : "pads " + Arrays.toString(p);
        if (p == null) {
            x.refuseNode(n, what + " on a symbolic H or W: the pads depend on the input size");
            return null;
        }
        if (!x.explicitPadding()) {
            x.refuseNode(n, what + " are neither 'valid' nor Keras 'same'; pass --keras-explicit-padding to write a ZeroPadding2D layer");
            return null;
        }
        String name = x.freshName(x.newName(n) + "_pad");
        ObjectNode c = x.config(name, n);
        ArrayNode pad = c.putArray("padding");
        pad.addArray().add(p[0]).add(p[2]);
        pad.addArray().add(p[1]).add(p[3]);
        KTensor t = x.tensor(n.input(0));
        c.put("data_format", LayerWriter.format(t));
        long[] in = x.kerasShapeOf(t.layer());
        long[] padded = in == null || in.length != 4 ? null : new long[] {-1, LayerWriter.grown(in[1], p[0] + p[2]), LayerWriter.grown(in[2], p[1] + p[3]), in[3]};
        x.add(new KLayer("ZeroPadding2D", name, c, List.of(t.layer()), List.of()), n.input(0) + "#padded", t.nchw(), null, padded);
        return n.input(0) + "#padded";
    }

    /** Refuses {@code n} unless its input is 4-D (N, C, H, W): graft writes the 2-D Keras layers only. */
    static boolean twoD(KerasExporter x, Node n) {
        int rank = x.graph().type(n.input(0)).shape().rank();
        if (rank != 4) {
            x.refuseNode(n, "over a rank-" + rank + " tensor (graft writes the 2-D Keras layers only)");
            return false;
        }
        return true;
    }

    static void conv(KerasExporter x, Node n) {
        if (!twoD(x, n)) {
            return;
        }
        KTensor t = x.tensor(n.input(0));
        Weight w = x.graph().initializer(n.input(1));
        if (w == null || (n.inputs().size() > 2 && x.graph().initializer(n.input(2)) == null)) {
            x.refuseNode(n, "kernel or bias is computed, not a weight");
            return;
        }
        long[] ws = w.shape();
        ConvGeometry geometry = ConvGeometry.of(n, ws);
        long[] k = geometry.kernel();
        long[] s = geometry.strides();
        long[] d = geometry.dilations();
        long group = geometry.group();
        long inC = x.graph().type(n.input(0)).shape().dim(1).value();
        boolean depthwise = group > 1 && group == inC;
        Node pointwise = depthwise && n.inputs().size() == 2 ? OtherLayerWriter.pointwise(x, n) : null;
        String pad = padding(x, n, k, s, d);
        String input = n.input(0);
        if (pad == null) {
            input = zeroPadBefore(x, n, pads(x, n, k, s, d));
            if (input == null) {
                return;
            }
            pad = "valid";
        }
        Node last = pointwise == null ? n : pointwise;
        LayerWriter.Fused act = LayerWriter.fusedActivation(x, last);
        ObjectNode c = LayerWriter.layerConfig(x, last, act);
        String name = c.get("name").asText();
        if (pointwise != null) {
            x.markFused(pointwise);
            c.put("filters", x.graph().initializer(pointwise.input(1)).shape()[0]);
        } else if (!depthwise) {
            c.put("filters", ws[0]);
            if (group > 1) {
                // Conv2D's groups came with tf.keras 2.3 (keras_version 2.4.0): the file then declares that version.
                c.put("groups", group);
                x.needsGroups();
            }
        }
        c.putArray("kernel_size").add(k[0]).add(k[1]);
        c.putArray("strides").add(s[0]).add(s[1]);
        c.put("padding", pad);
        c.put("data_format", LayerWriter.format(t));
        c.putArray("dilation_rate").add(d[0]).add(d[1]);
        c.put("activation", act == null ? "linear" : act.activation());
        c.put("use_bias", last.inputs().size() > 2);
        if (pointwise != null) {
            LayerWriter.defaults(c, List.of("depthwise", "pointwise"));
        } else {
            LayerWriter.defaults(c, depthwise ? "depthwise" : "kernel");
        }
        List<Weight> weights = new ArrayList<>();
        if (depthwise) {
            long mult = ws[0] / inC;
            c.put("depth_multiplier", mult);
            // (in*mult, 1, kh, kw) -> Keras (kh, kw, in, mult)
            weights.add(w.with(LayoutTransform.permute(new long[] {inC, mult, ws[2], ws[3]}, new int[] {2, 3, 0, 1},
                    new long[] {ws[2], ws[3], inC, mult})).renamed("depthwise_kernel:0"));
        } else {
            weights.add(x.convKernel(w).renamed("kernel:0"));
        }
        if (pointwise != null) {
            weights.add(KerasExporter.hwio(x.graph().initializer(pointwise.input(1))).renamed("pointwise_kernel:0"));
        }
        if (last.inputs().size() > 2) {
            weights.add(x.graph().initializer(last.input(2)).renamed("bias:0"));
        }
        KTensor src = x.tensor(input);
        String out = act == null ? last.output(0) : act.output();
        String cls = pointwise != null ? "SeparableConv2D" : depthwise ? "DepthwiseConv2D" : "Conv2D";
        x.add(new KLayer(cls, name, c, List.of(src.layer()), weights), out, t.nchw(), null);
    }

    /**
     * Rebuilds a LocallyConnected2D from the nodes the Keras importer makes of one (a Constant 0/1
     * window selector, Conv, Reshape, Transpose, batched MatMul with the kernel, Transpose,
     * Reshape, optional bias Add, optional activation), in the data_format of the tensor it reads
     * (see the body for the kernel and bias layouts).
     * False when {@code selector} does not start that pattern.
     */
    static boolean locallyConnected(KerasExporter x, Node selector) {
        Node conv = LayerWriter.next(x, selector, Op.CONV);
        Node rows = conv == null ? null : LayerWriter.next(x, conv, Op.RESHAPE);
        Node perPosition = rows == null ? null : LayerWriter.next(x, rows, Op.TRANSPOSE);
        Node matmul = perPosition == null ? null : LayerWriter.next(x, perPosition, Op.MAT_MUL);
        Node back = matmul == null ? null : LayerWriter.next(x, matmul, Op.TRANSPOSE);
        Node out = back == null ? null : LayerWriter.next(x, back, Op.RESHAPE);
        if (out == null || conv.inputs().size() != 2 || !conv.input(1).equals(selector.output(0)) || conv.intAttr("group") != 1
                || !Arrays.equals(perPosition.intsAttr("perm", null), new long[] {2, 0, 1})
                || !Arrays.equals(back.intsAttr("perm", null), new long[] {1, 2, 0})
                || !Arrays.stream(conv.intsAttr("pads", new long[4])).allMatch(p -> p == 0)
                || !Arrays.stream(conv.intsAttr("dilations", new long[] {1, 1})).allMatch(d -> d == 1)
                || !matmul.input(0).equals(perPosition.output(0))) {
            return false;
        }
        Weight kernel = x.graph().initializer(matmul.input(1));
        KTensor src = x.tensor(conv.input(0));
        if (kernel == null || src == null) {
            return false;
        }
        Weight sel = selector.attr("value").asTensor();
        long[] ss = sel.shape();
        long[] ks = kernel.shape();
        Shape os = x.graph().type(out.output(0)).shape();
        if (ss.length != 4 || ks.length != 3 || os.rank() != 4 || !os.dim(2).isFixed() || !os.dim(3).isFixed()) {
            return false;
        }
        long inC = ss[1];
        long kh = ss[2];
        long kw = ss[3];
        long oh = os.dim(2).value();
        long ow = os.dim(3).value();
        long filters = ks[2];
        if (ss[0] != inC * kh * kw) {
            return false;
        }
        float[] selected = sel.toFloats();
        Boolean order = LocalWindows.channelsFirst(selected, inC, kh, kw);
        if (order == null) {
            return false;
        }
        boolean channelsFirst = order;
        if (ks[0] != oh * ow || ks[1] != ss[0]) {
            return false;
        }
        Node add = LayerWriter.next(x, out, Op.ADD);
        Weight bias = add == null ? null : x.graph().initializer(add.input(1));
        if (add != null && (bias == null || !add.input(0).equals(out.output(0)) || bias.elementCount() != filters * oh * ow)) {
            add = null;
            bias = null;
        }
        Node last = add != null ? add : out;
        LayerWriter.Fused act = LayerWriter.fusedActivation(x, last);
        for (Node f : List.of(conv, rows, perPosition, matmul, back, out)) {
            x.markFused(f);
        }
        if (add != null) {
            x.markFused(add);
        }
        ObjectNode c = LayerWriter.layerConfig(x, last, act);
        c.put("filters", filters);
        c.putArray("kernel_size").add(kh).add(kw);
        long[] s = conv.intsAttr("strides", new long[] {1, 1});
        c.putArray("strides").add(s[0]).add(s[1]);
        c.put("padding", "valid");
        // Written in the data_format of the tensor it reads (the source's own for a Keras source),
        // so the kernel and bias go back as stored; the kernel's features are permuted only when
        // the window order differs from that format's.
        boolean writeFirst = !src.nchw();
        c.put("data_format", LayerWriter.format(src));
        c.put("activation", act == null ? "linear" : act.activation());
        c.put("use_bias", bias != null);
        LayerWriter.defaults(c, "kernel");
        c.put("implementation", 1);
        Weight k = channelsFirst == writeFirst ? kernel
                : channelsFirst
                ? kernel.with(LayoutTransform.permute(new long[] {ks[0], inC, kh, kw, filters}, new int[] {0, 2, 3, 1, 4}, ks))
                : kernel.with(LayoutTransform.permute(new long[] {ks[0], kh, kw, inC, filters}, new int[] {0, 3, 1, 2, 4}, ks));
        List<Weight> weights = new ArrayList<>(List.of(k.renamed("kernel:0")));
        if (bias != null) {
            // Keras's channels_first bias_add reshapes the stored (oh, ow, filters) to (filters, oh, ow); channels_last broadcasts it.
            weights.add((writeFirst
                    ? bias.with(LayoutTransform.permute(new long[] {filters * oh * ow}, new int[] {0}, new long[] {oh, ow, filters}))
                    : bias.with(LayoutTransform.permute(new long[] {filters, oh, ow}, new int[] {1, 2, 0}, new long[] {oh, ow, filters})))
                    .renamed("bias:0"));
        }
        String o = act != null ? act.output() : last.output(0);
        x.add(new KLayer("LocallyConnected2D", c.get("name").asText(), c, List.of(src.layer()), weights), o, src.nchw(), null);
        return true;
    }

    static void pool(KerasExporter x, Node n, boolean max) {
        if (!twoD(x, n)) {
            return;
        }
        KTensor t = x.tensor(n.input(0));
        long[] k = n.intsAttr("kernel_shape", new long[] {2, 2});
        long[] s = n.intsAttr("strides", new long[] {1, 1});
        if (n.outputs().size() > 1 && !n.output(1).isEmpty()) {
            x.refuseNode(n, "pooling with indices");
            return;
        }
        if (n.intAttr("ceil_mode") == 1) {
            Shape in = x.graph().type(n.input(0)).shape();
            Shape out = x.graph().type(n.output(0)).shape();
            long[] p = n.intsAttr("pads", new long[4]);
            for (int i = 0; i < 2; i++) {
                if (!in.dim(2 + i).isFixed() || (in.dim(2 + i).value() + p[i] + p[i + 2] - k[i]) / s[i] + 1 != out.dim(2 + i).value()) {
                    x.refuseNode(n, "ceil-mode pooling (Caffe) that changes the output size; Keras rounds down");
                    return;
                }
            }
        }
        String pad = padding(x, n, k, s, new long[] {1, 1});
        String input = n.input(0);
        if (pad != null && pad.equals("same") && !max && n.intAttr("count_include_pad") == 1) {
            pad = null;
        }
        if (pad == null) {
            if (!max && n.intAttr("count_include_pad") == 0) {
                x.refuseNode(n, "average pooling over padding that excludes the padded pixels, which Keras 'same' does differently");
                return;
            }
            if (max) {
                // a ZeroPadding2D pads with 0 where max pooling pads with -inf: wrong for negative inputs
                x.refuseNode(n, "max pooling over padding neither 'valid' nor Keras 'same' gives (a ZeroPadding2D would pad with 0, not -inf)");
                return;
            }
            input = zeroPadBefore(x, n, pads(x, n, k, s, new long[] {1, 1}));
            if (input == null) {
                return;
            }
            pad = "valid";
        }
        ObjectNode c = x.config(x.newName(n), n);
        c.putArray("pool_size").add(k[0]).add(k[1]);
        c.putArray("strides").add(s[0]).add(s[1]);
        c.put("padding", pad);
        c.put("data_format", LayerWriter.format(t));
        x.add(new KLayer(max ? "MaxPooling2D" : "AveragePooling2D", c.get("name").asText(), c, List.of(x.tensor(input).layer()), List.of()),
                n.output(0), t.nchw(), null);
    }

    static void globalPool(KerasExporter x, Node n, boolean max) {
        if (!twoD(x, n)) {
            return;
        }
        KTensor t = x.tensor(n.input(0));
        List<Node> cons = x.graph().consumers(n.output(0));
        ObjectNode c = x.config(x.newName(n), n);
        c.put("data_format", LayerWriter.format(t));
        boolean flat = cons.size() == 1 && cons.get(0).op() == Op.FLATTEN && cons.get(0).intAttr("axis") == 1;
        String out = n.output(0);
        if (flat) {
            x.markFused(cons.get(0));
            out = cons.get(0).output(0);
        } else {
            c.put("keepdims", true);
            x.needsKeepdims();
        }
        x.add(new KLayer(max ? "GlobalMaxPooling2D" : "GlobalAveragePooling2D", c.get("name").asText(), c, List.of(t.layer()), List.of()),
                out, !flat && t.nchw(), null);
    }
}
