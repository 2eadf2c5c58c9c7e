package graft.testing;

import graft.ir.Tensor;

/** The error measure the numeric tests state their tolerances in. */
public final class Errors {
    private Errors() {
    }

    /**
     * max |a - ref| / max |ref| over the whole tensor: the error relative to the output's
     * magnitude (so near-zero elements do not blow it up). Infinite when the sizes differ.
     */
    public static double relativeToMagnitude(Tensor a, Tensor ref) {
        return relativeToMagnitude(a.toFloats(), ref.toFloats());
    }

    /** {@link #relativeToMagnitude(Tensor, Tensor)} over flat arrays: the one implementation every test uses. */
    public static double relativeToMagnitude(float[] x, float[] y) {
        if (x.length != y.length) {
            return Double.POSITIVE_INFINITY;
        }
        double maxDiff = 0;
        double maxRef = 1e-30;
        for (int i = 0; i < x.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) x[i] - y[i]));
            maxRef = Math.max(maxRef, Math.abs(y[i]));
        }
        return maxDiff / maxRef;
    }

    /** {@link #relativeToMagnitude(float[], float[])} over doubles (oracles that write float64). */
    public static double relativeToMagnitude(double[] x, double[] y) {
        if (x.length != y.length) {
            return Double.POSITIVE_INFINITY;
        }
        double maxDiff = 0;
        double maxRef = 1e-30;
        for (int i = 0; i < x.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
            maxRef = Math.max(maxRef, Math.abs(y[i]));
        }
        return maxDiff / maxRef;
    }

    /** ||a - ref|| / ||ref|| over all elements (root-mean-square error relative to the reference's RMS). */
    public static double rmsRelative(float[] got, float[] want) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < got.length; i++) {
            num += (got[i] - want[i]) * (double) (got[i] - want[i]);
            den += want[i] * (double) want[i];
        }
        return Math.sqrt(num / den);
    }
}
