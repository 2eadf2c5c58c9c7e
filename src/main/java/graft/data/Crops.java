package graft.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;

/**
 * Crop windows over CHW samples, as Caffe's data layer takes them with {@code crop_size}: in the
 * TRAIN phase a uniformly random window (offsets drawn in [0, H - size] and [0, W - size], the
 * row offset first) plus, with mirroring, a random horizontal flip; in the TEST phase the center
 * window ((H - size) / 2, rounded down). Offsets come from the caller's seeded generator so a
 * run is reproducible. Immutable; {@link #batch} copies the windows into a new direct buffer.
 *
 * @param top  first row of each window
 * @param left first column of each window
 * @param size side of the square window
 */
public record Crops(int[] top, int[] left, int size) {

    /** Random windows for {@code n} samples of height {@code h} and width {@code w}. */
    public static Crops random(SplittableRandom r, int n, int h, int w, int size) {
        requireFits(h, w, size);
        int[] t = new int[n];
        int[] l = new int[n];
        for (int k = 0; k < n; k++) {
            t[k] = r.nextInt(h - size + 1);
            l[k] = r.nextInt(w - size + 1);
        }
        return new Crops(t, l, size);
    }

    /** The center window for each of {@code n} samples. */
    public static Crops center(int n, int h, int w, int size) {
        requireFits(h, w, size);
        int[] t = new int[n];
        int[] l = new int[n];
        java.util.Arrays.fill(t, (h - size) / 2);
        java.util.Arrays.fill(l, (w - size) / 2);
        return new Crops(t, l, size);
    }

    /**
     * A new {@link Samples} holding the center window of every sample of {@code s} (CHW): what
     * Caffe's TEST phase feeds. Copies the windows; {@code s} is left as it is.
     */
    public static Samples centered(Samples s, int size) {
        long[] shape = s.sampleShape();
        if (shape.length != 3) {
            throw new graft.error.UsageException("crop (data): samples of shape " + java.util.Arrays.toString(shape)
                    + " are not images. Crop only CHW images");
        }
        int n = s.size();
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        FloatBuffer b = center(n, (int) shape[1], (int) shape[2], size).batch(s, idx, null);
        float[] all = new float[b.remaining()];
        b.get(all);
        return new Samples(all, s.labels(), new long[] {shape[0], size, size}, s.classes());
    }

    /** Refuses a window that does not fit h x w images (one line, exit 2). */
    public static void requireFits(int h, int w, int size) {
        if (size < 1 || size > h || size > w) {
            throw new graft.error.UsageException("crop size '" + size + "' (data): larger than the " + h + "x" + w
                    + " images or not positive. Resize the images to at least the crop size");
        }
    }

    /**
     * Rows {@code idx} of {@code s} (each [C, H, W]) cut to their windows, row {@code k} of
     * the batch taking window {@code k}, reversed along the width where {@code mirror[k]}
     * (null: none): one direct buffer of [n, C, size, size].
     */
    public FloatBuffer batch(Samples s, int[] idx, boolean[] mirror) {
        long[] shape = s.batchShape(1);
        if (shape.length != 4) {
            throw new graft.error.UsageException("crop (data): samples of shape " + java.util.Arrays.toString(shape)
                    + " are not images. Crop only CHW images");
        }
        int c = (int) shape[1];
        int w = (int) shape[3];
        FloatBuffer b = ByteBuffer.allocateDirect(idx.length * c * size * size * 4).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        for (int k = 0; k < idx.length; k++) {
            FloatBuffer row = s.sample(idx[k]);
            boolean flip = mirror != null && mirror[k];
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < size; i++) {
                    int base = (ch * (int) shape[2] + top[k] + i) * w + left[k];
                    for (int j = 0; j < size; j++) {
                        b.put(row.get(base + (flip ? size - 1 - j : j)));
                    }
                }
            }
        }
        b.flip();
        return b;
    }
}
