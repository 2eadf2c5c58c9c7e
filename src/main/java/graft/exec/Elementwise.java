package graft.exec;

import graft.ir.DataType;
import graft.ir.Op;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;

/**
 * Element-wise ops with numpy broadcasting: unary maps, binary arithmetic, the variadic
 * Max/Min/Sum/Mean. Floating results are computed in float64 and stored as float32; integer
 * tensors are computed in int64 and keep their declared type.
 */
final class Elementwise {
    private Elementwise() {
    }

    /** Applies {@code op} to every element; the result has the input's type. */
    static NdArray map(NdArray x, DoubleUnaryOperator op) {
        int n = x.size();
        if (x.isFloat()) {
            float[] r = new float[n];
            float[] in = x.f;
            Parallel.blocks(n, 4, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    r[i] = (float) op.applyAsDouble(in[i]);
                }
            });
            return NdArray.floats(x.dtype, x.shape, r);
        }
        long[] r = new long[n];
        for (int i = 0; i < n; i++) {
            r[i] = (long) op.applyAsDouble(x.l[i]);
        }
        return NdArray.longs(x.dtype, x.shape, r);
    }

    static int[] broadcast(int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] r = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new EvaluationException("shapes " + java.util.Arrays.toString(a) + " and "
                        + java.util.Arrays.toString(b) + " do not broadcast");
            }
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    /** Strides of {@code in} seen through the broadcast {@code out} shape (0 along broadcast axes). */
    static int[] broadcastStrides(int[] in, int[] out) {
        int[] s = NdArray.strides(in);
        int[] r = new int[out.length];
        int off = out.length - in.length;
        for (int i = 0; i < in.length; i++) {
            r[i + off] = in[i] == 1 ? 0 : s[i];
        }
        return r;
    }

    /**
     * A binary op with broadcasting. The result takes {@code resultType}; it is computed in
     * float64 when that type or either input is floating, else in int64 with {@code lop}.
     */
    static NdArray binary(NdArray a, NdArray b, DataType resultType, DoubleBinaryOperator dop, LongBinaryOperator lop) {
        int[] shape = broadcast(a.shape, b.shape);
        int n = NdArray.size(shape);
        int[] sa = broadcastStrides(a.shape, shape);
        int[] sb = broadcastStrides(b.shape, shape);
        boolean floating = resultType.isFloating() || a.isFloat() || b.isFloat() || lop == null;
        float[] rf = resultType.isFloating() ? new float[n] : null;
        long[] rl = rf == null ? new long[n] : null;
        boolean same = java.util.Arrays.equals(a.shape, shape) && java.util.Arrays.equals(b.shape, shape);
        if (same && rf != null && a.isFloat() && b.isFloat()) {
            float[] x = a.f;
            float[] y = b.f;
            Parallel.blocks(n, 4, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    rf[i] = (float) dop.applyAsDouble(x[i], y[i]);
                }
            });
            return NdArray.floats(resultType, shape, rf);
        }
        int rank = shape.length;
        int[] idx = new int[rank];
        int oa = 0;
        int ob = 0;
        for (int i = 0; i < n; i++) {
            if (floating) {
                double v = dop.applyAsDouble(a.get(oa), b.get(ob));
                if (rf != null) {
                    rf[i] = (float) v;
                } else {
                    rl[i] = (long) v;
                }
            } else {
                rl[i] = lop.applyAsLong(a.l[oa], b.l[ob]);
            }
            for (int d = rank - 1; d >= 0; d--) {
                idx[d]++;
                oa += sa[d];
                ob += sb[d];
                if (idx[d] < shape[d]) {
                    break;
                }
                oa -= sa[d] * shape[d];
                ob -= sb[d] * shape[d];
                idx[d] = 0;
            }
        }
        return rf != null ? NdArray.floats(resultType, shape, rf) : NdArray.longs(resultType, shape, rl);
    }

    /** Max, Min, Sum, Mean over any number of broadcast inputs. */
    static NdArray variadic(Op op, List<NdArray> ins) {
        DataType t = ins.get(0).dtype;
        NdArray acc = ins.get(0);
        for (int i = 1; i < ins.size(); i++) {
            NdArray b = ins.get(i);
            acc = switch (op) {
                case MAX -> binary(acc, b, t, Math::max, Math::max);
                case MIN -> binary(acc, b, t, Math::min, Math::min);
                default -> binary(acc, b, t, Double::sum, Long::sum);
            };
        }
        if (ins.size() == 1) {
            acc = map(acc, v -> v);
        }
        if (op == Op.MEAN) {
            double k = ins.size();
            acc = map(acc, v -> v / k);
        }
        return acc;
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    /** Integer division as ONNX (and numpy's C-style truncation in the reference) defines it for Div. */
    static long divInt(long a, long b) {
        return b == 0 ? 0 : a / b;
    }

    static long powInt(long a, long b) {
        if (b < 0) {
            return (long) Math.pow(a, b);
        }
        long r = 1;
        for (long i = 0; i < b; i++) {
            r *= a;
        }
        return r;
    }
}
