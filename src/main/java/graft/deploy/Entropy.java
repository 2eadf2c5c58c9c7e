package graft.deploy;

/**
 * KL-divergence ("entropy") calibration of {@code graft quantize --method entropy}, after the
 * method TensorRT described for INT8 (and onnxruntime's entropy calibrator uses): the threshold T
 * whose clipped, 128-level quantized distribution of |x| is closest (least Kullback-Leibler
 * divergence) to the clipped distribution itself. Exactly, for a tensor whose |x| reaches A:
 * <ol>
 * <li>a histogram h of |x| over {@value #BINS} bins of width w = A / {@value #BINS}
 * (bin {@code min(BINS - 1, floor(|x| / w))});</li>
 * <li>for each candidate i = {@value #LEVELS} .. {@value #BINS} bins: P = h[0, i), its last bin
 * plus every count beyond (the clipped outliers); Q = h[0, i) merged into {@value #LEVELS} groups,
 * group j the bins [floor(j i / 128), floor((j + 1) i / 128)), each group's count spread evenly over
 * its non-empty bins (empty bins stay 0); P and Q normalised to sum 1;
 * KL(P || Q) = sum over P &gt; 0 of P ln(P / Q), infinite where P &gt; 0 = Q;</li>
 * <li>the i of least divergence (the smallest i on a tie) gives T = i w, the upper edge of its last bin.</li>
 * </ol>
 * A tensor that is all zero (A = 0) keeps T = 0. fixtures/deploy/entropy_oracle.py is an
 * independent numpy implementation of the same steps.
 */
public final class Entropy {
    public static final int BINS = 2048;
    public static final int LEVELS = 128;

    private Entropy() {
    }

    /** Adds the values' |x| to a histogram over [0, a]. */
    static void add(long[] h, float[] v, double a) {
        double w = a / BINS;
        for (float x : v) {
            double m = Math.abs((double) x);
            int b = w > 0 ? (int) Math.min(BINS - 1, Math.floor(m / w)) : 0;
            h[b]++;
        }
    }

    /** The threshold of least KL divergence for the histogram {@code h} of |x| over [0, a]. */
    public static double threshold(long[] h, double a) {
        if (!(a > 0)) {
            return 0;
        }
        long[] tail = new long[BINS + 1];
        for (int b = BINS - 1; b >= 0; b--) {
            tail[b] = tail[b + 1] + h[b];
        }
        double best = Double.POSITIVE_INFINITY;
        int bestI = BINS;
        double[] p = new double[BINS];
        double[] q = new double[BINS];
        for (int i = LEVELS; i <= BINS; i++) {
            double ps = 0;
            for (int b = 0; b < i; b++) {
                p[b] = h[b];
            }
            p[i - 1] += tail[i];
            for (int b = 0; b < i; b++) {
                ps += p[b];
            }
            double qs = 0;
            for (int j = 0; j < LEVELS; j++) {
                int from = (int) ((long) j * i / LEVELS);
                int to = (int) ((long) (j + 1) * i / LEVELS);
                double sum = 0;
                int nonEmpty = 0;
                for (int b = from; b < to; b++) {
                    sum += h[b];
                    nonEmpty += h[b] > 0 ? 1 : 0;
                }
                for (int b = from; b < to; b++) {
                    q[b] = h[b] > 0 ? sum / nonEmpty : 0;
                    qs += q[b];
                }
            }
            if (!(ps > 0) || !(qs > 0)) {
                continue;
            }
            double kl = 0;
            for (int b = 0; b < i && kl < Double.POSITIVE_INFINITY; b++) {
                if (p[b] > 0) {
                    double pn = p[b] / ps;
                    double qn = q[b] / qs;
                    kl += qn > 0 ? pn * Math.log(pn / qn) : Double.POSITIVE_INFINITY;
                }
            }
            if (kl < best) {
                best = kl;
                bestI = i;
            }
        }
        return bestI * (a / BINS);
    }
}
