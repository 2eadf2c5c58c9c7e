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
            case CONV -> ConvLayerWriter.conv(x, n);
            case GEMM -> dense(x, n);
            case MAX_POOL, AVERAGE_POOL -> ConvLayerWriter.pool(x, n, op == Op.MAX_POOL);
            case GLOBAL_AVERAGE_POOL, GLOBAL_MAX_POOL -> ConvLayerWriter.globalPool(x, n, op == Op.GLOBAL_MAX_POOL);
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
                if (!ConvLayerWriter.locallyConnected(x, n)) {
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
    static long grown(long dim, long by) {
        return dim < 0 ? -1 : dim + by;
    }

    static String activationName(Op op) {
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

    static void simple(KerasExporter x, Node n, String cls, String activation) {
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
