package graft.keras;

/**
 * The window selector of a LocallyConnected2D (Keras's local_conv, implementation 1), one class for the
 * importer, which builds it, and the Keras writer, which recognises it: a fixed 0/1 kernel of shape
 * (C*kh*kw, C, kh, kw) whose Conv cuts every window out as a row of features, feature
 * {@link #feature} of window element (channel, row i, column j) in Keras's order: (C, kh, kw) for
 * channels_first, (kh, kw, C) for channels_last.
 */
final class LocalWindows {
    private LocalWindows() {
    }

    /** Keras's local_conv feature index of window element (channel {@code ch}, row {@code i}, column {@code j}). */
    static long feature(boolean channelsFirst, long ch, long i, long j, long inC, long kh, long kw) {
        return channelsFirst ? (ch * kh + i) * kw + j : (i * kw + j) * inC + ch;
    }

    /** The selector's values, (features, C, kh, kw) row-major, in the feature order of {@code channelsFirst}. */
    static float[] selector(boolean channelsFirst, long inC, long kh, long kw) {
        long features = inC * kh * kw;
        float[] onehot = new float[Math.toIntExact(features * inC * kh * kw)];
        for (long ch = 0; ch < inC; ch++) {
            for (long i = 0; i < kh; i++) {
                for (long j = 0; j < kw; j++) {
                    long f = feature(channelsFirst, ch, i, j, inC, kh, kw);
                    onehot[Math.toIntExact(((f * inC + ch) * kh + i) * kw + j)] = 1f;
                }
            }
        }
        return onehot;
    }

    /**
     * Which feature order the (C*kh*kw, C, kh, kw) tensor {@code v} selects in: true for channels_first,
     * false for channels_last, null when it is no window selector (channels_last is tried first).
     */
    static Boolean channelsFirst(float[] v, long inC, long kh, long kw) {
        for (boolean first : new boolean[] {false, true}) {
            if (java.util.Arrays.equals(v, selector(first, inC, kh, kw))) {
                return first;
            }
        }
        return null;
    }
}
