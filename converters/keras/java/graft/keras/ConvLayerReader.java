package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.LayoutTransform;
import graft.ir.Op;
import graft.ir.Weight;
import graft.keras.GraphBuilder.Layout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The convolution half of {@link LayerReader}: Conv2D, Conv2DTranspose, DepthwiseConv2D and
 * SeparableConv2D, with "same" padding made explicit and kernels given pending layout
 * transforms (Theano-saved kernels flipped). Not thread-safe.
 */
final class ConvLayerReader {
    private final GraphBuilder b;
    private final LayerReader m;
    private final boolean theano;

    ConvLayerReader(GraphBuilder b, LayerReader m, boolean theano) {
        this.b = b;
        this.m = m;
        this.theano = theano;
    }

    /** Explicit [top, left, bottom, right] pads for Keras "same"/"valid", or null for SAME_UPPER when a size is symbolic. */
    long[] pads(String x, String padding, long[] k, long[] s, long[] d) {
        if (!padding.equals("same")) {
            return new long[4];
        }
        return SamePadding.pads(new long[] {b.dim(x, 2), b.dim(x, 3)}, k, s, d, false);
    }

    private Map<String, Attr> convAttrs(KerasConfig.Layer l, String x, long[] k, long group) {
        JsonNode c = l.cfg();
        long[] s = m.positivePair(l, "strides", 1);
        long[] d = m.positivePair(l, "dilation_rate", 1);
        Map<String, Attr> a = new LinkedHashMap<>();
        a.put("kernel_shape", Attr.ints(k));
        a.put("strides", Attr.ints(s));
        a.put("dilations", Attr.ints(d));
        long[] p = pads(x, c.path("padding").asText("valid"), k, s, d);
        if (p == null) {
            a.put("auto_pad", Attr.of("SAME_UPPER"));
        } else {
            a.put("pads", Attr.ints(p));
        }
        if (group != 1) {
            a.put("group", Attr.of(group));
        }
        return a;
    }

    String conv(KerasConfig.Layer l, String x0) {
        JsonNode c = l.cfg();
        Layout f = LayerReader.format(c);
        String x = b.as(x0, f, l.name());
        List<Weight> w = m.expect(l, c.path("use_bias").asBoolean(true) ? 2 : 1);
        long[] k = m.positivePair(l, "kernel_size", 1);
        long filters = c.path("filters").asLong();
        long groups = c.path("groups").asLong(1);
        if (groups < 1) {
            throw m.corrupted(l, "groups " + groups + " must be positive");
        }
        long inC = b.dim(x, 1);
        Weight kernel = w.get(0);
        boolean keras1th = c.path("keras1").asBoolean(false) && f == Layout.KERAS;
        if (keras1th) {
            m.checkShape(l, kernel, filters, inC < 0 ? -1 : inC / groups, k[0], k[1]);
        } else {
            m.checkShape(l, kernel, k[0], k[1], inC < 0 ? -1 : inC / groups, filters);
            kernel = kernel.with(LayoutTransform.transpose(kernel.shape(), 3, 2, 0, 1));
        }
        if (theano) {
            kernel = kernel.with(LayoutTransform.flipSpatial());
        }
        return activated(l, Op.CONV, "conv", kernelAndBias(l, x, kernel, "kernel", w, 1, filters), convAttrs(l, x, k, groups), f);
    }

    String convTranspose(KerasConfig.Layer l, String x0) {
        JsonNode c = l.cfg();
        Layout f = LayerReader.format(c);
        String x = b.as(x0, f, l.name());
        List<Weight> w = m.expect(l, c.path("use_bias").asBoolean(true) ? 2 : 1);
        long[] k = m.positivePair(l, "kernel_size", 1);
        long[] s = m.positivePair(l, "strides", 1);
        long[] d = m.positivePair(l, "dilation_rate", 1);
        long filters = c.path("filters").asLong();
        Weight kernel = w.get(0);
        m.checkShape(l, kernel, k[0], k[1], filters, b.dim(x, 1));
        // Keras (kh, kw, out, in) -> ONNX ConvTranspose (in, out, kh, kw): the same axis permutation as HWIO -> OIHW.
        kernel = kernel.with(LayoutTransform.transpose(kernel.shape(), 3, 2, 0, 1));
        if (theano) {
            kernel = kernel.with(LayoutTransform.flipSpatial());
        }
        List<String> ins = kernelAndBias(l, x, kernel, "kernel", w, 1, filters);
        long[] pads = new long[4];
        long[] outPad = new long[2];
        boolean same = c.path("padding").asText("valid").equals("same");
        for (int i = 0; i < 2; i++) {
            long eff = (k[i] - 1) * d[i] + 1;
            // Keras: valid gives in*s + max(eff - s, 0), same gives in*s; ONNX gives (in-1)*s + eff + output_padding - pads.
            long total = Math.max(eff - s[i], 0);
            outPad[i] = Math.max(s[i] - eff, 0);
            if (same) {
                pads[i] = total / 2;
                pads[i + 2] = total - total / 2;
            }
        }
        Map<String, Attr> a = new LinkedHashMap<>();
        a.put("kernel_shape", Attr.ints(k));
        a.put("strides", Attr.ints(s));
        a.put("dilations", Attr.ints(d));
        a.put("pads", Attr.ints(pads));
        if (outPad[0] != 0 || outPad[1] != 0) {
            a.put("output_padding", Attr.ints(outPad));
        }
        return activated(l, Op.CONV_TRANSPOSE, "deconv", ins, a, f);
    }

    /** Keras depthwise kernel (kh, kw, in, mult) as ONNX grouped-conv weight (in*mult, 1, kh, kw). */
    private Weight depthwiseKernel(KerasConfig.Layer l, Weight kernel, long[] k, long inC, long mult) {
        m.checkShape(l, kernel, k[0], k[1], inC, mult);
        long[] s = kernel.shape();
        return kernel.with(LayoutTransform.permute(s, new int[] {2, 3, 0, 1}, new long[] {s[2] * s[3], 1, s[0], s[1]}));
    }

    String depthwise(KerasConfig.Layer l, String x0) {
        JsonNode c = l.cfg();
        Layout f = LayerReader.format(c);
        String x = b.as(x0, f, l.name());
        List<Weight> w = m.expect(l, c.path("use_bias").asBoolean(true) ? 2 : 1);
        long[] k = m.positivePair(l, "kernel_size", 1);
        long inC = b.dim(x, 1);
        long mult = c.path("depth_multiplier").asLong(1);
        Weight kernel = depthwiseKernel(l, w.get(0), k, inC, mult);
        return activated(l, Op.CONV, "conv", kernelAndBias(l, x, kernel, "depthwise_kernel", w, 1, inC * mult),
                convAttrs(l, x, k, inC), f);
    }

    String separable(KerasConfig.Layer l, String x0) {
        JsonNode c = l.cfg();
        Layout f = LayerReader.format(c);
        String x = b.as(x0, f, l.name());
        List<Weight> w = m.expect(l, c.path("use_bias").asBoolean(true) ? 3 : 2);
        long[] k = m.positivePair(l, "kernel_size", 1);
        long inC = b.dim(x, 1);
        long mult = c.path("depth_multiplier").asLong(1);
        long filters = c.path("filters").asLong();
        Weight dk = depthwiseKernel(l, w.get(0), k, inC, mult);
        String dw = b.node(Op.CONV, l.name(), l.name() + "/depthwise", List.of(x, b.weight(dk.renamed(l.name() + "/depthwise_kernel"))),
                convAttrs(l, x, k, inC), f);
        Weight pk = w.get(1);
        m.checkShape(l, pk, 1, 1, inC * mult, filters);
        pk = pk.with(LayoutTransform.transpose(pk.shape(), 3, 2, 0, 1));
        Map<String, Attr> a = new LinkedHashMap<>();
        a.put("kernel_shape", Attr.ints(1, 1));
        a.put("pads", Attr.ints(0, 0, 0, 0));
        return activated(l, Op.CONV, "pointwise", kernelAndBias(l, dw, pk, "pointwise_kernel", w, 2, filters), a, f);
    }

    /**
     * LocallyConnected2D (Keras's local_conv, implementation 1): a convolution whose kernel differs
     * at every output position. Keras takes each window as a row of kh*kw*C features (in (kh, kw,
     * C) order for channels_last, (C, kh, kw) for channels_first), multiplies the P = oh*ow rows
     * by their own (features, filters) slice of the (P, features, filters) kernel, and adds a
     * (oh, ow, filters) bias. In ONNX: a Conv with a fixed 0/1 kernel cuts the windows out as
     * features x (oh, ow) (each output is one input value, so exact), a batched MatMul over the
     * P positions applies the kernel as stored, and Reshape/Transpose put the result back to
     * (N, filters, oh, ow). Keras's channels_first bias_add reshapes (not transposes) the stored
     * (oh, ow, filters) bias to (filters, oh, ow); graft reads it the same way.
     */
    String locallyConnected(KerasConfig.Layer l, String x0) {
        JsonNode c = l.cfg();
        Layout f = LayerReader.format(c);
        String x = b.as(x0, f, l.name());
        String name = l.name();
        long impl = c.path("implementation").asLong(1);
        if (impl != 1) {
            throw refuseLocallyConnected(name, "implementation " + impl + " stores its kernel in another layout; graft converts implementation 1 (the default)");
        }
        if (!c.path("padding").asText("valid").equals("valid")) {
            throw refuseLocallyConnected(name, "padding '" + c.path("padding").asText() + "'; Keras supports only 'valid' here");
        }
        long[] k = m.positivePair(l, "kernel_size", 1);
        long[] s = m.positivePair(l, "strides", 1);
        long filters = c.path("filters").asLong();
        long inC = b.dim(x, 1);
        long h = b.dim(x, 2);
        long w = b.dim(x, 3);
        if (inC < 0 || h < 0 || w < 0) {
            throw refuseLocallyConnected(name, "its input needs fixed channels, height and width (one kernel per output position)");
        }
        long oh = (h - k[0]) / s[0] + 1;
        long ow = (w - k[1]) / s[1] + 1;
        long features = k[0] * k[1] * inC;
        long positions = oh * ow;
        List<Weight> wts = m.expect(l, c.path("use_bias").asBoolean(true) ? 2 : 1);
        m.checkShape(l, wts.get(0), positions, features, filters);
        boolean first = f == Layout.KERAS;
        float[] onehot = LocalWindows.selector(first, inC, k[0], k[1]);
        Map<String, Attr> a = new LinkedHashMap<>();
        a.put("kernel_shape", Attr.ints(k));
        a.put("strides", Attr.ints(s));
        a.put("pads", Attr.ints(0, 0, 0, 0));
        // a Constant, not an initializer: it is no parameter (inspect, training) but part of the op
        String selector = b.node(Op.CONSTANT, name, name + "/window_selector", List.of(),
                Map.of("value", Attr.tensor(Weight.ofFloats(name + "/window_selector", new long[] {features, inC, k[0], k[1]}, onehot))), Layout.KERAS);
        String windows = b.node(Op.CONV, name, name + "/windows", List.of(x, selector), a, f);
        String rows = b.node(Op.RESHAPE, name, name + "/rows", List.of(windows, b.longs(name + "/rows_shape", 0, features, positions)),
                Map.of(), Layout.KERAS);
        String perPosition = b.node(Op.TRANSPOSE, name, name + "/per_position", List.of(rows), Map.of("perm", Attr.ints(2, 0, 1)), Layout.KERAS);
        boolean bias = wts.size() > 1;
        String product = b.node(Op.MAT_MUL, name, name + "/matmul",
                List.of(perPosition, b.weight(wts.get(0).renamed(name + "/kernel"))), Map.of(), Layout.KERAS);
        String back = b.node(Op.TRANSPOSE, name, name + "/to_channels", List.of(product), Map.of("perm", Attr.ints(1, 2, 0)), Layout.KERAS);
        List<String> reshape = List.of(back, b.longs(name + "/out_shape", 0, filters, oh, ow));
        if (!bias) {
            return activated(l, Op.RESHAPE, "local", reshape, Map.of(), f);
        }
        Weight bw = wts.get(1);
        m.checkShape(l, bw, oh, ow, filters);
        bw = first
                ? bw.with(LayoutTransform.permute(new long[] {oh * ow * filters}, new int[] {0}, new long[] {filters, oh, ow}))
                : bw.with(LayoutTransform.transpose(bw.shape(), 2, 0, 1));
        String y = b.node(Op.RESHAPE, name, name + "/local", reshape, Map.of(), f);
        return activated(l, Op.ADD, "biased", List.of(y, b.weight(bw.renamed(name + "/bias"))), Map.of(), f);
    }

    /** A refusal of LocallyConnected2D layer {@code name}, saying why. */
    private static UnsupportedModelException refuseLocallyConnected(String name, String why) {
        return new UnsupportedModelException("layer '" + name + "' (LocallyConnected2D): " + why, List.of(name + " (LocallyConnected2D)"));
    }

    /** The input, the kernel, and the bias when the layer has one (at {@code biasAt}, checked against {@code channels}). */
    private List<String> kernelAndBias(KerasConfig.Layer l, String x, Weight kernel, String role, List<Weight> w, int biasAt, long channels) {
        List<String> ins = new ArrayList<>(List.of(x, b.weight(kernel.renamed(l.name() + "/" + role))));
        if (w.size() > biasAt) {
            m.checkShape(l, w.get(biasAt), channels);
            ins.add(b.weight(w.get(biasAt).renamed(l.name() + "/bias")));
        }
        return ins;
    }

    /**
     * The convolution node, named after the layer when no activation follows (else LAYER/suffix),
     * then the layer's fused activation as a node of its own tagged with the same layer.
     */
    private String activated(KerasConfig.Layer l, Op op, String suffix, List<String> ins, Map<String, Attr> attrs, Layout f) {
        String act = l.cfg().path("activation").asText("linear");
        String y = b.node(op, l.name(), act.equals("linear") ? l.name() : l.name() + "/" + suffix, ins, attrs, f);
        return m.activation(l.name(), y, act, l.name());
    }
}
