package graft.exec;

import graft.ir.Node;
import java.util.Arrays;

/**
 * MaxPool, AveragePool and the global pools over any number of spatial dimensions, with
 * strides, dilations, explicit or automatic pads and ceil mode. Windows are summed in float64.
 * Parallel over (batch, channel) planes.
 */
final class Pooling {
    private Pooling() {
    }

    /** Resolved geometry: kernel, strides, dilations, leading and trailing pads, output sizes. */
    record Geometry(int[] in, int[] k, int[] s, int[] d, int[] pb, int[] pe, int[] out) {
    }

    static Geometry geometry(Node n, int[] in, int[] kernel, boolean ceil) {
        int r = in.length;
        int[] s = toInts(n.intsAttr("strides", Convolution.ones(r)));
        int[] d = toInts(n.intsAttr("dilations", Convolution.ones(r)));
        int[] pads = toInts(n.intsAttr("pads", new long[2 * r]));
        String auto = n.stringAttr("auto_pad");
        int[] pb = Arrays.copyOfRange(pads, 0, r);
        int[] pe = Arrays.copyOfRange(pads, r, 2 * r);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int span = d[i] * (kernel[i] - 1) + 1;
            if (auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER")) {
                out[i] = (in[i] + s[i] - 1) / s[i];
                int total = Math.max(0, (out[i] - 1) * s[i] + span - in[i]);
                int small = total / 2;
                pb[i] = auto.equals("SAME_UPPER") ? small : total - small;
                pe[i] = total - pb[i];
                continue;
            }
            if (auto.equals("VALID")) {
                pb[i] = 0;
                pe[i] = 0;
            }
            int num = in[i] + pb[i] + pe[i] - span;
            out[i] = (ceil ? Math.floorDiv(num + s[i] - 1, s[i]) : Math.floorDiv(num, s[i])) + 1;
            if (ceil && (out[i] - 1) * s[i] >= in[i] + pb[i]) {
                out[i]--;
            }
        }
        return new Geometry(in, kernel, s, d, pb, pe, out);
    }

    static int[] toInts(long[] v) {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = Math.toIntExact(v[i]);
        }
        return r;
    }

    /** MaxPool (max = true) or AveragePool; {@code indices} receives MaxPool's second output when non-null. */
    static NdArray[] pool(Node n, NdArray x, boolean max, boolean wantIndices) {
        int r = x.rank() - 2;
        int[] in = Arrays.copyOfRange(x.shape, 2, x.rank());
        int[] kernel = toInts(n.intsAttr("kernel_shape", null));
        Geometry g = geometry(n, in, kernel, n.intAttr("ceil_mode") != 0);
        boolean includePad = n.intAttr("count_include_pad") != 0;
        boolean columnMajor = n.intAttr("storage_order") != 0;
        int planes = x.shape[0] * x.shape[1];
        int inPlane = NdArray.size(in);
        int outPlane = NdArray.size(g.out());
        int kn = NdArray.size(kernel);
        int[] outShape = x.shape.clone();
        System.arraycopy(g.out(), 0, outShape, 2, r);
        double[] res = new double[planes * outPlane];
        long[] idx = wantIndices ? new long[planes * outPlane] : null;
        int[] inStride = NdArray.strides(in);
        Parallel.range(planes, (long) outPlane * kn, plane -> {
            int[] o = new int[r];
            int[] kk = new int[r];
            for (int op = 0; op < outPlane; op++) {
                unflatten(op, g.out(), o);
                double acc = max ? Double.NEGATIVE_INFINITY : 0;
                long best = -1;
                int count = 0;
                int padCount = 1;
                for (int i = 0; i < r; i++) {
                    int start = o[i] * g.s()[i] - g.pb()[i];
                    int end = Math.min(start + (g.k()[i] - 1) * g.d()[i] + 1, in[i] + g.pe()[i]);
                    padCount *= (end - start + g.d()[i] - 1) / g.d()[i];
                }
                for (int kp = 0; kp < kn; kp++) {
                    unflatten(kp, kernel, kk);
                    int off = 0;
                    boolean inside = true;
                    for (int i = 0; i < r && inside; i++) {
                        int pos = o[i] * g.s()[i] - g.pb()[i] + kk[i] * g.d()[i];
                        inside = pos >= 0 && pos < in[i];
                        off += pos * inStride[i];
                    }
                    if (!inside) {
                        continue;
                    }
                    double v = x.get(plane * inPlane + off);
                    count++;
                    if (max) {
                        if (v > acc || best < 0) {
                            acc = v;
                            best = off;
                        }
                    } else {
                        acc += v;
                    }
                }
                int dst = plane * outPlane + op;
                res[dst] = max ? acc : acc / (includePad ? padCount : Math.max(1, count));
                if (idx != null) {
                    idx[dst] = plane * (long) inPlane + (columnMajor ? columnMajor(best, in) : best);
                }
            }
        });
        NdArray y = fromDoubles(x, outShape, res);
        return idx == null ? new NdArray[]{y} : new NdArray[]{y, NdArray.longs(graft.ir.DataType.INT64, outShape, idx)};
    }

    private static long columnMajor(long rowMajor, int[] in) {
        int[] p = new int[in.length];
        unflatten((int) rowMajor, in, p);
        long r = 0;
        for (int i = in.length - 1; i >= 0; i--) {
            r = r * in[i] + p[i];
        }
        return r;
    }

    static void unflatten(int flat, int[] shape, int[] into) {
        for (int i = shape.length - 1; i >= 0; i--) {
            into[i] = flat % shape[i];
            flat /= shape[i];
        }
    }

    /** GlobalAveragePool / GlobalMaxPool: one value per (batch, channel), spatial dims become 1. */
    static NdArray global(NdArray x, boolean max) {
        int planes = x.shape[0] * x.shape[1];
        int plane = x.size() / Math.max(1, planes);
        double[] res = new double[planes];
        for (int p = 0; p < planes; p++) {
            double acc = max ? Double.NEGATIVE_INFINITY : 0;
            for (int i = 0; i < plane; i++) {
                double v = x.get(p * plane + i);
                acc = max ? Math.max(acc, v) : acc + v;
            }
            res[p] = max ? acc : acc / plane;
        }
        int[] shape = x.shape.clone();
        for (int i = 2; i < shape.length; i++) {
            shape[i] = 1;
        }
        return fromDoubles(x, shape, res);
    }

    static NdArray fromDoubles(NdArray like, int[] shape, double[] v) {
        if (like.isFloat()) {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            return NdArray.floats(like.dtype, shape, f);
        }
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            l[i] = (long) v[i];
        }
        return NdArray.longs(like.dtype, shape, l);
    }
}
