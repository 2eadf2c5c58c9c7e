package graft.caffe;

import graft.caffe.proto.Caffe.EltwiseParameter;
import graft.caffe.proto.Caffe.LayerParameter;
import graft.caffe.proto.Caffe.PoolingParameter;
import graft.ir.ConvGeometry;
import graft.ir.LayoutTransform;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Writes one IR node as Caffe layers, or records why Caffe cannot express it. The switch
 * covers the whole op catalogue, so a new op is a compile error here until it is decided.
 */
final class LayerWriter {
    private final ExportPlanner p;

    LayerWriter(ExportPlanner p) {
        this.p = p;
    }

    /** Marks nodes that another node's layer absorbs (Flatten before Gemm, Pad before AveragePool, Mul before Add). */
    void findFusions(Set<Node> needed) {
        for (Node n : p.g.nodes()) {
            if (!needed.contains(n) || n.op() == null) {
                continue;
            }
            Node up = producer(n.input(0));
            if (up == null || p.consumersOf(up.output(0)).size() != 1 || p.isOutput(up.output(0))) {
                continue;
            }
            switch (n.op()) {
                case GEMM, MAT_MUL -> {
                    if (up.op() == Op.FLATTEN && up.intAttr("axis") == 1) {
                        p.fused.add(up.name());
                    }
                }
                case AVERAGE_POOL -> {
                    if (up.op() == Op.PAD && padAmounts(up) != null && n.intAttr("count_include_pad") == 0
                            && begin(n.intsAttr("pads", new long[4]))) {
                        p.fused.add(up.name());
                    }
                }
                case ADD -> {
                    if (up.op() == Op.MUL && constant(n.input(1)) != null && constant(up.input(1)) != null && scalar(up.input(1)) == null) {
                        p.fused.add(up.name());
                    }
                }
                default -> {
                }
            }
        }
    }

    private static boolean begin(long[] pads) {
        return pads.length == 4 && pads[0] == 0 && pads[1] == 0;
    }

    void write(Node n, Op op) {
        switch (op) {
            case CONV, CONV_TRANSPOSE -> conv(n, op == Op.CONV_TRANSPOSE);
            case MAX_POOL, AVERAGE_POOL -> pool(n, op == Op.MAX_POOL);
            case GLOBAL_AVERAGE_POOL, GLOBAL_MAX_POOL -> {
                LayerParameter.Builder b = layer(n, "Pooling", List.of(n.input(0)));
                b.getPoolingParamBuilder().setGlobalPooling(true)
                        .setPool(op == Op.GLOBAL_MAX_POOL ? PoolingParameter.PoolMethod.MAX : PoolingParameter.PoolMethod.AVE);
                emit(b.addTop(p.top(n, 0)), List.of());
            }
            case GEMM, MAT_MUL -> innerProduct(n, op);
            case RELU -> emit(layer(n, "ReLU", List.of(n.input(0))).addTop(p.topInPlace(n)), List.of());
            case LEAKY_RELU -> {
                LayerParameter.Builder b = layer(n, "ReLU", List.of(n.input(0)));
                b.getReluParamBuilder().setNegativeSlope(n.floatAttr("alpha"));
                emit(b.addTop(p.topInPlace(n)), List.of());
            }
            case PRELU -> prelu(n);
            case ELU -> {
                LayerParameter.Builder b = layer(n, "ELU", List.of(n.input(0)));
                b.getEluParamBuilder().setAlpha(n.floatAttr("alpha"));
                emit(b.addTop(p.topInPlace(n)), List.of());
            }
            case SIGMOID -> emit(layer(n, "Sigmoid", List.of(n.input(0))).addTop(p.topInPlace(n)), List.of());
            case TANH -> emit(layer(n, "TanH", List.of(n.input(0))).addTop(p.topInPlace(n)), List.of());
            case ABS -> emit(layer(n, "AbsVal", List.of(n.input(0))).addTop(p.topInPlace(n)), List.of());
            case SOFTMAX -> {
                LayerParameter.Builder b = layer(n, "Softmax", List.of(n.input(0)));
                b.getSoftmaxParamBuilder().setAxis((int) axis(n, n.intAttr("axis")));
                emit(b.addTop(p.top(n, 0)), List.of());
            }
            case CONCAT -> {
                LayerParameter.Builder b = layer(n, "Concat", n.inputs());
                b.getConcatParamBuilder().setAxis((int) axis(n, n.intAttr("axis", 1)));
                emit(b.addTop(p.top(n, 0)), List.of());
            }
            case ADD, SUB, MUL, DIV, POW, SUM, MAX -> Arithmetic.write(this, p, n, op);
            case DROPOUT -> {
                LayerParameter.Builder b = layer(n, "Dropout", List.of(n.input(0)));
                float[] r = n.inputs().size() > 1 ? constant(n.input(1)) : null;
                byte[] kept = n.extras().get(LayerReader.DROPOUT_RATIO);
                float ratio = r != null && r.length == 1 ? r[0]
                        : kept != null ? Float.parseFloat(new String(kept, java.nio.charset.StandardCharsets.UTF_8)) : 0.5f;
                b.getDropoutParamBuilder().setDropoutRatio(ratio);
                emit(b.addTop(p.topInPlace(n)), List.of());
            }
            case LRN -> {
                LayerParameter.Builder b = layer(n, "LRN", List.of(n.input(0)));
                b.getLrnParamBuilder().setLocalSize((int) n.intAttr("size", 5)).setAlpha(n.floatAttr("alpha"))
                        .setBeta(n.floatAttr("beta")).setK(n.floatAttr("bias"));
                emit(b.addTop(p.top(n, 0)), List.of());
            }
            case BATCH_NORMALIZATION -> Arithmetic.batchNorm(this, p, n);
            case FLATTEN -> {
                if (n.intAttr("axis") == 1) {
                    emit(layer(n, "Flatten", List.of(n.input(0))).addTop(p.top(n, 0)), List.of());
                } else {
                    reshapeTo(n);
                }
            }
            case RESHAPE -> reshapeTo(n);
            case IDENTITY -> p.alias(n.output(0), n.input(0));
            case SPLIT -> split(n);
            case PAD -> p.refuse(n, "Caffe has no padding layer (only a Pad of zeros before an AveragePool that excludes padding is written, as a padded Pooling)");
            case MIN, MEAN, SELU, THRESHOLDED_RELU, HARD_SIGMOID, SOFTPLUS, SOFTSIGN, EXP, LOG, NEG, SQRT, LOG_SOFTMAX,
                 TRANSPOSE, SQUEEZE, UNSQUEEZE, SLICE, CLIP, CONSTANT, CONSTANT_OF_SHAPE, SHAPE, GATHER ->
                    p.refuse(n, "Caffe's standard layers cannot express " + op.opName());
        }
    }

    // --- layers ---

    LayerParameter.Builder layer(Node n, String type, List<String> bottoms) {
        LayerParameter.Builder b = LayerParameter.newBuilder().setName(p.layerName(n)).setType(type);
        for (String in : bottoms) {
            b.addBottom(p.bottom(in));
        }
        return b;
    }

    void emit(LayerParameter.Builder b, List<ExportPlanner.Blob> blobs) {
        p.layers.add(new ExportPlanner.Layer(b.build(), blobs));
    }

    Weight weight(Node n, int i) {
        if (i >= n.inputs().size() || n.input(i).isEmpty()) {
            return null;
        }
        Weight w = p.g.initializer(n.input(i));
        if (w == null) {
            p.refuse(n, "input '" + n.input(i) + "' is computed; Caffe holds it as a parameter blob, so it must be a constant");
        }
        return w;
    }

    ExportPlanner.Blob blob(Weight w, long... shape) {
        if (Shape.elementCount(shape) != w.elementCount()) {
            throw new IllegalStateException("blob shape " + Arrays.toString(shape) + " does not fit " + w);
        }
        return new ExportPlanner.Blob(shape, p.floats(w));
    }

    Node producer(String v) {
        for (Node n : p.g.nodes()) {
            if (n.outputs().contains(v)) {
                return n;
            }
        }
        return null;
    }

    float[] constant(String v) {
        Weight w = p.g.initializer(v);
        return w == null || !w.dtype().isFloating() ? null : w.toFloats();
    }

    /** The value of a one-element float constant, or null. */
    Float scalar(String v) {
        float[] c = constant(v);
        return c != null && c.length == 1 ? c[0] : null;
    }

    long axis(Node n, long a) {
        int r = p.rank(n.input(0));
        return a < 0 && r > 0 ? a + r : a;
    }

    private void conv(Node n, boolean deconv) {
        Weight w = weight(n, 1);
        Weight bias = weight(n, 2);
        long[] xs = p.dims(n.input(0));
        if (w == null || w.shape().length != 4) {
            p.refuse(n, "Caffe writes 2-D convolutions with a constant 4-D kernel");
            return;
        }
        long[] ws = w.shape();
        ConvGeometry geometry = ConvGeometry.of(n, ws);
        long[] k = geometry.kernel();
        long[] s = geometry.strides();
        long[] d = geometry.dilations();
        long group = geometry.group();
        long[] pad = Geometry.symmetricPads(n, xs, k, s, d, p);
        if (pad == null) {
            return;
        }
        if (deconv && (n.attr("output_padding") != null && Arrays.stream(n.intsAttr("output_padding", new long[0])).anyMatch(v -> v != 0)
                || n.attr("output_shape") != null)) {
            p.refuse(n, "output_padding/output_shape have no Caffe Deconvolution equivalent");
            return;
        }
        LayerParameter.Builder b = layer(n, deconv ? "Deconvolution" : "Convolution", List.of(n.input(0)));
        var cp = b.getConvolutionParamBuilder().setNumOutput((int) (deconv ? ws[1] * group : ws[0])).setBiasTerm(bias != null);
        if (k[0] == k[1]) {
            cp.addKernelSize((int) k[0]);
        } else {
            cp.setKernelH((int) k[0]).setKernelW((int) k[1]);
        }
        if (pad[0] == pad[1]) {
            if (pad[0] != 0) {
                cp.addPad((int) pad[0]);
            }
        } else {
            cp.setPadH((int) pad[0]).setPadW((int) pad[1]);
        }
        if (s[0] == s[1]) {
            if (s[0] != 1) {
                cp.addStride((int) s[0]);
            }
        } else {
            cp.setStrideH((int) s[0]).setStrideW((int) s[1]);
        }
        if (d[0] != 1 || d[1] != 1) {
            cp.addDilation((int) d[0]);
            if (d[1] != d[0]) {
                cp.addDilation((int) d[1]);
            }
        }
        if (group != 1) {
            cp.setGroup((int) group);
        }
        List<ExportPlanner.Blob> blobs = new ArrayList<>();
        blobs.add(blob(w, ws));
        if (bias != null) {
            blobs.add(blob(bias, bias.elementCount()));
        }
        p.params(b, n, blobs.size());
        emit(b.addTop(p.top(n, 0)), blobs);
    }

    private void pool(Node n, boolean max) {
        Node pad = producer(n.input(0));
        boolean fusedPad = pad != null && p.fused.contains(pad.name());
        String x = fusedPad ? pad.input(0) : n.input(0);
        long[] prePad = fusedPad ? padAmounts(pad) : null;
        PoolingParameter.Builder pp = Geometry.pooling(n, max, p.dims(x), p.dims(n.output(0)), prePad, p);
        if (pp == null) {
            return;
        }
        LayerParameter.Builder b = layer(n, "Pooling", List.of(x));
        b.setPoolingParam(pp);
        emit(b.addTop(p.top(n, 0)), List.of());
    }

    /** Spatial (h, w) zero padding of a constant-mode Pad on NCHW, symmetric; null otherwise. */
    long[] padAmounts(Node pad) {
        if (!pad.stringAttr("mode").equals("constant")) {
            return null;
        }
        if (pad.inputs().size() > 2 && !pad.input(2).isEmpty()) {
            Float v = scalar(pad.input(2));
            if (v == null || v != 0f) {
                return null;
            }
        }
        if (pad.inputs().size() > 3 && !pad.input(3).isEmpty()) {
            return null;
        }
        Weight w = p.g.initializer(pad.input(1));
        if (w == null) {
            return null;
        }
        long[] v = w.toLongs();
        if (v.length != 8 || v[0] != 0 || v[1] != 0 || v[4] != 0 || v[5] != 0 || v[2] != v[6] || v[3] != v[7]) {
            return null;
        }
        return new long[] {v[2], v[3]};
    }

    private void innerProduct(Node n, Op op) {
        Node flat = producer(n.input(0));
        String x = flat != null && p.fused.contains(flat.name()) ? flat.input(0) : n.input(0);
        Weight w = weight(n, 1);
        if (w == null || w.shape().length != 2) {
            p.refuse(n, "an InnerProduct needs a constant 2-D weight");
            return;
        }
        boolean transB = op == Op.GEMM && n.intAttr("transB") == 1;
        if (op == Op.GEMM && (n.intAttr("transA") != 0 || n.floatAttr("alpha") != 1f
                || (n.inputs().size() > 2 && n.floatAttr("beta") != 1f))) {
            p.refuse(n, "transA, alpha or beta other than 0, 1, 1 have no InnerProduct equivalent");
            return;
        }
        if (op == Op.MAT_MUL && p.rank(n.input(0)) != 2) {
            p.refuse(n, "MatMul on a rank-" + p.rank(n.input(0)) + " input has no InnerProduct equivalent");
            return;
        }
        Weight bias = op == Op.GEMM ? weight(n, 2) : null;
        long[] ws = w.shape();
        long out = transB ? ws[0] : ws[1];
        if (bias != null && bias.elementCount() != out) {
            p.refuse(n, "a broadcast Gemm bias of " + bias.elementCount() + " values for " + out + " outputs");
            return;
        }
        LayerParameter.Builder b = layer(n, "InnerProduct", List.of(x));
        b.getInnerProductParamBuilder().setNumOutput((int) out).setBiasTerm(bias != null);
        // Always the (num_output, K) blob, never inner_product_param.transpose: OpenCV's InnerProduct
        // (and some Caffe forks) ignore that flag and would silently misread a (K, num_output) blob.
        Weight rows = transB ? w : w.with(LayoutTransform.transpose(ws, 1, 0));
        List<ExportPlanner.Blob> blobs = new ArrayList<>();
        blobs.add(blob(rows, rows.shape()));
        if (bias != null) {
            blobs.add(blob(bias, out));
        }
        p.params(b, n, blobs.size());
        emit(b.addTop(p.top(n, 0)), blobs);
    }

    private void prelu(Node n) {
        Weight w = weight(n, 1);
        if (w == null) {
            return;
        }
        long[] ws = w.shape();
        long ch = ws.length == 0 ? 1 : ws[0];
        if (w.elementCount() != ch) {
            p.refuse(n, "a PReLU slope of shape " + Arrays.toString(ws) + " is not per channel");
            return;
        }
        LayerParameter.Builder b = layer(n, "PReLU", List.of(n.input(0)));
        if (ch == 1) {
            b.getPreluParamBuilder().setChannelShared(true);
        }
        p.params(b, n, 1);
        emit(b.addTop(p.topInPlace(n)), List.of(blob(w, ch)));
    }

    /**
     * A Reshape (or an ONNX Flatten other than axis 1, which makes a 2-D result) as Caffe's
     * Reshape: dim 0 copies the input's first dimension where the output keeps it, -1 stands for
     * the one dimension that is not fixed (Caffe infers it from the element count), every other
     * dimension is written as it is. Refused when two dimensions are not fixed.
     */
    private void reshapeTo(Node n) {
        graft.ir.TensorType in = p.g.type(n.input(0));
        graft.ir.TensorType outType = p.g.type(n.output(0));
        if (in == null || in.shape() == null || outType == null || outType.shape() == null) {
            p.refuse(n, "its shapes are not known; Caffe's Reshape needs the output shape");
            return;
        }
        graft.ir.Shape xs = in.shape();
        graft.ir.Shape ys = outType.shape();
        long[] dims = new long[ys.rank()];
        int unknown = 0;
        for (int i = 0; i < dims.length; i++) {
            graft.ir.Dim d = ys.dim(i);
            if (i == 0 && xs.rank() > 0 && d.equals(xs.dim(0))) {
                dims[i] = 0;
            } else if (d.isFixed()) {
                dims[i] = d.value();
            } else {
                dims[i] = -1;
                unknown++;
            }
        }
        if (unknown > 1) {
            p.refuse(n, "its output shape " + ys + " has more than one dimension that is not fixed; Caffe's Reshape infers one");
            return;
        }
        LayerParameter.Builder b = layer(n, "Reshape", List.of(n.input(0)));
        var sb = b.getReshapeParamBuilder().getShapeBuilder();
        for (long d : dims) {
            sb.addDim(d);
        }
        emit(b.addTop(p.top(n, 0)), List.of());
    }

    private void split(Node n) {
        long[] xs = p.dims(n.input(0));
        if (xs == null) {
            p.refuse(n, "its input shape is not fixed");
            return;
        }
        int axis = (int) axis(n, n.intAttr("axis"));
        LayerParameter.Builder b = layer(n, "Slice", List.of(n.input(0)));
        var sp = b.getSliceParamBuilder().setAxis(axis);
        long at = 0;
        for (int i = 0; i < n.outputs().size(); i++) {
            long[] os = p.dims(n.output(i));
            if (os == null || os[axis] < 0) {
                p.refuse(n, "its output shapes are not fixed");
                return;
            }
            if (i > 0) {
                sp.addSlicePoint((int) at);
            }
            at += os[axis];
            b.addTop(p.top(n, i));
        }
        emit(b, List.of());
    }

    EltwiseParameter.Builder eltwise(LayerParameter.Builder b, EltwiseParameter.EltwiseOp op) {
        return b.getEltwiseParamBuilder().setOperation(op);
    }
}
