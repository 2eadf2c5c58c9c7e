package graft.train;

import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Gradients of the spatial ops: Conv (input gradient by ConvTranspose, weight gradient by a
 * Conv over batch/channel-transposed tensors), MaxPool (its Indices output and
 * ScatterElements with add), AveragePool (a depthwise ConvTranspose with per-position
 * divisors computed here from the static shapes), GlobalAveragePool, BatchNormalization in
 * inference mode, and LRN (channel-window sums as a Conv with a ones kernel).
 */
final class SpatialGrads {
    private final Autodiff ad;
    private final Emitter e;

    SpatialGrads(Autodiff ad) {
        this.ad = ad;
        this.e = ad.emitter();
    }

    record Window(long[] kernel, long[] strides, long[] pads, long[] dilations) {
    }

    private Window window(Node n, long[] kernel) {
        int k = kernel.length;
        String autoPad = n.stringAttr("auto_pad");
        if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID")) {
            throw new UnsupportedModelException(n.opType() + " '" + n.name() + "' (training step): auto_pad " + autoPad
                    + " is not differentiated. Re-import the model so padding is explicit");
        }
        return new Window(kernel, n.intsAttr("strides", ones(k)), n.intsAttr("pads", new long[2 * k]),
                n.intsAttr("dilations", ones(k)));
    }

    private static long[] ones(int k) {
        long[] r = new long[k];
        Arrays.fill(r, 1);
        return r;
    }

    /** output_padding making ConvTranspose give back exactly the forward input's spatial size. */
    private static long[] outputPadding(long[] sx, long[] sy, Window w) {
        int k = w.kernel.length;
        long[] op = new long[k];
        for (int i = 0; i < k; i++) {
            long full = (sy[i + 2] - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1 - w.pads[i] - w.pads[i + k];
            op[i] = sx[i + 2] - full;
        }
        return op;
    }

    void conv(Node n, String dy, boolean[] want, String[] dx) {
        String x = n.input(0);
        String wName = n.input(1);
        long[] sx = ad.staticShape(x, n);
        long[] sw = ad.staticShape(wName, n);
        long[] sy = ad.staticShape(n.output(0), n);
        long[] kernel = Arrays.copyOfRange(sw, 2, sw.length);
        Window w = window(n, kernel);
        long group = n.intAttr("group");
        Winograd wino = new Winograd(e);
        boolean winograd = Winograd.enabled() && Winograd.applies(n, sx, sw);
        if (want[0] && winograd) {
            dx[0] = wino.inputGrad(dy, wName, sx, sw);
        } else if (want[0] && group == 1 && sx.length == 4 && allOnes(w.strides) && allOnes(w.dilations) && fitsFlipped(w)) {
            dx[0] = inputGradByConv(dy, wName, w);
        } else if (want[0]) {
            dx[0] = e.op("ConvTranspose", List.of(dy, wName), Emitter.attrs("strides", w.strides, "pads", w.pads,
                    "dilations", w.dilations, "group", group, "kernel_shape", kernel, "output_padding", outputPadding(sx, sy, w)));
        }
        if (want[1] && winograd && wino.hasTiles(n)) {
            dx[1] = wino.weightGrad(n, dy, sx, sw);
        } else if (want[1]) {
            if (group == 1) {
                dx[1] = weightGrad(x, dy, sx, sy, sw, kernel, w);
            } else if (sx.length == 4 && group == sx[1] && sw[0] == group && sw[1] == 1) {
                dx[1] = depthwiseWeightGrad(x, dy, sy, sw, w);
            } else {
                dx[1] = groupedWeightGrad(x, dy, sx, sy, sw, kernel, w, group);
            }
        }
        if (dx.length > 2 && want[2]) {
            long[] axes = new long[sy.length - 1];
            axes[0] = 0;
            for (int i = 1; i < axes.length; i++) {
                axes[i] = i + 1;
            }
            dx[2] = e.reduceSum(dy, axes, false);
        }
    }

    private String weightGrad(String x, String dy, long[] sx, long[] sy, long[] sw, long[] kernel, Window w) {
        return sx.length == 4 ? weightGradIm2col(x, dy, sx, sy, sw, w) : weightGradByConv(x, dy, sx, kernel, w);
    }

    /**
     * Depthwise convolution (group = input channels = filters, one filter per channel:
     * MobileNetV2's and EfficientNet's DepthwiseConv2D): dW[c, 0, i, j] = sum over n, p, q of
     * dY[n, c, p, q] * Xpad[n, c, p*s + i*d, q*s + j*d], one strided Slice of the padded input per
     * kernel position, multiplied by dY and summed over batch and space. The grouped form below
     * builds a separate weight gradient per channel (960 of them for one MobileNetV2 layer), and
     * its Split sizes, a constant over 1 KB, went to external data where ONNX Runtime's shape
     * inference cannot read them.
     */
    private String depthwiseWeightGrad(String x, String dy, long[] sy, long[] sw, Window w) {
        long c = sw[0];
        long kh = w.kernel[0];
        long kw = w.kernel[1];
        long oh = sy[2];
        long ow = sy[3];
        String xp = x;
        if (w.pads[0] + w.pads[1] + w.pads[2] + w.pads[3] != 0) {
            xp = e.op("Pad", x, e.ints(0, 0, w.pads[0], w.pads[1], 0, 0, w.pads[2], w.pads[3]));
        }
        String axes = e.ints(2, 3);
        String steps = e.ints(w.strides[0], w.strides[1]);
        List<String> parts = new ArrayList<>();
        for (long i = 0; i < kh; i++) {
            for (long j = 0; j < kw; j++) {
                long h0 = i * w.dilations[0];
                long w0 = j * w.dilations[1];
                String s = e.op("Slice", xp, e.ints(h0, w0),
                        e.ints(h0 + (oh - 1) * w.strides[0] + 1, w0 + (ow - 1) * w.strides[1] + 1), axes, steps);
                parts.add(e.reduceSum(e.mul(s, dy), new long[] {0, 2, 3}, true));
            }
        }
        // (kh*kw, C, 1, 1) -> (C, kh*kw) -> (C, 1, kh, kw)
        String g = parts.size() == 1 ? parts.get(0) : e.op("Concat", parts, Emitter.attrs("axis", 0L));
        g = e.transpose(e.reshape(g, e.ints(kh * kw, c)), 1, 0);
        return e.reshape(g, e.ints(sw));
    }

    /**
     * Grouped convolution (CaffeNet conv2/4/5 have group 2): group k's filters see only input
     * channels [k*C/g, (k+1)*C/g) and write output channels [k*O/g, (k+1)*O/g), so its weight
     * gradient is the group-1 gradient of that channel slice; the groups' results stack along
     * the filter axis in the weight's own order.
     */
    private String groupedWeightGrad(String x, String dy, long[] sx, long[] sy, long[] sw, long[] kernel, Window w,
            long group) {
        if (sx[1] % group != 0 || sy[1] % group != 0) {
            throw new UnsupportedModelException("Conv input '" + x + "' (training step): " + sx[1] + " input and " + sy[1]
                    + " output channels do not divide into " + group + " groups. Check the model's group attribute");
        }
        int g = (int) group;
        long[] xSizes = new long[g];
        long[] ySizes = new long[g];
        Arrays.fill(xSizes, sx[1] / group);
        Arrays.fill(ySizes, sy[1] / group);
        String[] xs = e.ops("Split", List.of(x, e.ints(xSizes)), g, Emitter.attrs("axis", 1L));
        String[] dys = e.ops("Split", List.of(dy, e.ints(ySizes)), g, Emitter.attrs("axis", 1L));
        long[] gx = sx.clone();
        long[] gy = sy.clone();
        long[] gw = sw.clone();
        gx[1] = sx[1] / group;
        gy[1] = sy[1] / group;
        gw[0] = sw[0] / group;
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < g; k++) {
            parts.add(weightGrad(xs[k], dys[k], gx, gy, gw, kernel, w));
        }
        return e.op("Concat", parts, Emitter.attrs("axis", 0L));
    }

    /** General (N-D) weight gradient: a Conv over batch/channel-transposed X with dY^T as the kernel. */
    private String weightGradByConv(String x, String dy, long[] sx, long[] kernel, Window w) {
        long[] perm = new long[sx.length];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        perm[0] = 1;
        perm[1] = 0;
        String xt = e.transpose(x, perm);
        String dyt = e.transpose(dy, perm);
        // Strides and dilations swap roles: dW[o,c,i] = sum_{n,p} dY[n,o,p] * Xpad[n,c,p*s+i*d].
        String g = e.op("Conv", List.of(xt, dyt), Emitter.attrs("strides", w.dilations, "dilations", w.strides,
                "pads", w.pads));
        // With a remainder in (H + pads - k) / s the result is larger than the kernel; its tail is unused.
        long[] starts = new long[kernel.length];
        long[] axes = new long[kernel.length];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i + 2;
        }
        g = e.op("Slice", g, e.ints(starts), e.ints(kernel), e.ints(axes));
        return e.transpose(g, perm);
    }

    private static boolean allOnes(long[] v) {
        for (long x : v) {
            if (x != 1) {
                return false;
            }
        }
        return true;
    }

    /** Stride-1 input gradient as a Conv needs pads k-1-p to be non-negative. */
    private static boolean fitsFlipped(Window w) {
        for (int i = 0; i < w.kernel.length; i++) {
            if (w.pads[i] > w.kernel[i] - 1 || w.pads[i + w.kernel.length] > w.kernel[i] - 1) {
                return false;
            }
        }
        return true;
    }

    /**
     * Stride-1 input gradient as a plain Conv of dY with the spatially flipped, channel-swapped
     * kernel and pads k-1-p: ONNX Runtime's ConvTranspose is several times slower than its Conv
     * (im2col + one GEMM) at VGG sizes.
     */
    private String inputGradByConv(String dy, String wName, Window w) {
        String wt = e.transpose(wName, 1, 0, 2, 3);
        String flipped = e.op("Slice", wt, e.ints(-1, -1), e.ints(Long.MIN_VALUE, Long.MIN_VALUE), e.ints(2, 3),
                e.ints(-1, -1));
        long[] pads = new long[4];
        for (int i = 0; i < 4; i++) {
            pads[i] = w.kernel[i % 2] - 1 - w.pads[i];
        }
        return e.op("Conv", List.of(dy, flipped), Emitter.attrs("pads", pads, "kernel_shape", w.kernel));
    }

    /**
     * 2-D, group-1 weight gradient as one large GEMM over an im2col tensor:
     * dW[o, (c,i,j)] = sum_{n,p,q} dY[n,o,p,q] * Xpad[n,c,p*s+i*d,q*s+j*d]. The columns are kh*kw
     * strided slices of the channel-major padded input; the transposed-Conv form it replaces runs
     * in ONNX Runtime as ci tiny GEMMs.
     */
    private String weightGradIm2col(String x, String dy, long[] sx, long[] sy, long[] sw, Window w) {
        long c = sx[1];
        long o = sy[1];
        long oh = sy[2];
        long ow = sy[3];
        long kh = w.kernel[0];
        long kw = w.kernel[1];
        String xt = e.transpose(x, 1, 0, 2, 3);
        if (w.pads[0] + w.pads[1] + w.pads[2] + w.pads[3] != 0) {
            xt = e.op("Pad", xt, e.ints(0, 0, w.pads[0], w.pads[1], 0, 0, w.pads[2], w.pads[3]));
        }
        List<String> cols = new ArrayList<>();
        String colShape = e.ints(c, 1, -1);
        String axes = e.ints(2, 3);
        String steps = e.ints(w.strides[0], w.strides[1]);
        for (long i = 0; i < kh; i++) {
            for (long j = 0; j < kw; j++) {
                long h0 = i * w.dilations[0];
                long w0 = j * w.dilations[1];
                String s = e.op("Slice", xt, e.ints(h0, w0),
                        e.ints(h0 + (oh - 1) * w.strides[0] + 1, w0 + (ow - 1) * w.strides[1] + 1), axes, steps);
                cols.add(e.reshape(s, colShape));
            }
        }
        String col = cols.size() == 1 ? cols.get(0) : e.op("Concat", cols, Emitter.attrs("axis", 1L));
        col = e.reshape(col, e.ints(c * kh * kw, -1));
        String dyt = e.reshape(e.transpose(dy, 1, 0, 2, 3), e.ints(o, -1));
        String g = e.op("Gemm", List.of(dyt, col), Emitter.attrs("transB", 1L));
        return e.reshape(g, e.ints(sw));
    }

    /** ONNX MaxPool Indices are flat over the whole input tensor: scatter-add dY there. */
    String maxPool(Node n, String dy) {
        String x = n.input(0);
        long[] kernel = n.intsAttr("kernel_shape", null);
        if (kernel != null && nonOverlapping(n, kernel)) {
            // Each input wins at most one window, so scattering is writing: MaxUnpool, the
            // inverse ONNX defines for MaxPool's indices, runs in a fraction of ScatterElements'
            // time (no zero tensor to fill, no reduction).
            return e.op("MaxUnpool", List.of(dy, n.output(1), e.op("Shape", x)),
                    Emitter.attrs("kernel_shape", kernel, "strides", n.intsAttr("strides", ones(kernel.length))));
        }
        String flatX = e.reshape(x, e.ints(-1));
        String zeros = e.op("ConstantOfShape", List.of(e.op("Shape", flatX)),
                Map.of("value", Attr.tensor(zeroWeight())));
        String idx = e.reshape(n.output(1), e.ints(-1));
        String src = e.reshape(dy, e.ints(-1));
        String scattered = e.op("ScatterElements", List.of(zeros, idx, src), Emitter.attrs("axis", 0L, "reduction", "add"));
        return e.reshapeLike(scattered, x);
    }

    private static boolean nonOverlapping(Node n, long[] kernel) {
        long[] strides = n.intsAttr("strides", ones(kernel.length));
        for (int i = 0; i < kernel.length; i++) {
            if (strides[i] < kernel[i]) {
                return false;
            }
        }
        return allOnes(n.intsAttr("dilations", ones(kernel.length))) && n.intAttr("ceil_mode") == 0
                && n.stringAttr("auto_pad").equals("NOTSET")
                && Arrays.stream(n.intsAttr("pads", new long[2 * kernel.length])).allMatch(p -> p == 0);
    }

    private graft.ir.Weight zeroWeight() {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(e.dtype().size()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[e.dtype().size()]).flip();
        return new graft.ir.Weight("zero", e.dtype(), new long[] {1}, graft.ir.WeightData.of(b));
    }

    String averagePool(Node n, String dy) {
        long[] sx = ad.staticShape(n.input(0), n);
        long[] sy = ad.staticShape(n.output(0), n);
        if (sx.length != 4) {
            throw new UnsupportedModelException("AveragePool '" + n.name() + "' (training step): only 2-D pooling is "
                    + "differentiated. Freeze this layer");
        }
        Window w = window(n, n.intsAttr("kernel_shape", null));
        boolean includePad = n.intAttr("count_include_pad") != 0;
        long ho = sy[2];
        long wo = sy[3];
        double[] inv = new double[(int) (ho * wo)];
        for (int i = 0; i < ho; i++) {
            for (int j = 0; j < wo; j++) {
                long ch = extent(i, 0, sx[2], w, includePad);
                long cw = extent(j, 1, sx[3], w, includePad);
                inv[(int) (i * wo + j)] = 1.0 / (ch * cw);
            }
        }
        String scaled = e.mul(dy, e.tensor(new long[] {ho, wo}, inv));
        long c = sx[1];
        double[] one = new double[(int) (c * w.kernel[0] * w.kernel[1])];
        Arrays.fill(one, 1.0);
        String kernel = e.tensor(new long[] {c, 1, w.kernel[0], w.kernel[1]}, one);
        return e.op("ConvTranspose", List.of(scaled, kernel), Emitter.attrs("strides", w.strides, "pads", w.pads,
                "group", c, "kernel_shape", w.kernel, "output_padding", outputPadding(sx, sy, w)));
    }

    /** How many input positions of one axis a pooling window covers (the divisor ONNX uses). */
    private static long extent(long o, int axis, long size, Window w, boolean includePad) {
        int k = w.kernel.length;
        long start = o * w.strides[axis] - w.pads[axis];
        long end = start + w.kernel[axis];
        if (includePad) {
            return Math.min(end, size + w.pads[axis + k]) - Math.max(start, -w.pads[axis]);
        }
        return Math.min(end, size) - Math.max(start, 0);
    }

    String globalAveragePool(Node n, String dy) {
        long[] sx = ad.staticShape(n.input(0), n);
        long area = 1;
        for (int i = 2; i < sx.length; i++) {
            area *= sx[i];
        }
        String expanded = e.op("Expand", dy, e.op("Shape", n.input(0)));
        return e.mul(expanded, e.scalar(1.0 / area));
    }

    /**
     * ONNX LRN: y_c = x_c * d_c^-beta with d_c = bias + alpha/size * sum of x_j^2 over the window
     * j = c - floor((size-1)/2) .. c + ceil((size-1)/2). Differentiating,
     * dx_k = dy_k * d_k^-beta - (2 alpha beta / size) * x_k * sum of dy_c * y_c / d_c over the
     * channels c whose window holds k, that is c = k - ceil((size-1)/2) .. k + floor((size-1)/2):
     * the window mirrored, which differs from it when size is even. d is recomputed from x:
     * x/y would give d^-beta only where x is not zero, and after a ReLU many are.
     */
    String lrn(Node n, String dy) {
        String x = n.input(0);
        long[] sx = ad.staticShape(x, n);
        long size = n.intAttr("size", 0);
        double alpha = n.floatAttr("alpha");
        double beta = n.floatAttr("beta");
        double bias = n.floatAttr("bias");
        long before = (size - 1) / 2;
        long after = size - 1 - before;
        String d = e.add(e.mul(channelWindowSum(e.mul(x, x), sx[1], before, after), e.scalar(alpha / size)), e.scalar(bias));
        String back = channelWindowSum(e.div(e.mul(dy, n.output(0)), d), sx[1], after, before);
        return e.sub(e.mul(dy, e.op("Pow", d, e.scalar(-beta))), e.mul(e.mul(x, back), e.scalar(2 * alpha * beta / size)));
    }

    /**
     * Sum over channels c - before .. c + after (zero beyond the edges) of an (N, C, ...) tensor:
     * a Conv with a (before + after + 1) x 1 kernel of ones over it viewed as (N, 1, C, rest).
     */
    private String channelWindowSum(String v, long channels, long before, long after) {
        long k = before + after + 1;
        double[] ones = new double[(int) k];
        Arrays.fill(ones, 1.0);
        String view = e.reshape(v, e.ints(0, 1, channels, -1));
        String s = e.op("Conv", List.of(view, e.tensor(new long[] {1, 1, k, 1}, ones)),
                Emitter.attrs("kernel_shape", new long[] {k, 1}, "pads", new long[] {before, 0, after, 0}));
        return e.reshapeLike(s, v);
    }

    /** Inference-mode BatchNormalization: an affine map per channel with fixed statistics. */
    void batchNorm(Node n, String dy, boolean[] want, String[] dx) {
        if (BatchNormTrain.marked(n)) {
            // --bn train: the step's own training-mode form (BatchNormTrain), its statistics carried
            BatchNormTrain.backward(e, n, dy, want, dx, ad.shape(n.input(0)));
            return;
        }
        if (n.intAttr("training_mode") != 0) {
            throw new UnsupportedModelException("BatchNormalization '" + n.name() + "' (training step): training-mode "
                    + "statistics are not differentiated. Use the inference form");
        }
        long[] sx = ad.shape(n.input(0));
        long[] bshape = new long[sx.length - 1];
        Arrays.fill(bshape, 1);
        bshape[0] = -1;
        String perChannel = e.ints(bshape);
        String inv = e.op("Reciprocal", e.op("Sqrt", e.add(n.input(4), e.scalar(n.floatAttr("epsilon")))));
        List<Long> axes = new ArrayList<>();
        for (int i = 0; i < sx.length; i++) {
            if (i != 1) {
                axes.add((long) i);
            }
        }
        long[] ax = axes.stream().mapToLong(Long::longValue).toArray();
        if (want[0]) {
            dx[0] = e.mul(dy, e.reshape(e.mul(n.input(1), inv), perChannel));
        }
        if (want[1]) {
            String xhat = e.mul(e.sub(n.input(0), e.reshape(n.input(3), perChannel)), e.reshape(inv, perChannel));
            dx[1] = e.reduceSum(e.mul(dy, xhat), ax, false);
        }
        if (want[2]) {
            dx[2] = e.reduceSum(dy, ax, false);
        }
    }
}
