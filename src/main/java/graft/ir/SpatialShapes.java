package graft.ir;

import static graft.ir.ShapeFaults.atLeast;
import static graft.ir.ShapeFaults.fault;
import static graft.ir.ShapeFaults.mul;
import static graft.ir.ShapeFaults.plus;
import static graft.ir.ShapeFaults.requireRank;
import static graft.ir.ShapeFaults.size;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shape rules of the windowed ops: Conv, ConvTranspose, MaxPool, AveragePool and the global pools (exec:
 * Convolution, Pooling). Part of {@link ShapeInference}.
 */
final class SpatialShapes {
    private SpatialShapes() {
    }

    static List<TensorType> infer(ShapeInference si, Op op, Node n, String x, DataType xt, Shape xs) {
        switch (op) {
            case CONV, CONV_TRANSPOSE, MAX_POOL, AVERAGE_POOL:
                return spatial(si, op, n, xt, xs);
            case GLOBAL_AVERAGE_POOL, GLOBAL_MAX_POOL: {
                if (xs == null) {
                    return ShapeInference.one(xt, null);
                }
                requireRank(xs, 2, "input");
                List<Dim> d = new ArrayList<>(xs.dims().subList(0, 2));
                for (int i = 2; i < xs.rank(); i++) {
                    d.add(Dim.of(1));
                }
                return ShapeInference.one(xt, new Shape(d));
            }
            default:
                throw new IllegalStateException("no shape rule for " + op + " in SpatialShapes");
        }
    }

    private static List<TensorType> spatial(ShapeInference si, Op op, Node n, DataType xt, Shape xs) {
        if (xs == null) {
            return ShapeInference.one(xt, null);
        }
        requireRank(xs, 2, "input");
        int sp = xs.rank() - 2;
        long[] k = n.intsAttr("kernel_shape", null);
        Dim channels;
        if (op == Op.CONV || op == Op.CONV_TRANSPOSE) {
            Shape ws = si.shape(n.input(1));
            if (ws == null) {
                return ShapeInference.one(xt, null);
            }
            if (ws.rank() != xs.rank()) {
                throw fault("weight " + ws + " and input " + xs + " differ in rank");
            }
            if (k == null) {
                k = new long[sp];
                for (int i = 0; i < sp; i++) {
                    if (!ws.dim(2 + i).isFixed()) {
                        return ShapeInference.one(xt, null);
                    }
                    k[i] = ws.dim(2 + i).value();
                }
            } else {
                // kernel_shape must be the weight's spatial shape (ONNX Runtime refuses it otherwise; a writer
                // that trusts one of the two writes a model its reader refuses: roundtrip fuzz finding)
                for (int i = 0; i < Math.min(sp, k.length); i++) {
                    if (ws.dim(2 + i).isFixed() && ws.dim(2 + i).value() != k[i]) {
                        throw fault("kernel_shape " + java.util.Arrays.toString(k) + " differs from the weight's " + ws);
                    }
                }
            }
            long group = n.intAttr("group");
            if (group < 1) {
                throw fault("group " + group + " is not positive");
            }
            if (op == Op.CONV) {
                channels = ws.dim(0);
                Dim cin = xs.dim(1);
                if (cin.isFixed() && ws.dim(1).isFixed() && cin.value() != mul(ws.dim(1).value(), group)) {
                    throw fault("input has " + cin.value() + " channels, kernel expects " + mul(ws.dim(1).value(), group));
                }
            } else {
                channels = ws.dim(1).isFixed() ? Dim.of(mul(ws.dim(1).value(), group)) : Dim.UNKNOWN;
            }
        } else {
            channels = xs.dim(1);
        }
        atLeast(k, sp, "kernel_shape");
        long[] strides = atLeast(n.intsAttr("strides", filled(sp, 1)), sp, "strides");
        long[] dil = atLeast(n.intsAttr("dilations", filled(sp, 1)), sp, "dilations");
        long[] pads = atLeast(n.intsAttr("pads", filled(2 * sp, 0)), 2 * sp, "pads");
        for (int i = 0; i < sp; i++) {
            if (k[i] < 1 || strides[i] < 1 || dil[i] < 1) {
                throw fault("kernel " + Arrays.toString(k) + ", strides " + Arrays.toString(strides) + " and dilations "
                        + Arrays.toString(dil) + " must be positive");
            }
        }
        String autoPad = n.stringAttr("auto_pad");
        boolean ceil = n.intAttr("ceil_mode") == 1;
        List<Dim> out = new ArrayList<>();
        out.add(xs.dim(0));
        out.add(channels);
        for (int i = 0; i < sp; i++) {
            Dim in = xs.dim(2 + i);
            long eff = plus(mul(dil[i], k[i] - 1), 1);
            if (op == Op.CONV_TRANSPOSE) {
                long[] outPad = atLeast(n.intsAttr("output_padding", filled(sp, 0)), sp, "output_padding");
                long[] outShape = n.intsAttr("output_shape", null);
                if (outShape != null) {
                    out.add(size(atLeast(outShape, sp, "output_shape")[outShape.length - sp + i], "output_shape"));
                } else if (in.isFixed() && (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER"))) {
                    out.add(Dim.of(mul(in.value(), strides[i]))); // ONNX: with SAME padding the output is input * stride
                } else if (in.isFixed()) {
                    out.add(size(plus(plus(plus(mul(strides[i], in.value() - 1), outPad[i]), eff), -plus(pads[i], pads[i + sp])),
                            "output size " + i));
                } else {
                    out.add(Dim.sym(in + "*" + strides[i]));
                }
                continue;
            }
            if (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
                out.add(in.isFixed() ? Dim.of(ceilDiv(in.value(), strides[i])) : Dim.sym(symDiv(in.toString(), strides[i], true)));
                continue;
            }
            long p = autoPad.equals("VALID") ? 0 : plus(pads[i], pads[i + sp]);
            if (in.isFixed()) {
                long num = plus(plus(in.value(), p), -eff);
                if (num < 0) {
                    throw fault("spatial size " + in.value() + " is smaller than the window " + eff);
                }
                long o = (ceil ? ceilDiv(num, strides[i]) : num / strides[i]) + 1;
                if (ceil && (o - 1) * strides[i] >= in.value() + pads[i]) {
                    o--;
                }
                out.add(Dim.of(o));
            } else {
                String base = in.toString();
                long delta = plus(p, -eff);
                String num = delta == 0 ? base : "(" + base + (delta > 0 ? "+" : "") + delta + ")";
                out.add(Dim.sym(strides[i] == 1 ? (delta + 1 == 0 ? base : "(" + base + (delta + 1 > 0 ? "+" : "") + (delta + 1) + ")")
                        : symDiv(num, strides[i], ceil) + "+1"));
            }
        }
        List<TensorType> r = ShapeInference.one(xt, new Shape(out));
        if (op == Op.MAX_POOL) {
            r.add(new TensorType(DataType.INT64, new Shape(out)));
        }
        return r;
    }

    private static String symDiv(String num, long d, boolean ceil) {
        return ceil ? "ceil(" + num + "/" + d + ")" : num + "/" + d;
    }

    static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    private static long[] filled(int n, long v) {
        long[] r = new long[n];
        Arrays.fill(r, v);
        return r;
    }
}
