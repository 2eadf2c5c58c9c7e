package graft.caffe;

import graft.caffe.proto.Caffe.ConvolutionParameter;
import graft.caffe.proto.Caffe.FillerParameter;
import graft.caffe.proto.Caffe.InnerProductParameter;
import graft.caffe.proto.Caffe.LayerParameter;
import graft.caffe.proto.Caffe.PoolingParameter;
import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.Op;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one Caffe computation layer into IR nodes with Caffe's exact semantics: ceil
 * pooling becomes explicit end padding, AVE pooling keeps Caffe's border divisor, InnerProduct
 * is Flatten + Gemm, BatchNorm's blobs are divided by its scale factor. Shape-dependent cases
 * ask the context for the input's shape.
 */
final class LayerReader {
    /** Node extras key holding a Caffe Dropout's ratio. */
    static final String DROPOUT_RATIO = "caffe.dropout_ratio";

    private final ImportContext c;

    private final TensorLayerReader tensors;

    LayerReader(ImportContext c) {
        this.c = c;
        this.tensors = new TensorLayerReader(c);
    }

    void convert(LayerParameter p, CaffeLayerType t) {
        switch (t) {
            case CONVOLUTION, DECONVOLUTION -> conv(p, t == CaffeLayerType.DECONVOLUTION);
            case POOLING -> pooling(p);
            case INNER_PRODUCT -> innerProduct(p);
            case RELU -> {
                float slope = p.getReluParam().getNegativeSlope();
                unary(p, slope == 0 ? Op.RELU : Op.LEAKY_RELU, slope == 0 ? Map.of() : Map.of("alpha", Attr.of(slope)));
            }
            case PRELU -> prelu(p);
            case ELU -> unary(p, Op.ELU, Map.of("alpha", Attr.of(p.getEluParam().getAlpha())));
            case SIGMOID -> unary(p, Op.SIGMOID, Map.of());
            case TANH -> unary(p, Op.TANH, Map.of());
            case ABSVAL -> unary(p, Op.ABS, Map.of());
            case POWER -> power(p);
            case DROPOUT -> {
                // Inference ignores the ratio; it travels in the node's extras so a Caffe round trip keeps it.
                String x = c.bottom(p, 0);
                c.add(Op.DROPOUT, p, null, List.of(x), List.of(c.top(p, 0)), Map.of());
                c.tagLast(DROPOUT_RATIO, Float.toString(p.getDropoutParam().getDropoutRatio()));
            }
            case LRN -> lrn(p);
            case SOFTMAX -> unary(p, Op.SOFTMAX, Map.of("axis", Attr.of((long) p.getSoftmaxParam().getAxis())));
            case CONCAT -> {
                var cp = p.getConcatParam();
                long axis = !cp.hasAxis() && cp.hasConcatDim() ? cp.getConcatDim() : cp.getAxis();
                c.add(Op.CONCAT, p, null, bottoms(p), List.of(c.top(p, 0)), Map.of("axis", Attr.of(axis)));
            }
            case ELTWISE -> eltwise(p);
            case BATCH_NORM -> tensors.batchNorm(p);
            case SCALE -> tensors.scale(p);
            case FLATTEN -> tensors.flatten(p);
            case RESHAPE -> tensors.reshape(p);
            case SPLIT -> {
                String x = c.bottom(p, 0);
                for (String top : p.getTopList()) {
                    c.alias(top, x);
                }
            }
            case SLICE -> tensors.slice(p);
            case INPUT, DATA, IMAGE_DATA, MEMORY_DATA, WINDOW_DATA, HDF5_DATA, DUMMY_DATA, SILENCE, SOFTMAX_WITH_LOSS,
                 EUCLIDEAN_LOSS, SIGMOID_CROSS_ENTROPY_LOSS, HINGE_LOSS, MULTINOMIAL_LOGISTIC_LOSS, INFOGAIN_LOSS,
                 CONTRASTIVE_LOSS, ACCURACY -> throw new IllegalStateException("layer '" + p.getName() + "' is not a computation");
        }
    }

    private List<String> bottoms(LayerParameter p) {
        List<String> r = new ArrayList<>();
        for (int i = 0; i < p.getBottomCount(); i++) {
            r.add(c.bottom(p, i));
        }
        return r;
    }

    private void unary(LayerParameter p, Op op, Map<String, Attr> attrs) {
        String x = c.bottom(p, 0);
        c.add(op, p, null, List.of(x), List.of(c.top(p, 0)), attrs);
    }

    /** Caffe's h/w pair: the _h/_w fields when set, else the repeated field (one value for both), else the default. */
    private long[] pair(List<Integer> values, boolean hasH, int h, int w, long dflt, String what, LayerParameter p) {
        if (hasH) {
            return new long[] {h, w};
        }
        if (values.isEmpty()) {
            if (dflt < 0) {
                throw new UnsupportedModelException("layer '" + p.getName() + "' (" + p.getType() + "): no " + what + " given");
            }
            return new long[] {dflt, dflt};
        }
        if (values.size() == 1) {
            return new long[] {values.get(0), values.get(0)};
        }
        if (values.size() == 2) {
            return new long[] {values.get(0), values.get(1)};
        }
        throw new UnsupportedModelException("layer '" + p.getName() + "' (" + p.getType() + "): " + values.size()
                + "-D " + what + "; graft converts 2-D convolutions");
    }

    /** Every value at least 1, as Caffe checks it (an unsigned field above 2^31 reads negative here: refused too). */
    private static void positive(LayerParameter p, String what, long... values) {
        for (long v : values) {
            if (v < 1) {
                throw new UnsupportedModelException("layer '" + p.getName() + "' (" + p.getType() + "): " + what + " "
                        + Long.toUnsignedString(v) + " is not allowed (it must be at least 1, as in Caffe)");
            }
        }
    }

    private static void nonNegative(LayerParameter p, String what, long... values) {
        for (long v : values) {
            if (v < 0) {
                throw new UnsupportedModelException("layer '" + p.getName() + "' (" + p.getType() + "): " + what + " "
                        + (v & 0xFFFFFFFFL) + " is out of range");
            }
        }
    }

    private void conv(LayerParameter p, boolean deconv) {
        ConvolutionParameter cp = p.getConvolutionParam();
        long[] k = pair(cp.getKernelSizeList(), cp.hasKernelH() || cp.hasKernelW(), cp.getKernelH(), cp.getKernelW(), -1, "kernel_size", p);
        long[] pad = pair(cp.getPadList(), cp.hasPadH() || cp.hasPadW(), cp.getPadH(), cp.getPadW(), 0, "pad", p);
        long[] stride = pair(cp.getStrideList(), cp.hasStrideH() || cp.hasStrideW(), cp.getStrideH(), cp.getStrideW(), 1, "stride", p);
        long[] dil = pair(cp.getDilationList(), false, 0, 0, 1, "dilation", p);
        long group = Integer.toUnsignedLong(cp.getGroup());
        long out = Integer.toUnsignedLong(cp.getNumOutput());
        // Caffe's own checks (BaseConvolutionLayer::LayerSetUp): a value it refuses is refused here, never divided by
        positive(p, "kernel_size", k);
        positive(p, "stride", stride);
        positive(p, "dilation", dil);
        nonNegative(p, "pad", pad);
        positive(p, "group", group);
        positive(p, "num_output", out);
        if (out % group != 0) {
            throw new UnsupportedModelException("layer '" + p.getName() + "' (" + p.getType() + "): num_output " + out
                    + " is not a multiple of group " + group + " (Caffe refuses it too)");
        }
        String x = c.bottom(p, 0);
        long[] xs = c.shape(x);
        if (xs != null && xs.length != 4) {
            throw new UnsupportedModelException("layer '" + p.getName() + "' (" + p.getType() + "): its input '" + x + "' has shape "
                    + java.util.Arrays.toString(xs) + "; graft converts 2-D convolutions over N x C x H x W blobs");
        }
        long[] bs = xs == null && c.hasBlob(p, 0) ? c.blob(p, 0).shape() : null;
        if (bs != null && bs.length != 4) {
            throw new UnsupportedModelException("layer '" + p.getName() + "' (" + p.getType() + "): its weight blob has shape "
                    + java.util.Arrays.toString(bs) + ", not 4-D");
        }
        long channels = xs != null ? xs[1] : bs != null ? bs[deconv ? 0 : 1] * (deconv ? 1 : group) : -1;
        if (channels >= 0 && channels % group != 0) {
            throw new UnsupportedModelException("layer '" + p.getName() + "' (" + p.getType() + "): its input has " + channels
                    + " channels, not a multiple of group " + group + " (Caffe refuses it too)");
        }
        long[] wshape = channels < 0 ? null : deconv ? new long[] {channels, out / group, k[0], k[1]}
                : new long[] {out, channels / group, k[0], k[1]};
        List<String> in = new ArrayList<>(List.of(x, c.param(p, 0, "weight", wshape, cp.getWeightFiller())));
        if (cp.getBiasTerm()) {
            in.add(c.param(p, 1, "bias", new long[] {out}, cp.getBiasFiller()));
        }
        Map<String, Attr> a = new LinkedHashMap<>();
        a.put("kernel_shape", Attr.ints(k));
        a.put("strides", Attr.ints(stride));
        a.put("pads", Attr.ints(pad[0], pad[1], pad[0], pad[1]));
        a.put("dilations", Attr.ints(dil));
        a.put("group", Attr.of(group));
        c.add(deconv ? Op.CONV_TRANSPOSE : Op.CONV, p, null, in, List.of(c.top(p, 0)), a);
    }

    private void pooling(LayerParameter p) {
        PoolingParameter pp = p.getPoolingParam();
        if (pp.getPool() == PoolingParameter.PoolMethod.STOCHASTIC) {
            throw new UnsupportedModelException("layer '" + p.getName() + "' (Pooling): STOCHASTIC pooling has no ONNX equivalent");
        }
        boolean max = pp.getPool() == PoolingParameter.PoolMethod.MAX;
        String x = c.bottom(p, 0);
        if (pp.getGlobalPooling()) {
            c.add(max ? Op.GLOBAL_MAX_POOL : Op.GLOBAL_AVERAGE_POOL, p, null, List.of(x), List.of(c.top(p, 0)), Map.of());
            return;
        }
        long[] k = pp.hasKernelH() || pp.hasKernelW() ? new long[] {pp.getKernelH(), pp.getKernelW()}
                : new long[] {pp.getKernelSize(), pp.getKernelSize()};
        long[] pad = pp.hasPadH() || pp.hasPadW() ? new long[] {pp.getPadH(), pp.getPadW()} : new long[] {pp.getPad(), pp.getPad()};
        long[] s = pp.hasStrideH() || pp.hasStrideW() ? new long[] {pp.getStrideH(), pp.getStrideW()}
                : new long[] {pp.getStride(), pp.getStride()};
        if (k[0] <= 0 || k[1] <= 0 || s[0] <= 0 || s[1] <= 0) {
            throw new UnsupportedModelException("layer '" + p.getName() + "' (Pooling): kernel and stride must be positive");
        }
        nonNegative(p, "pad", pad);
        boolean ceil = pp.getRoundMode() == PoolingParameter.RoundMode.CEIL;
        long[] xs = c.shape(x);
        Map<String, Attr> a = new LinkedHashMap<>();
        a.put("kernel_shape", Attr.ints(k));
        a.put("strides", Attr.ints(s));
        if (xs == null) {
            // Unknown size: ONNX ceil_mode is Caffe's rounding.
            a.put("pads", Attr.ints(pad[0], pad[1], pad[0], pad[1]));
            a.put("ceil_mode", Attr.of(ceil ? 1L : 0L));
            if (!max) {
                a.put("count_include_pad", Attr.of(1L));
            }
            c.add(max ? Op.MAX_POOL : Op.AVERAGE_POOL, p, null, List.of(x), List.of(c.top(p, 0)), a);
            return;
        }
        long[] extra = new long[2];
        for (int i = 0; i < 2; i++) {
            long in = xs[2 + i];
            long o = caffePooledSize(in, k[i], pad[i], s[i], ceil);
            extra[i] = Math.max(0, (o - 1) * s[i] + k[i] - in - 2 * pad[i]);
            long onnx = (in + 2 * pad[i] + extra[i] - k[i]) / s[i] + 1;
            if (onnx != o) {
                throw new UnsupportedModelException("layer '" + p.getName() + "' (Pooling): output size " + o
                        + " cannot be expressed with end padding (got " + onnx + ")");
            }
        }
        boolean overhang = extra[0] > 0 || extra[1] > 0;
        if (max || !overhang) {
            a.put("pads", Attr.ints(pad[0], pad[1], pad[0] + extra[0], pad[1] + extra[1]));
            if (!max && (pad[0] > 0 || pad[1] > 0)) {
                a.put("count_include_pad", Attr.of(1L));
            }
            c.add(max ? Op.MAX_POOL : Op.AVERAGE_POOL, p, null, List.of(x), List.of(c.top(p, 0)), a);
            return;
        }
        // AVE with a window hanging past the padded border: Caffe counts the padding but not the
        // overhang. Zero-padding first, then excluding only the end padding, divides the same way.
        String in = x;
        if (pad[0] > 0 || pad[1] > 0) {
            String pads = c.longs(p, "pads", 0, 0, pad[0], pad[1], 0, 0, pad[0], pad[1]);
            in = c.temp(p, "padded");
            c.add(Op.PAD, p, "pad", List.of(x, pads), List.of(in), Map.of("mode", Attr.of("constant")));
        }
        a.put("pads", Attr.ints(0, 0, extra[0], extra[1]));
        a.put("count_include_pad", Attr.of(0L));
        c.add(Op.AVERAGE_POOL, p, null, List.of(in), List.of(c.top(p, 0)), a);
    }

    /** Caffe's PoolingLayer::Reshape: rounded as asked, and the last window must start inside the image or its left padding. */
    static long caffePooledSize(long in, long k, long pad, long s, boolean ceil) {
        long num = in + 2 * pad - k;
        long o = (ceil ? -Math.floorDiv(-num, s) : Math.floorDiv(num, s)) + 1;
        if (pad > 0 && (o - 1) * s >= in + pad) {
            o--;
        }
        return o;
    }

    private void innerProduct(LayerParameter p) {
        InnerProductParameter ip = p.getInnerProductParam();
        String x = c.bottom(p, 0);
        int rank = c.rank(x);
        long[] xs = c.shape(x);
        int axis = ip.getAxis() < 0 && rank > 0 ? ip.getAxis() + rank : ip.getAxis();
        long out = ip.getNumOutput();
        long kdim = -1;
        if (xs != null) {
            kdim = 1;
            for (int i = axis; i < xs.length; i++) {
                kdim *= xs[i];
            }
        } else if (c.hasBlob(p, 0)) {
            kdim = graft.ir.Shape.elementCount(c.blob(p, 0).shape()) / Math.max(1, out);
        }
        String flat = x;
        if (rank == 4 && axis == 1 && Boolean.getBoolean("graft.test.breakFlatten")) {
            // Test-only: a deliberately wrong rule (Keras's H,W,C flatten order applied to Caffe's C,H,W), so that tests can
            // show that validation against an independent oracle catches an importer bug (OracleValidationTest).
            x = c.temp(p, "hwc");
            c.add(Op.TRANSPOSE, p, "hwc", List.of(flat), List.of(x), Map.of("perm", Attr.ints(new long[] {0, 2, 3, 1})));
            flat = x;
        }
        if (rank != 2 || axis != 1) {
            flat = c.temp(p, "flatten");
            c.add(Op.FLATTEN, p, "flatten", List.of(x), List.of(flat), Map.of("axis", Attr.of((long) axis)));
        }
        long[] wshape = kdim < 0 ? null : ip.getTranspose() ? new long[] {kdim, out} : new long[] {out, kdim};
        List<String> in = new ArrayList<>(List.of(flat, c.param(p, 0, "weight", wshape, ip.getWeightFiller())));
        if (ip.getBiasTerm()) {
            in.add(c.param(p, 1, "bias", new long[] {out}, ip.getBiasFiller()));
        }
        Map<String, Attr> a = Map.of("transB", Attr.of(ip.getTranspose() ? 0L : 1L));
        if (axis == 1 || rank == 2) {
            c.add(Op.GEMM, p, null, in, List.of(c.top(p, 0)), a);
            return;
        }
        if (xs == null) {
            throw new UnsupportedModelException("layer '" + p.getName() + "' (InnerProduct): axis " + axis + " needs a known input shape");
        }
        String mm = c.temp(p, "gemm");
        c.add(Op.GEMM, p, "gemm", in, List.of(mm), a);
        long[] shape = new long[axis + 1];
        System.arraycopy(xs, 0, shape, 0, axis);
        shape[axis] = out;
        c.add(Op.RESHAPE, p, null, List.of(mm, c.longs(p, "shape", shape)), List.of(c.top(p, 0)), Map.of());
    }

    private void prelu(LayerParameter p) {
        String x = c.bottom(p, 0);
        long[] xs = c.shape(x);
        boolean shared = p.getPreluParam().getChannelShared();
        long ch = shared ? 1 : xs != null ? xs[1] : c.hasBlob(p, 0) ? c.blob(p, 0).elementCount() : -1;
        int rank = c.rank(x);
        long[] shape = ch < 0 ? null : new long[Math.max(1, rank - 1)];
        if (shape != null) {
            java.util.Arrays.fill(shape, 1);
            shape[0] = ch;
        }
        FillerParameter f = p.getPreluParam().hasFiller() ? p.getPreluParam().getFiller()
                : FillerParameter.newBuilder().setType("constant").setValue(0.25f).build();
        String slope = c.param(p, 0, "slope", shape, f);
        c.add(Op.PRELU, p, null, List.of(x, slope), List.of(c.top(p, 0)), Map.of());
    }

    private void power(LayerParameter p) {
        var pp = p.getPowerParam();
        String v = c.bottom(p, 0);
        boolean any = false;
        if (pp.getScale() != 1) {
            String o = pp.getShift() == 0 && pp.getPower() == 1 ? c.top(p, 0) : c.temp(p, "scaled");
            c.add(Op.MUL, p, "scale", List.of(v, c.constant(p, "scale", new long[0], pp.getScale())), List.of(o), Map.of());
            v = o;
            any = true;
        }
        if (pp.getShift() != 0) {
            String o = pp.getPower() == 1 ? c.top(p, 0) : c.temp(p, "shifted");
            c.add(Op.ADD, p, "shift", List.of(v, c.constant(p, "shift", new long[0], pp.getShift())), List.of(o), Map.of());
            v = o;
            any = true;
        }
        if (pp.getPower() != 1) {
            c.add(Op.POW, p, null, List.of(v, c.constant(p, "power", new long[0], pp.getPower())), List.of(c.top(p, 0)), Map.of());
            any = true;
        }
        if (!any) {
            c.add(Op.IDENTITY, p, null, List.of(v), List.of(c.top(p, 0)), Map.of());
        }
    }

    private void lrn(LayerParameter p) {
        var lp = p.getLrnParam();
        String x = c.bottom(p, 0);
        long size = lp.getLocalSize();
        if (lp.getNormRegion() == graft.caffe.proto.Caffe.LRNParameter.NormRegion.ACROSS_CHANNELS) {
            c.add(Op.LRN, p, null, List.of(x), List.of(c.top(p, 0)), Map.of("size", Attr.of(size), "alpha", Attr.of(lp.getAlpha()),
                    "beta", Attr.of(lp.getBeta()), "bias", Attr.of(lp.getK())));
            return;
        }
        // WITHIN_CHANNEL, as Caffe builds it: x / (1 + alpha * avgpool(x^2))^beta, window size^2, padded (size-1)/2.
        long pad = (size - 1) / 2;
        String sq = c.temp(p, "square");
        c.add(Op.MUL, p, "square", List.of(x, x), List.of(sq), Map.of());
        String avg = c.temp(p, "pool");
        c.add(Op.AVERAGE_POOL, p, "pool", List.of(sq), List.of(avg), Map.of("kernel_shape", Attr.ints(size, size),
                "strides", Attr.ints(1, 1), "pads", Attr.ints(pad, pad, pad, pad), "count_include_pad", Attr.of(1L)));
        String scaled = c.temp(p, "scaled");
        c.add(Op.MUL, p, "alpha", List.of(avg, c.constant(p, "alpha", new long[0], lp.getAlpha())), List.of(scaled), Map.of());
        String shifted = c.temp(p, "shifted");
        c.add(Op.ADD, p, "one", List.of(scaled, c.constant(p, "one", new long[0], 1f)), List.of(shifted), Map.of());
        String powered = c.temp(p, "power");
        c.add(Op.POW, p, "power", List.of(shifted, c.constant(p, "beta", new long[0], -lp.getBeta())), List.of(powered), Map.of());
        c.add(Op.MUL, p, null, List.of(x, powered), List.of(c.top(p, 0)), Map.of());
    }

    private void eltwise(LayerParameter p) {
        var ep = p.getEltwiseParam();
        List<String> in = bottoms(p);
        switch (ep.getOperation()) {
            case PROD -> chain(p, Op.MUL, in);
            case MAX -> c.add(Op.MAX, p, null, in, List.of(c.top(p, 0)), Map.of());
            case SUM -> {
                if (ep.getCoeffCount() > 0 && ep.getCoeffCount() != in.size()) {
                    throw new UnsupportedModelException("layer '" + p.getName() + "' (Eltwise): " + ep.getCoeffCount()
                            + " coefficients for " + in.size() + " bottoms");
                }
                List<String> terms = new ArrayList<>();
                for (int i = 0; i < in.size(); i++) {
                    float k = ep.getCoeffCount() == 0 ? 1f : ep.getCoeff(i);
                    if (k == 1f) {
                        terms.add(in.get(i));
                    } else {
                        String o = c.temp(p, "term" + i);
                        c.add(Op.MUL, p, "coeff" + i, List.of(in.get(i), c.constant(p, "coeff" + i, new long[0], k)), List.of(o), Map.of());
                        terms.add(o);
                    }
                }
                c.add(Op.SUM, p, null, terms, List.of(c.top(p, 0)), Map.of());
            }
            default -> throw new UnsupportedModelException("layer '" + p.getName() + "' (Eltwise): operation " + ep.getOperation());
        }
    }

    private void chain(LayerParameter p, Op op, List<String> in) {
        String acc = in.get(0);
        for (int i = 1; i < in.size(); i++) {
            String o = i == in.size() - 1 ? c.top(p, 0) : c.temp(p, "partial" + i);
            c.add(op, p, i == in.size() - 1 ? null : "partial" + i, List.of(acc, in.get(i)), List.of(o), Map.of());
            acc = o;
        }
    }

}
