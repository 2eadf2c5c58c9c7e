package graft.keras;

/**
 * The padding of TensorFlow/Keras "same" (and ONNX SAME_UPPER/SAME_LOWER): output size
 * ceil(size / stride), the total padding split with the odd pixel after (upper) or before (lower).
 * One rule for the Keras reader and writer.
 */
final class SamePadding {
    private SamePadding() {
    }

    /**
     * {top, left, bottom, right} for kernel {@code k}, strides {@code s}, dilations {@code d} over
     * spatial sizes {@code size} (-1 where symbolic); null when a stride above 1 meets a symbolic
     * size (the total then depends on it).
     */
    static long[] pads(long[] size, long[] k, long[] s, long[] d, boolean lower) {
        long[] p = new long[4];
        for (int i = 0; i < 2; i++) {
            long eff = (k[i] - 1) * d[i] + 1;
            long total;
            if (s[i] == 1) {
                total = eff - 1;
            } else {
                if (size[i] < 0) {
                    return null;
                }
                long out = (size[i] + s[i] - 1) / s[i];
                total = Math.max((out - 1) * s[i] + eff - size[i], 0);
            }
            long before = lower ? total - total / 2 : total / 2;
            p[i] = before;
            p[i + 2] = total - before;
        }
        return p;
    }
}
