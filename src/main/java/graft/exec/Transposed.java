package graft.exec;

import graft.ir.Node;
import java.util.Arrays;

/**
 * ConvTranspose over any number of spatial dimensions, written as the scatter its definition
 * is: every input element adds kernel * value at stride-spaced output positions. Parallel over
 * (batch, output channel) planes, each accumulated in float64.
 */
final class Transposed {
    private Transposed() {
    }

    static NdArray convTranspose(Node n, NdArray x, NdArray w, NdArray b) {
        int r = x.rank() - 2;
        int[] in = Arrays.copyOfRange(x.shape, 2, x.rank());
        int[] k = Arrays.copyOfRange(w.shape, 2, w.rank());
        int group = (int) n.intAttr("group");
        int[] s = Pooling.toInts(n.intsAttr("strides", Convolution.ones(r)));
        int[] d = Pooling.toInts(n.intsAttr("dilations", Convolution.ones(r)));
        int[] outPad = Pooling.toInts(n.intsAttr("output_padding", new long[r]));
        int[] pads = Pooling.toInts(n.intsAttr("pads", new long[2 * r]));
        long[] outputShape = n.intsAttr("output_shape", null);
        String auto = n.stringAttr("auto_pad");
        int[] out = new int[r];
        int[] pb = new int[r];
        for (int i = 0; i < r; i++) {
            int full = s[i] * (in[i] - 1) + outPad[i] + (k[i] - 1) * d[i] + 1;
            if (outputShape != null || auto.startsWith("SAME")) {
                int target = outputShape != null ? (int) outputShape[outputShape.length - r + i] : in[i] * s[i];
                int total = full - target;
                pb[i] = auto.equals("SAME_LOWER") ? total - total / 2 : total / 2;
                out[i] = target;
            } else {
                pb[i] = pads[i];
                out[i] = full - pads[i] - pads[i + r];
            }
        }
        int batch = x.shape[0];
        int c = x.shape[1];
        int cg = c / group;
        int mg = w.shape[1];
        int m = mg * group;
        int inPlane = NdArray.size(in);
        int outPlane = NdArray.size(out);
        int kn = NdArray.size(k);
        int[] outStride = NdArray.strides(out);
        float[] xf = x.toFloats();
        float[] wf = w.toFloats();
        float[] y = new float[batch * m * outPlane];
        Parallel.range(batch * m, (long) cg * inPlane * kn, bm -> {
            int bi = bm / m;
            int oc = bm % m;
            int g = oc / mg;
            int ml = oc % mg;
            double[] acc = new double[outPlane];
            int[] ip = new int[r];
            int[] kp = new int[r];
            for (int ci = g * cg; ci < (g + 1) * cg; ci++) {
                int xBase = (bi * c + ci) * inPlane;
                int wBase = (ci * mg + ml) * kn;
                for (int i = 0; i < inPlane; i++) {
                    double v = xf[xBase + i];
                    if (v == 0) {
                        continue;
                    }
                    Pooling.unflatten(i, in, ip);
                    for (int kk = 0; kk < kn; kk++) {
                        Pooling.unflatten(kk, k, kp);
                        int off = 0;
                        boolean inside = true;
                        for (int a = 0; a < r && inside; a++) {
                            int o = ip[a] * s[a] + kp[a] * d[a] - pb[a];
                            inside = o >= 0 && o < out[a];
                            off += o * outStride[a];
                        }
                        if (inside) {
                            acc[off] += v * wf[wBase + kk];
                        }
                    }
                }
            }
            double bias = b == null ? 0 : b.get(oc);
            int dst = bm * outPlane;
            for (int i = 0; i < outPlane; i++) {
                y[dst + i] = (float) (acc[i] + bias);
            }
        });
        int[] shape = new int[r + 2];
        shape[0] = batch;
        shape[1] = m;
        System.arraycopy(out, 0, shape, 2, r);
        return NdArray.floats(x.dtype, shape, y);
    }
}
