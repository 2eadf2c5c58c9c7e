package graft.validate;

import graft.ir.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Aligns activations of two models that keep different layouts: a Keras NHWC activation and an
 * ONNX/Caffe NCHW one hold the same numbers in a different order. The candidate is permuted
 * into the reference's order when its shape is the reference's under NHWC<->NCHW (rank 4) or
 * NWC<->NCW (rank 3). Equal shapes are compared as they are: an NHWC tensor whose sizes happen
 * to read the same as NCHW (C = H = W) is taken at face value.
 */
final class Layouts {
    private Layouts() {
    }

    /** The candidate's values in the reference's order, and how they were reordered. */
    record Aligned(float[] values, String layout) {
    }

    static Aligned align(Tensor candidate, Tensor reference) {
        List<Aligned> r = readings(candidate, reference);
        return r.isEmpty() ? null : r.get(0);
    }

    /**
     * Every reading of the candidate in the reference's shape: as it is when the shapes are
     * equal, and permuted NHWC<->NCHW when that fits too (both fit when C = H = W, which only
     * the values, or the layouts of neighbouring layers, can settle).
     */
    static List<Aligned> readings(Tensor candidate, Tensor reference) {
        List<Aligned> r = new ArrayList<>();
        long[] a = candidate.shape();
        long[] b = reference.shape();
        if (Arrays.equals(a, b)) {
            r.add(new Aligned(candidate.toFloats(), "same"));
        }
        if (candidate.count() != reference.count()) {
            return r;
        }
        if (a.length == b.length && a.length >= 3) {
            int rank = a.length;
            int[] toFirst = new int[rank];
            int[] toLast = new int[rank];
            toFirst[0] = 0;
            toFirst[1] = rank - 1;
            toLast[0] = 0;
            toLast[rank - 1] = 1;
            for (int i = 2; i < rank; i++) {
                toFirst[i] = i - 1;
            }
            for (int i = 1; i < rank - 1; i++) {
                toLast[i] = i + 1;
            }
            String lastName = rank == 4 ? "NHWC" : "N...C";
            String firstName = rank == 4 ? "NCHW" : "NC...";
            if (Arrays.equals(permuted(a, toFirst), b)) {
                r.add(new Aligned(permute(candidate.toFloats(), a, toFirst), lastName + "->" + firstName));
            }
            if (Arrays.equals(permuted(a, toLast), b) && !Arrays.equals(toLast, toFirst)) {
                r.add(new Aligned(permute(candidate.toFloats(), a, toLast), firstName + "->" + lastName));
            }
        }
        // a flattened batch of the same numbers (N, K) against (N, 1, 1, K) and the like
        if (r.isEmpty() && squeezed(a).length > 0 && Arrays.equals(squeezed(a), squeezed(b))) {
            r.add(new Aligned(candidate.toFloats(), "reshape"));
        }
        return r;
    }

    private static long[] squeezed(long[] s) {
        return Arrays.stream(s).filter(d -> d != 1).toArray();
    }

    static long[] permuted(long[] s, int[] perm) {
        long[] r = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            r[i] = s[perm[i]];
        }
        return r;
    }

    /** Output axis i takes input axis perm[i]. */
    static float[] permute(float[] v, long[] shape, int[] perm) {
        int r = shape.length;
        long[] st = new long[r];
        long acc = 1;
        for (int i = r - 1; i >= 0; i--) {
            st[i] = acc;
            acc *= shape[i];
        }
        long[] out = permuted(shape, perm);
        float[] res = new float[v.length];
        int[] idx = new int[r];
        for (int i = 0; i < res.length; i++) {
            long off = 0;
            for (int d = 0; d < r; d++) {
                off += idx[d] * st[perm[d]];
            }
            res[i] = v[(int) off];
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < out[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return res;
    }
}
