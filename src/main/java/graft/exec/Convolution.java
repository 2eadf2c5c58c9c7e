package graft.exec;

import graft.error.UnsupportedModelException;
import graft.ir.Node;

/**
 * Conv for 1-D and 2-D inputs: im2col over tiles of output positions, then, per block of output
 * channels, a multiply-accumulate in float64 that the JIT vectorises. Output channels are split
 * into contiguous chunks run in parallel; each chunk builds its own im2col tile, so chunks share
 * nothing but the read-only input and kernel.
 */
final class Convolution {
    /** Output positions per im2col tile: a tile row is 2 KB, the accumulators of a block 32 KB. */
    private static final int TILE = 512;
    private static final int OC_BLOCK = 8;

    private Convolution() {
    }

    /** Geometry of one windowed op over 2-D (1-D as H = 1): kernel, strides, dilations, pads. */
    record Window(int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl, int pb, int pr) {
        int outH(int h, boolean ceil) {
            return out(h + pt + pb, kh, sh, dh, ceil, h + pt);
        }

        int outW(int w, boolean ceil) {
            return out(w + pl + pr, kw, sw, dw, ceil, w + pl);
        }

        private static int out(int padded, int k, int s, int d, boolean ceil, int lastStartLimit) {
            int span = d * (k - 1) + 1;
            int num = padded - span;
            int o = (ceil ? Math.floorDiv(num + s - 1, s) : Math.floorDiv(num, s)) + 1;
            if (ceil && (o - 1) * s >= lastStartLimit) {
                o--; // the last window must start inside the input or its leading pad
            }
            return Math.max(0, o);
        }
    }

    /**
     * Reads kernel/stride/dilation/pad attributes for 1 or 2 spatial dims, resolving auto_pad
     * against the input size. {@code spatialIn} holds the input spatial sizes.
     */
    static Window window(Node n, int[] spatialIn, int[] kernel) {
        int r = spatialIn.length;
        if (r < 1 || r > 2) {
            throw new UnsupportedModelException(n.opType() + " '" + n.name() + "' (reference executor): " + r
                    + " spatial dimensions are not supported. Only 1-D and 2-D windows are");
        }
        long[] strides = n.intsAttr("strides", ones(r));
        long[] dil = n.intsAttr("dilations", ones(r));
        long[] pads = n.intsAttr("pads", new long[2 * r]);
        String auto = n.stringAttr("auto_pad");
        int[] k = kernel;
        long[] p = pads.clone();
        if (auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER")) {
            for (int i = 0; i < r; i++) {
                long out = (spatialIn[i] + strides[i] - 1) / strides[i];
                long total = Math.max(0, (out - 1) * strides[i] + (k[i] - 1) * dil[i] + 1 - spatialIn[i]);
                long small = total / 2;
                p[i] = auto.equals("SAME_UPPER") ? small : total - small;
                p[i + r] = total - p[i];
            }
        } else if (auto.equals("VALID")) {
            p = new long[2 * r];
        }
        if (r == 1) {
            return new Window(1, k[0], 1, (int) strides[0], 1, (int) dil[0], 0, (int) p[0], 0, (int) p[1]);
        }
        return new Window(k[0], k[1], (int) strides[0], (int) strides[1], (int) dil[0], (int) dil[1],
                (int) p[0], (int) p[1], (int) p[2], (int) p[3]);
    }

    static long[] ones(int r) {
        long[] o = new long[r];
        java.util.Arrays.fill(o, 1);
        return o;
    }

    /** Conv(X, W, B): X (N, C, [H,] W), W (M, C/group, [kh,] kw), B (M). */
    static NdArray conv(Node n, NdArray x, NdArray w, NdArray b) {
        int r = x.rank() - 2;
        int[] spatial = java.util.Arrays.copyOfRange(x.shape, 2, x.rank());
        int[] kernel = java.util.Arrays.copyOfRange(w.shape, 2, w.rank());
        Window win = window(n, spatial, kernel);
        int group = (int) n.intAttr("group");
        int batch = x.shape[0];
        int c = x.shape[1];
        int h = r == 1 ? 1 : x.shape[2];
        int wd = x.shape[x.rank() - 1];
        int m = w.shape[0];
        int cg = c / group;
        int mg = m / group;
        if (w.shape[1] != cg) {
            throw new EvaluationException("Conv '" + n.name() + "': kernel has " + w.shape[1] + " input channels, input has " + cg + " per group");
        }
        int oh = win.outH(h, false);
        int ow = win.outW(wd, false);
        int positions = oh * ow;
        int kk = cg * win.kh() * win.kw();
        float[] xf = x.toFloats();
        float[] wf = w.toFloats();
        float[] bf = b == null ? null : b.toFloats();
        float[] out = new float[batch * m * positions];
        for (int bi = 0; bi < batch; bi++) {
            for (int g = 0; g < group; g++) {
                int xBase = (bi * c + g * cg) * h * wd;
                int oBase = (bi * m + g * mg) * positions;
                int gi = g;
                Parallel.blocks(mg, (long) kk * positions, (lo, hi) -> {
                    float[] col = new float[kk * TILE];
                    double[] acc = new double[OC_BLOCK * TILE];
                    for (int p0 = 0; p0 < positions; p0 += TILE) {
                        int t = Math.min(TILE, positions - p0);
                        im2col(xf, xBase, cg, h, wd, win, ow, p0, t, col);
                        for (int o0 = lo; o0 < hi; o0 += OC_BLOCK) {
                            int ob = Math.min(OC_BLOCK, hi - o0);
                            java.util.Arrays.fill(acc, 0, ob * TILE, 0.0);
                            int wBase = (gi * mg + o0) * kk;
                            multiplyAccumulate(wf, wBase, kk, ob, col, t, acc);
                            for (int j = 0; j < ob; j++) {
                                int oc = o0 + j;
                                double bias = bf == null ? 0 : bf[gi * mg + oc];
                                int dst = oBase + oc * positions + p0;
                                for (int p = 0; p < t; p++) {
                                    out[dst + p] = (float) (acc[j * TILE + p] + bias);
                                }
                            }
                        }
                    }
                });
            }
        }
        int[] shape = r == 1 ? new int[]{batch, m, ow} : new int[]{batch, m, oh, ow};
        return NdArray.floats(x.dtype, shape, out);
    }

    /**
     * acc[j][p] += sum_k W[o0+j][k] * col[k][p], for ob output channels and t positions. Four
     * kernel taps per pass over an accumulator row cut its loads and stores by four, and the four
     * im2col rows of a pass are reused, from L1, by every channel of the block; the inner loop
     * stays a plain vectorisable walk over p.
     */
    private static void multiplyAccumulate(float[] wf, int wBase, int kk, int ob, float[] col, int t, double[] acc) {
        int k = 0;
        for (; k + 3 < kk; k += 4) {
            int c0 = k * TILE;
            int c1 = c0 + TILE;
            int c2 = c1 + TILE;
            int c3 = c2 + TILE;
            for (int j = 0; j < ob; j++) {
                int wr = wBase + j * kk + k;
                double w0 = wf[wr];
                double w1 = wf[wr + 1];
                double w2 = wf[wr + 2];
                double w3 = wf[wr + 3];
                int ar = j * TILE;
                for (int p = 0; p < t; p++) {
                    acc[ar + p] += w0 * col[c0 + p] + w1 * col[c1 + p] + w2 * col[c2 + p] + w3 * col[c3 + p];
                }
            }
        }
        for (; k < kk; k++) {
            int c0 = k * TILE;
            for (int j = 0; j < ob; j++) {
                double w0 = wf[wBase + j * kk + k];
                int ar = j * TILE;
                for (int p = 0; p < t; p++) {
                    acc[ar + p] += w0 * col[c0 + p];
                }
            }
        }
    }

    /** Fills col[k][p] (k = channel, ky, kx; p = output position p0 .. p0+t) with zeros outside the input. */
    private static void im2col(float[] x, int xBase, int cg, int h, int w, Window win, int ow, int p0, int t, float[] col) {
        int k = 0;
        for (int ci = 0; ci < cg; ci++) {
            int cBase = xBase + ci * h * w;
            for (int ky = 0; ky < win.kh(); ky++) {
                for (int kx = 0; kx < win.kw(); kx++) {
                    int row = k * TILE;
                    int oy = p0 / ow;
                    int ox = p0 % ow;
                    for (int p = 0; p < t; p++) {
                        int iy = oy * win.sh() - win.pt() + ky * win.dh();
                        int ix = ox * win.sw() - win.pl() + kx * win.dw();
                        col[row + p] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[cBase + iy * w + ix] : 0f;
                        if (++ox == ow) {
                            ox = 0;
                            oy++;
                        }
                    }
                    k++;
                }
            }
        }
    }
}
