package graft.exec;

import graft.ir.Node;
import java.util.Arrays;

/**
 * Gemm and MatMul, with float64 accumulation. Gemm is parallel over its output columns (the
 * 4096 units of a VGG fully connected layer); MatMul over its batch of matrices and rows.
 */
final class Linear {
    private Linear() {
    }

    /** Y = alpha * op(A) * op(B) + beta * C, with C broadcast to (M, N). */
    static NdArray gemm(Node n, NdArray a, NdArray b, NdArray c) {
        boolean ta = n.intAttr("transA") != 0;
        boolean tb = n.intAttr("transB") != 0;
        double alpha = n.floatAttr("alpha");
        double beta = n.floatAttr("beta");
        int m = ta ? a.shape[1] : a.shape[0];
        int k = ta ? a.shape[0] : a.shape[1];
        int nn = tb ? b.shape[0] : b.shape[1];
        float[] af = a.toFloats();
        float[] bf = b.toFloats();
        // one contiguous row of op(A) and one contiguous column of op(B) make each dot product a straight walk
        float[] at = ta ? transpose(af, k, m) : af;
        float[] bt = tb ? bf : transpose(bf, k, nn);
        double[] y = new double[m * nn];
        Parallel.blocks(nn, (long) m * k, (lo, hi) -> {
            for (int j = lo; j < hi; j++) {
                int bo = j * k;
                for (int i = 0; i < m; i++) {
                    y[i * nn + j] = alpha * dot(at, i * k, bt, bo, k);
                }
            }
        });
        if (c != null && beta != 0) {
            int[] cs = Elementwise.broadcastStrides(c.shape, new int[]{m, nn});
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < nn; j++) {
                    y[i * nn + j] += beta * c.get(i * cs[0] + j * cs[1]);
                }
            }
        }
        return Pooling.fromDoubles(a, new int[]{m, nn}, y);
    }

    /** Four partial sums keep the float64 dot product from being one long dependency chain. */
    static double dot(float[] x, int xo, float[] y, int yo, int k) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 3 < k; i += 4) {
            s0 += (double) x[xo + i] * y[yo + i];
            s1 += (double) x[xo + i + 1] * y[yo + i + 1];
            s2 += (double) x[xo + i + 2] * y[yo + i + 2];
            s3 += (double) x[xo + i + 3] * y[yo + i + 3];
        }
        for (; i < k; i++) {
            s0 += (double) x[xo + i] * y[yo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    static float[] transpose(float[] v, int rows, int cols) {
        float[] r = new float[v.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                r[j * rows + i] = v[i * cols + j];
            }
        }
        return r;
    }

    /** numpy matmul: 1-D operands are promoted and the added axis removed, batch axes broadcast. */
    static NdArray matMul(NdArray a, NdArray b) {
        int[] as = a.rank() == 1 ? new int[]{1, a.shape[0]} : a.shape;
        int[] bs = b.rank() == 1 ? new int[]{b.shape[0], 1} : b.shape;
        int m = as[as.length - 2];
        int k = as[as.length - 1];
        int nn = bs[bs.length - 1];
        if (bs[bs.length - 2] != k) {
            throw new EvaluationException("MatMul: inner dimensions " + k + " and " + bs[bs.length - 2] + " differ");
        }
        int[] batchA = Arrays.copyOf(as, as.length - 2);
        int[] batchB = Arrays.copyOf(bs, bs.length - 2);
        int[] batch = Elementwise.broadcast(batchA, batchB);
        int[] sa = Elementwise.broadcastStrides(batchA, batch);
        int[] sb = Elementwise.broadcastStrides(batchB, batch);
        int count = NdArray.size(batch);
        float[] af = a.toFloats();
        float[] bf = b.toFloats();
        double[] y = new double[count * m * nn];
        Parallel.range(count * m, (long) k * nn, row -> {
            int bi = row / m;
            int i = row % m;
            int[] idx = new int[batch.length];
            Pooling.unflatten(bi, batch, idx);
            int oa = 0;
            int ob = 0;
            for (int d = 0; d < batch.length; d++) {
                oa += idx[d] * sa[d];
                ob += idx[d] * sb[d];
            }
            int aBase = oa * m * k + i * k;
            int bBase = ob * k * nn;
            double[] acc = new double[nn];
            for (int kk = 0; kk < k; kk++) {
                double av = af[aBase + kk];
                int br = bBase + kk * nn;
                for (int j = 0; j < nn; j++) {
                    acc[j] += av * bf[br + j];
                }
            }
            System.arraycopy(acc, 0, y, (bi * m + i) * nn, nn);
        });
        int[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = m;
        out[batch.length + 1] = nn;
        if (a.rank() == 1) {
            out = remove(out, out.length - 2);
        }
        if (b.rank() == 1) {
            out = remove(out, out.length - 1);
        }
        return Pooling.fromDoubles(a, out, y);
    }

    static int[] remove(int[] s, int axis) {
        int[] r = new int[s.length - 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i != axis) {
                r[j++] = s[i];
            }
        }
        return r;
    }
}
