package graft.keras;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.ir.Graph;
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
 * The per-op half of {@link KerasExporter}: one IR node (plus a fused activation) to one
 * Keras layer, or a refusal naming the node. Switches over the whole op catalogue so a new op
 * cannot be forgotten silently.
 */
final class LayerWriter {
    private LayerWriter() {
    }

    static void emit(KerasExporter x, Node n, Op op) {
        switch (op) {
            case CONV -> conv(x, n);
            case GEMM -> dense(x, n);
            case MAX_POOL, AVERAGE_POOL -> pool(x, n, op == Op.MAX_POOL);
            case GLOBAL_AVERAGE_POOL, GLOBAL_MAX_POOL -> globalPool(x, n, op == Op.GLOBAL_MAX_POOL);
            case RELU -> {
                if (!OtherLayerWriter.reluLayer(x, n)) {
                    simple(x, n, "Activation", activationName(op));
                }
            }
            case SIGMOID, TANH, SOFTPLUS, SOFTSIGN, EXP -> simple(x, n, "Activation", activationName(op));
            case SOFTMAX -> softmax(x, n);
            case LEAKY_RELU -> {
                if (!OtherLayerWriter.reluLayer(x, n)) {
                    ObjectNode c = x.config(x.newName(n), n);
                    c.put("alpha", n.floatAttr("alpha"));
                    one(x, n, "LeakyReLU", c, List.of());
                }
            }
            case ELU -> {
                if (n.floatAttr("alpha") == 1f && x.sourceClass(n.layer()).equals("Activation")) {
                    simple(x, n, "Activation", "elu");
                } else {
                    ObjectNode c = x.config(x.newName(n), n);
                    c.put("alpha", n.floatAttr("alpha"));
                    one(x, n, "ELU", c, List.of());
                }
            }
            case CLIP, THRESHOLDED_RELU -> OtherLayerWriter.clipOrThreshold(x, n);
            case SELU, HARD_SIGMOID -> OtherLayerWriter.fixedActivation(x, n);
            case PRELU -> OtherLayerWriter.prelu(x, n);
            case CONV_TRANSPOSE -> OtherLayerWriter.convTranspose(x, n);
            case UNSQUEEZE -> {
                if (!OtherLayerWriter.upSampling(x, n)) {
                    x.refuseNode(n, "no Keras layer for this op in graft's Keras writer (only as part of an UpSampling2D)");
                }
            }
            case SLICE -> OtherLayerWriter.cropping(x, n);
            case FLATTEN -> flatten(x, n);
            case RESHAPE -> reshape(x, n);
            case DROPOUT -> dropout(x, n);
            case IDENTITY -> {
                if (!OtherLayerWriter.identityLayer(x, n)) {
                    KTensor t = x.tensor(n.input(0));
                    x.alias(n.output(0), t.layer(), t.nchw(), t.flattenedChw());
                }
            }
            case TRANSPOSE -> transpose(x, n);
            case BATCH_NORMALIZATION -> batchNorm(x, n);
            case ADD, SUM -> merge(x, n, "Add");
            case SUB -> {
                if (!PreprocessingWriter.normalization(x, n)) {
                    merge(x, n, "Subtract");
                }
            }
            case MUL -> {
                if (!PreprocessingWriter.rescaling(x, n)) {
                    merge(x, n, "Multiply");
                }
            }
            case MEAN -> merge(x, n, "Average");
            case MAX -> merge(x, n, "Maximum");
            case MIN -> merge(x, n, "Minimum");
            case CONCAT -> concat(x, n);
            case PAD -> pad(x, n);
            case CONSTANT -> {
                if (!locallyConnected(x, n)) {
                    x.refuseNode(n, "no Keras layer for this op in graft's Keras writer");
                }
            }
            case LOG_SOFTMAX -> logSoftmax(x, n);
            case MAT_MUL, DIV, POW, LOG, ABS, NEG, SQRT,
                 SQUEEZE, SPLIT, LRN, CONSTANT_OF_SHAPE, SHAPE, GATHER ->
                    x.refuseNode(n, "no Keras layer for this op in graft's Keras writer");
        }
    }

    /**
     * A Dropout layer with the node's rate (ratio input, else the Caffe layer's dropout_ratio kept
     * by the importer, else ONNX's default 0.5): Keras drops nothing at inference either, and the
     * layer is kept so that the written model has the layers the graph has. A computed ratio or a
     * training-mode input is refused: Keras's Dropout has neither.
     */
    private static void dropout(KerasExporter x, Node n) {
        float rate = n.floatAttr("ratio", 0.5f);
        byte[] kept = n.extras().get("caffe.dropout_ratio");
        if (kept != null) {
            rate = Float.parseFloat(new String(kept, java.nio.charset.StandardCharsets.UTF_8));
        }
        if (n.inputs().size() > 1 && !n.input(1).isEmpty()) {
            Weight r = x.graph().initializer(n.input(1));
            if (r == null || r.elementCount() != 1) {
                x.refuseNode(n, "its ratio is computed, not a constant");
                return;
            }
            rate = r.toFloats()[0];
        }
        if (n.inputs().size() > 2 && !n.input(2).isEmpty()) {
            Weight t = x.graph().initializer(n.input(2));
            if (t == null || t.elementCount() != 1 || t.toFloats()[0] != 0f) {
                x.refuseNode(n, "training mode (a random mask at inference) has no Keras equivalent");
                return;
            }
        }
        ObjectNode c = x.config(x.newName(n), n);
        c.put("rate", Double.parseDouble(Float.toString(rate)));
        boolean spatial = x.sourceClass(n.layer()).equals("SpatialDropout2D") && x.graph().type(n.input(0)).shape().rank() == 4;
        if (spatial) {
            c.putNull("noise_shape");
            c.putNull("seed");
        }
        one(x, n, spatial ? "SpatialDropout2D" : "Dropout", c, List.of());
    }

    /** A Keras dim grown by {@code by} pixels (-1, unknown, stays unknown). */
    private static long grown(long dim, long by) {
        return dim < 0 ? -1 : dim + by;
    }

    private static String activationName(Op op) {
        return switch (op) {
            case RELU -> "relu";
            case SIGMOID -> "sigmoid";
            case TANH -> "tanh";
            case SOFTPLUS -> "softplus";
            case SOFTSIGN -> "softsign";
            case EXP -> "exponential";
            default -> throw new IllegalArgumentException(op.name());
        };
    }

    /** A Keras activation fused into the layer: its name, the IR value it produces, the source layer it names. */
    record Fused(String activation, String output, String layer) {
    }

    /**
     * An activation consuming {@code n}'s output alone and belonging to the same source layer (the
     * same layer tag; an ONNX file graft wrote keeps the tags in its {@code graft.layers} metadata).
     */
    static Fused fusedActivation(KerasExporter x, Node n) {
        Node a = soleConsumer(x, n);
        if (a == null) {
            return null;
        }
        if (a.op() == null) {
            return null;
        }
        String act = switch (a.op()) {
            case RELU -> "relu";
            case SIGMOID -> "sigmoid";
            case TANH -> "tanh";
            case SOFTPLUS -> "softplus";
            case SOFTSIGN -> "softsign";
            case SOFTMAX -> a.intAttr("axis") == 1 || a.intAttr("axis") == -1 && x.graph().type(a.input(0)).shape().rank() == 2 ? "softmax" : null;
            default -> x.keras3() ? keras3Activation(a) : null;
        };
        if (act == null) {
            return null;
        }
        x.markFused(a);
        return new Fused(act, a.output(0), a.layer());
    }

    /**
     * The activations a Keras 3 file written by graft also fuses, so a Keras 3 Dense(activation=
     * 'elu' / 'hard_sigmoid' / ...) is written back as one layer: exactly Keras 3's constants
     * (its hard_sigmoid is relu6(x + 3) / 6), else null (a layer of its own, or a refusal).
     */
    private static String keras3Activation(Node a) {
        return switch (a.op()) {
            case ELU -> a.floatAttr("alpha") == 1f ? "elu" : null;
            case HARD_SIGMOID -> a.floatAttr("alpha") == LayerReader.KERAS3_HARD_SIGMOID_ALPHA && a.floatAttr("beta") == 0.5f ? "hard_sigmoid" : null;
            case SELU -> OtherLayerWriter.kerasSelu(a) ? "selu" : null;
            case EXP -> "exponential";
            default -> null;
        };
    }

    /** The Keras layer name and config for {@code n}, named after the fused activation's layer when there is one. */
    static ObjectNode layerConfig(KerasExporter x, Node n, Fused f) {
        if (f == null) {
            return x.config(x.newName(n), n);
        }
        Node a = x.graph().consumers(n.output(0)).get(0);
        ObjectNode c = x.config(x.newName(a), a);
        c.put("trainable", x.graph().trainingOf(n.layer()).trainable() && x.graph().trainingOf(a.layer()).trainable());
        return c;
    }

    static void one(KerasExporter x, Node n, String cls, ObjectNode c, List<Weight> w) {
        KTensor t = x.tensor(n.input(0));
        x.add(new KLayer(cls, c.get("name").asText(), c, List.of(t.layer()), w), n.output(0), t.nchw(), null);
    }

    private static void simple(KerasExporter x, Node n, String cls, String activation) {
        ObjectNode c = x.config(x.newName(n), n);
        c.put("activation", activation);
        one(x, n, cls, c, List.of());
    }

    private static void softmax(KerasExporter x, Node n) {
        KTensor t = x.tensor(n.input(0));
        int rank = x.graph().type(n.input(0)).shape().rank();
        long axis = n.intAttr("axis");
        axis = axis < 0 ? axis + rank : axis;
        long kerasAxis = t.nchw() && rank == 4 ? new long[] {0, 3, 1, 2}[(int) axis] : axis;
        ObjectNode c = x.config(x.newName(n), n);
        if (kerasAxis == rank - 1 && x.sourceClass(n.layer()).equals("Activation")) {
            c.put("activation", "softmax");
            one(x, n, "Activation", c, List.of());
            return;
        }
        c.put("axis", kerasAxis == rank - 1 ? -1 : kerasAxis);
        one(x, n, "Softmax", c, List.of());
    }

    /**
     * LogSoftmax over the last Keras axis: a Keras 3 {@code Activation('log_softmax')}
     * ({@code keras.activations.log_softmax}). Keras 2.2.4 has no such activation (its
     * {@code keras.activations} stops at softmax), so the {@code .h5} writer refuses it by name.
     */
    private static void logSoftmax(KerasExporter x, Node n) {
        if (!x.keras3()) {
            x.refuseNode(n, "Keras 2.2.4, the version graft's .h5 declares, has no log_softmax activation; Keras 3 has one: write .keras");
            return;
        }
        KTensor t = x.tensor(n.input(0));
        int rank = x.graph().type(n.input(0)).shape().rank();
        long axis = n.intAttr("axis");
        axis = axis < 0 ? axis + rank : axis;
        long kerasAxis = t.nchw() && rank == 4 ? new long[] {0, 3, 1, 2}[(int) axis] : axis;
        if (kerasAxis != rank - 1) {
            x.refuseNode(n, "log_softmax over " + (kerasAxis == 0 ? "the batch axis (axis 0)" : "Keras axis " + kerasAxis)
                    + "; Keras's log_softmax activation takes the last axis only");
            return;
        }
        ObjectNode c = x.config(x.newName(n), n);
        c.put("activation", "log_softmax");
        one(x, n, "Activation", c, List.of());
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
    private static long[] spatial(KerasExporter x, Node n) {
        Shape in = x.graph().type(n.input(0)).shape();
        long[] r = new long[2];
        for (int i = 0; i < 2; i++) {
            r[i] = in.dim(2 + i).isFixed() ? in.dim(2 + i).value() : -1;
        }
        return r;
    }

    /** Keras "valid"/"same" for the node's pads, or null when neither produces them. */
    private static String padding(KerasExporter x, Node n, long[] k, long[] s, long[] d) {
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
    private static String zeroPadBefore(KerasExporter x, Node n, long[] p) {
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
        c.put("data_format", format(t));
        long[] in = x.kerasShapeOf(t.layer());
        long[] padded = in == null || in.length != 4 ? null : new long[] {-1, grown(in[1], p[0] + p[2]), grown(in[2], p[1] + p[3]), in[3]};
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

    private static void conv(KerasExporter x, Node n) {
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
        long[] k = n.intsAttr("kernel_shape", new long[] {ws[2], ws[3]});
        long[] s = n.intsAttr("strides", new long[] {1, 1});
        long[] d = n.intsAttr("dilations", new long[] {1, 1});
        long group = n.intAttr("group");
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
        Fused act = fusedActivation(x, last);
        ObjectNode c = layerConfig(x, last, act);
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
        c.put("data_format", format(t));
        c.putArray("dilation_rate").add(d[0]).add(d[1]);
        c.put("activation", act == null ? "linear" : act.activation());
        c.put("use_bias", last.inputs().size() > 2);
        if (pointwise != null) {
            defaults(c, List.of("depthwise", "pointwise"));
        } else {
            defaults(c, depthwise ? "depthwise" : "kernel");
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

    /** The one consumer of {@code n}'s output when that output is no graph output and the consumer belongs to n's source layer, else null. */
    static Node soleConsumer(KerasExporter x, Node n) {
        List<Node> cons = x.graph().consumers(n.output(0));
        boolean isOutput = x.graph().outputs().stream().anyMatch(v -> v.name().equals(n.output(0)));
        return cons.size() != 1 || isOutput || !cons.get(0).layer().equals(n.layer()) ? null : cons.get(0);
    }

    /** {@link #soleConsumer} when it is an {@code op} node, else null. */
    static Node next(KerasExporter x, Node n, Op op) {
        Node c = soleConsumer(x, n);
        return c != null && c.op() == op ? c : null;
    }

    /**
     * Rebuilds a LocallyConnected2D from the nodes the Keras importer makes of one (a Constant 0/1
     * window selector, Conv, Reshape, Transpose, batched MatMul with the kernel, Transpose,
     * Reshape, optional bias Add, optional activation), in the data_format of the tensor it reads
     * (see the body for the kernel and bias layouts).
     * False when {@code selector} does not start that pattern.
     */
    private static boolean locallyConnected(KerasExporter x, Node selector) {
        Node conv = next(x, selector, Op.CONV);
        Node rows = conv == null ? null : next(x, conv, Op.RESHAPE);
        Node perPosition = rows == null ? null : next(x, rows, Op.TRANSPOSE);
        Node matmul = perPosition == null ? null : next(x, perPosition, Op.MAT_MUL);
        Node back = matmul == null ? null : next(x, matmul, Op.TRANSPOSE);
        Node out = back == null ? null : next(x, back, Op.RESHAPE);
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
        Node add = next(x, out, Op.ADD);
        Weight bias = add == null ? null : x.graph().initializer(add.input(1));
        if (add != null && (bias == null || !add.input(0).equals(out.output(0)) || bias.elementCount() != filters * oh * ow)) {
            add = null;
            bias = null;
        }
        Node last = add != null ? add : out;
        Fused act = fusedActivation(x, last);
        for (Node f : List.of(conv, rows, perPosition, matmul, back, out)) {
            x.markFused(f);
        }
        if (add != null) {
            x.markFused(add);
        }
        ObjectNode c = layerConfig(x, last, act);
        c.put("filters", filters);
        c.putArray("kernel_size").add(kh).add(kw);
        long[] s = conv.intsAttr("strides", new long[] {1, 1});
        c.putArray("strides").add(s[0]).add(s[1]);
        c.put("padding", "valid");
        // Written in the data_format of the tensor it reads (the source's own for a Keras source),
        // so the kernel and bias go back as stored; the kernel's features are permuted only when
        // the window order differs from that format's.
        boolean writeFirst = !src.nchw();
        c.put("data_format", format(src));
        c.put("activation", act == null ? "linear" : act.activation());
        c.put("use_bias", bias != null);
        defaults(c, "kernel");
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

    private static void dense(KerasExporter x, Node n) {
        KTensor t = x.tensor(n.input(0));
        Weight w = x.graph().initializer(n.input(1));
        if (w == null || n.intAttr("transA") != 0 || n.floatAttr("alpha") != 1f || n.floatAttr("beta") != 1f
                || (n.inputs().size() > 2 && x.graph().initializer(n.input(2)) == null)) {
            x.refuseNode(n, "only Gemm(x, W, b) with alpha = beta = 1 and a weight W is a Dense layer");
            return;
        }
        Weight kernel = n.intAttr("transB") == 1 ? w.with(LayoutTransform.transpose(w.shape(), 1, 0)) : w;
        long[] ks = kernel.shape();
        long[] chw = t.flattenedChw();
        if (chw != null) {
            // IR rows are in C,H,W order (an NCHW Flatten); Keras flattens NHWC, so rows go back to H,W,C.
            kernel = kernel.with(LayoutTransform.permute(new long[] {chw[0], chw[1], chw[2], ks[1]}, new int[] {1, 2, 0, 3}, ks));
        }
        Weight bias = n.inputs().size() > 2 ? x.graph().initializer(n.input(2)) : null;
        if (bias != null && bias.elementCount() != ks[1]) {
            x.refuseNode(n, "bias of " + bias.elementCount() + " values for " + ks[1] + " units (broadcast bias)");
            return;
        }
        if (bias != null && bias.shape().length != 1) {
            // (1, K) broadcasts over the batch exactly as Dense's (K,); any other layout of K values does not.
            long[] bs = bias.shape();
            if (bs.length == 0 || bs[bs.length - 1] != ks[1]) {
                x.refuseNode(n, "bias of shape " + Arrays.toString(bs) + " is not broadcast like a Dense bias of " + ks[1]);
                return;
            }
            bias = bias.with(LayoutTransform.permute(new long[] {ks[1]}, new int[] {0}, new long[] {ks[1]}));
        }
        Fused act = fusedActivation(x, n);
        ObjectNode c = layerConfig(x, n, act);
        String name = c.get("name").asText();
        c.put("units", ks[1]);
        c.put("activation", act == null ? "linear" : act.activation());
        c.put("use_bias", bias != null);
        defaults(c, "kernel");
        List<Weight> weights = new ArrayList<>(List.of(kernel.renamed("kernel:0")));
        if (bias != null) {
            weights.add(bias.renamed("bias:0"));
        }
        String out = act == null ? n.output(0) : act.output();
        x.add(new KLayer("Dense", name, c, List.of(t.layer()), weights), out, false, null);
    }

    /**
     * The initializer, regularizer and constraint fields Keras 2.2.4's own save writes for a
     * weighted layer (glorot_uniform, zeros, none): Keras fills them in when absent, but other
     * readers of Keras files (DL4J) refuse a layer without them.
     */
    static void defaults(ObjectNode c, String kernel) {
        defaults(c, List.of(kernel));
    }

    /** {@link #defaults(ObjectNode, String)} for a layer with several kernels (SeparableConv2D: depthwise, pointwise). */
    static void defaults(ObjectNode c, List<String> kernels) {
        for (String kernel : kernels) {
            ObjectNode init = c.putObject(kernel + "_initializer");
            init.put("class_name", "VarianceScaling");
            ObjectNode ic = init.putObject("config");
            ic.put("scale", 1.0).put("mode", "fan_avg").put("distribution", "uniform").putNull("seed");
        }
        ObjectNode zeros = c.putObject("bias_initializer");
        zeros.put("class_name", "Zeros");
        zeros.putObject("config");
        for (String kernel : kernels) {
            c.putNull(kernel + "_regularizer");
        }
        c.putNull("bias_regularizer");
        c.putNull("activity_regularizer");
        for (String kernel : kernels) {
            c.putNull(kernel + "_constraint");
        }
        c.putNull("bias_constraint");
    }

    /** The Keras data_format that reads a 4-D IR (NCHW) value as the op does: channels_last over Keras's NHWC view, else channels_first. */
    static String format(KTensor t) {
        return t.nchw() ? "channels_last" : "channels_first";
    }

    private static void pool(KerasExporter x, Node n, boolean max) {
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
        c.put("data_format", format(t));
        x.add(new KLayer(max ? "MaxPooling2D" : "AveragePooling2D", c.get("name").asText(), c, List.of(x.tensor(input).layer()), List.of()),
                n.output(0), t.nchw(), null);
    }

    private static void globalPool(KerasExporter x, Node n, boolean max) {
        if (!twoD(x, n)) {
            return;
        }
        KTensor t = x.tensor(n.input(0));
        List<Node> cons = x.graph().consumers(n.output(0));
        ObjectNode c = x.config(x.newName(n), n);
        c.put("data_format", format(t));
        boolean flat = cons.size() == 1 && cons.get(0).op() == Op.FLATTEN && cons.get(0).intAttr("axis") == 1;
        String out = n.output(0);
        if (flat) {
            x.markFused(cons.get(0));
            out = cons.get(0).output(0);
        } else {
            c.put("keepdims", true);
        }
        x.add(new KLayer(max ? "GlobalMaxPooling2D" : "GlobalAveragePooling2D", c.get("name").asText(), c, List.of(t.layer()), List.of()),
                out, !flat && t.nchw(), null);
    }

    /** A Flatten, or a Reshape that flattens all but the batch axis (its caller checked the shape). */
    private static void flatten(KerasExporter x, Node n) {
        KTensor t = x.tensor(n.input(0));
        Shape s = x.graph().type(n.input(0)).shape();
        long axis = n.op() == Op.FLATTEN ? n.intAttr("axis") : 1;
        if (axis != 1) {
            x.refuseNode(n, "Flatten with axis " + axis);
            return;
        }
        String input = n.input(0);
        long[] chw = null;
        if (s.rank() == 4 && t.nchw()) {
            boolean fixed = s.dim(1).isFixed() && s.dim(2).isFixed() && s.dim(3).isFixed();
            List<Node> cons = x.graph().consumers(n.output(0));
            if (fixed && !cons.isEmpty() && cons.stream().allMatch(c -> c.op() == Op.GEMM)) {
                chw = new long[] {s.dim(1).value(), s.dim(2).value(), s.dim(3).value()};
            } else {
                // Permute to (C, H, W) in Keras so that its Flatten gives the IR's C,H,W order.
                String pname = x.freshName(x.newName(n) + "_chw");
                ObjectNode pc = x.config(pname, n);
                pc.putArray("dims").add(3).add(1).add(2);
                long[] in = x.kerasShapeOf(t.layer());
                long[] permuted = in == null || in.length != 4 ? null : new long[] {-1, in[3], in[1], in[2]};
                x.add(new KLayer("Permute", pname, pc, List.of(t.layer()), List.of()), input + "#chw", false, null, permuted);
                input = input + "#chw";
            }
        }
        ObjectNode c = x.config(x.newName(n), n);
        c.put("data_format", "channels_last");
        x.add(new KLayer("Flatten", c.get("name").asText(), c, List.of(x.tensor(input).layer()), List.of()), n.output(0), false, chw);
    }

    private static void reshape(KerasExporter x, Node n) {
        Weight shape = x.graph().initializer(n.input(1));
        Shape in = x.graph().type(n.input(0)).shape();
        if (shape != null && shape.elementCount() == 2 && !x.sourceClass(n.layer()).equals("Reshape")) {
            long[] v = shape.toLongs();
            long rest = in.rank() == 4 && in.isFixed() ? in.elementCount() / in.dim(0).value() : -2;
            boolean all = in.dim(1).isFixed() && in.rank() == 4 && in.dim(2).isFixed() && in.dim(3).isFixed();
            long per = all ? in.dim(1).value() * in.dim(2).value() * in.dim(3).value() : -2;
            if ((v[0] == 0 || v[0] == -1 || v[0] == 1 || rest > 0) && (v[1] == -1 || v[1] == per)) {
                flatten(x, n.withInputs(List.of(n.input(0))).withAttrs(java.util.Map.of()));
                return;
            }
        }
        if (!OtherLayerWriter.reshape(x, n)) {
            x.refuseNode(n, "a Reshape that changes the batch axis, or of a channels_last tensor to other than (batch, features)");
        }
    }

    private static void transpose(KerasExporter x, Node n) {
        KTensor t = x.tensor(n.input(0));
        if (isPerm(n, 0, 1, 3, 2) && OtherLayerWriter.upSampling(x, n)) {
            return;
        }
        if (x.sourceClass(n.layer()).equals("Permute") && !t.nchw() && OtherLayerWriter.permute(x, n)) {
            return;
        }
        if (!t.nchw() && isPerm(n, 0, 3, 1, 2)) {
            x.alias(n.output(0), t.layer(), true, null);
        } else if (t.nchw() && isPerm(n, 0, 2, 3, 1)) {
            x.alias(n.output(0), t.layer(), false, null);
        } else {
            x.refuseNode(n, "a Transpose other than the NHWC/NCHW layout change");
        }
    }

    static boolean isPerm(Node n, long... p) {
        return Arrays.equals(n.intsAttr("perm", new long[0]), p);
    }

    private static void batchNorm(KerasExporter x, Node n) {
        KTensor t = x.tensor(n.input(0));
        Graph g = x.graph();
        List<Weight> w = new ArrayList<>();
        String[] roles = {"gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"};
        // A gamma (beta) the importer synthesised for scale=False (center=False) and no edit has
        // changed is written back as the flag, with no weight: the model Keras read.
        java.util.Set<String> constants = java.util.Set.of(g.metadata().getOrDefault(graft.ir.LayerTable.CONSTANTS, "").split(","));
        boolean[] flag = {true, true};
        for (int i = 1; i <= 4; i++) {
            Weight v = g.initializer(n.input(i));
            if (v == null) {
                x.refuseNode(n, "batch-norm parameters are computed, not weights");
                return;
            }
            if (i <= 2 && constants.contains(n.input(i)) && allEqual(v, i == 1 ? 1f : 0f)) {
                flag[i - 1] = false;
                continue;
            }
            w.add(v.renamed(roles[i - 1]));
        }
        int rank = g.type(n.input(0)).shape().rank();
        ObjectNode c = x.config(x.newName(n), n);
        c.put("axis", rank == 4 && !t.nchw() ? 1 : -1);
        c.put("epsilon", n.floatAttr("epsilon"));
        c.put("momentum", n.floatAttr("momentum", 0.99f));
        c.put("center", flag[1]);
        c.put("scale", flag[0]);
        one(x, n, "BatchNormalization", c, w);
    }

    private static boolean allEqual(Weight w, float value) {
        for (float v : w.toFloats()) {
            if (v != value) {
                return false;
            }
        }
        return true;
    }

    private static void merge(KerasExporter x, Node n, String cls) {
        List<String> in = new ArrayList<>();
        Boolean nchw = null;
        for (String v : n.inputs()) {
            KTensor t = x.tensor(v);
            if (t == null || (nchw != null && nchw != t.nchw())) {
                x.refuseNode(n, t == null ? "an input is a constant (Keras merges layer outputs only)" : "inputs in different layouts");
                return;
            }
            nchw = t.nchw();
            in.add(t.layer());
        }
        ObjectNode c = x.config(x.newName(n), n);
        x.add(new KLayer(cls, c.get("name").asText(), c, in, List.of()), n.output(0), nchw, null);
    }

    private static void concat(KerasExporter x, Node n) {
        KTensor t0 = x.tensor(n.input(0));
        int rank = x.graph().type(n.input(0)).shape().rank();
        long axis = n.intAttr("axis", 1);
        axis = axis < 0 ? axis + rank : axis;
        long kerasAxis = t0.nchw() && rank == 4 ? new long[] {0, 3, 1, 2}[(int) axis] : axis;
        List<String> in = new ArrayList<>();
        for (String v : n.inputs()) {
            KTensor t = x.tensor(v);
            if (t == null || t.nchw() != t0.nchw()) {
                x.refuseNode(n, "inputs in different layouts or constant inputs");
                return;
            }
            in.add(t.layer());
        }
        ObjectNode c = x.config(x.newName(n), n);
        c.put("axis", kerasAxis == rank - 1 ? -1 : kerasAxis);
        x.add(new KLayer("Concatenate", c.get("name").asText(), c, in, List.of()), n.output(0), t0.nchw(), null);
    }

    private static void pad(KerasExporter x, Node n) {
        KTensor t = x.tensor(n.input(0));
        Weight pads = x.graph().initializer(n.input(1));
        boolean zero = n.inputs().size() < 3 || n.input(2).isEmpty()
                || x.graph().initializer(n.input(2)) != null && x.graph().initializer(n.input(2)).toFloats()[0] == 0f;
        if (pads == null || !n.stringAttr("mode").equals("constant") || !zero || pads.elementCount() != 8) {
            x.refuseNode(n, "only constant zero padding of H and W is a ZeroPadding2D");
            return;
        }
        long[] p = pads.toLongs();
        if (p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0) {
            x.refuseNode(n, "padding of the batch or channel axis");
            return;
        }
        ObjectNode c = x.config(x.newName(n), n);
        ArrayNode a = c.putArray("padding");
        a.addArray().add(p[2]).add(p[6]);
        a.addArray().add(p[3]).add(p[7]);
        c.put("data_format", format(t));
        one(x, n, "ZeroPadding2D", c, List.of());
    }
}
