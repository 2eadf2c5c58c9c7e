package graft.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Images (or features) and their class ids in memory: float32, row-major [N, sample shape].
 * Immutable once built; {@link #subset} copies the selected rows. Safe to read from several
 * threads.
 */
public final class Samples {
    private final float[] data;
    private final long[] labels;
    private final long[] sampleShape;
    private final List<String> classes;
    private final int stride;
    private final Listed listed;

    /**
     * The image files of a listed set, one per sample, and how each becomes a sample
     * ({@link ImageFolder#image}): what a driver holds when the images are decoded elsewhere
     * (graft finetune --spark decodes them on the executors).
     */
    public record Listed(String[] files, ImageShape shape) implements java.io.Serializable {
    }

    public Samples(float[] data, long[] labels, long[] sampleShape, List<String> classes) {
        this(data, labels, sampleShape, classes, null);
    }

    /**
     * An image set listed, not decoded: {@code files} (absolute paths) with their labels, to be
     * decoded by {@link #decode} where they are used; its values cannot be read ({@link #batch},
     * {@link #sample} refuse).
     */
    public static Samples listed(String[] files, long[] labels, ImageShape shape, List<String> classes) {
        if (files.length != labels.length) {
            throw new IllegalArgumentException(files.length + " files, " + labels.length + " labels");
        }
        return new Samples(null, labels, new long[] {shape.channels(), shape.h(), shape.w()}, classes, new Listed(files.clone(), shape));
    }

    private Samples(float[] data, long[] labels, long[] sampleShape, List<String> classes, Listed listed) {
        long s = 1;
        for (long d : sampleShape) {
            s *= d;
        }
        if (listed == null && s * labels.length != data.length) {
            throw new IllegalArgumentException(labels.length + " samples of shape " + java.util.Arrays.toString(sampleShape)
                    + " need " + s * labels.length + " values, got " + data.length);
        }
        this.data = data;
        this.labels = labels;
        this.sampleShape = sampleShape.clone();
        this.classes = List.copyOf(classes);
        this.stride = (int) s;
        this.listed = listed;
    }

    /** The files of a listed set (null when the values are in memory). */
    public Listed listed() {
        return listed;
    }

    /**
     * Samples {@code [from, from + n)} of a listed set decoded, in order, as the single-machine
     * reader decodes them ({@link ImageFolder#image}); of a set in memory, copied.
     */
    public Samples decode(int from, int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = from + i;
        }
        if (listed == null) {
            return subset(idx);
        }
        ImageShape sh = listed.shape();
        float[] d = new float[n * stride];
        for (int i = 0; i < n; i++) {
            ImageFolder.image(java.nio.file.Path.of(listed.files()[from + i]), sh.h(), sh.w(), sh.resize(), sh.channels(), sh.pre(), d,
                    i * stride);
        }
        return new Samples(d, labels(idx), sampleShape, classes);
    }

    private void requireValues() {
        if (listed != null) {
            throw new IllegalStateException("a listed image set (" + labels.length + " files) has no values here: decode() it where it is used");
        }
    }

    public int size() {
        return labels.length;
    }

    public long[] sampleShape() {
        return sampleShape.clone();
    }

    public List<String> classes() {
        return classes;
    }

    public long label(int i) {
        return labels[i];
    }

    public long[] labels() {
        return labels.clone();
    }

    /** The values of sample {@code i} (a view, do not modify). */
    public FloatBuffer sample(int i) {
        requireValues();
        return FloatBuffer.wrap(data, i * stride, stride).slice();
    }

    /** The shape of a batch of {@code n} samples: [n, sample shape]. */
    public long[] batchShape(int n) {
        long[] s = new long[sampleShape.length + 1];
        s[0] = n;
        System.arraycopy(sampleShape, 0, s, 1, sampleShape.length);
        return s;
    }

    /**
     * Rows {@code idx} as one direct buffer (what ONNX Runtime reads without a copy); with
     * {@code mirror} set for a row, its last axis is reversed (horizontal flip of an NCHW image).
     */
    public FloatBuffer batch(int[] idx, boolean[] mirror) {
        requireValues();
        FloatBuffer b = ByteBuffer.allocateDirect(idx.length * stride * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        int w = (int) sampleShape[sampleShape.length - 1];
        for (int k = 0; k < idx.length; k++) {
            int off = idx[k] * stride;
            if (mirror != null && mirror[k]) {
                for (int r = 0; r < stride; r += w) {
                    for (int j = w - 1; j >= 0; j--) {
                        b.put(data[off + r + j]);
                    }
                }
            } else {
                b.put(data, off, stride);
            }
        }
        b.flip();
        return b;
    }

    public long[] labels(int[] idx) {
        long[] r = new long[idx.length];
        for (int k = 0; k < idx.length; k++) {
            r[k] = labels[idx[k]];
        }
        return r;
    }

    public Samples subset(int[] idx) {
        if (listed != null) {
            String[] f = new String[idx.length];
            for (int k = 0; k < idx.length; k++) {
                f[k] = listed.files()[idx[k]];
            }
            return new Samples(null, labels(idx), sampleShape, classes, new Listed(f, listed.shape()));
        }
        float[] d = new float[idx.length * stride];
        for (int k = 0; k < idx.length; k++) {
            System.arraycopy(data, idx[k] * stride, d, k * stride, stride);
        }
        return new Samples(d, labels(idx), sampleShape, classes);
    }

    /** Keeps samples of the given classes (in that order) and renumbers them 0..k-1. */
    public Samples selectClasses(long[] keep, int perClass, long seed) {
        List<Integer> idx = new ArrayList<>();
        List<String> names = new ArrayList<>();
        long[] newLabel = new long[classes.size()];
        java.util.Arrays.fill(newLabel, -1);
        for (int i = 0; i < keep.length; i++) {
            newLabel[(int) keep[i]] = i;
            names.add(classes.get((int) keep[i]));
        }
        int[] order = shuffled(size(), seed);
        int[] taken = new int[keep.length];
        for (int i : order) {
            long nl = newLabel[(int) labels[i]];
            if (nl >= 0 && (perClass <= 0 || taken[(int) nl] < perClass)) {
                taken[(int) nl]++;
                idx.add(i);
            }
        }
        java.util.Collections.sort(idx);
        int[] a = idx.stream().mapToInt(Integer::intValue).toArray();
        Samples s = subset(a);
        long[] l = s.labels;
        for (int i = 0; i < l.length; i++) {
            l[i] = newLabel[(int) l[i]];
        }
        return new Samples(s.data, l, sampleShape, names, s.listed);
    }

    /** A seeded split: {@code [train, validation]} with {@code fraction} of each class in validation. */
    public Samples[] split(double fraction, long seed) {
        List<Integer> tr = new ArrayList<>();
        List<Integer> va = new ArrayList<>();
        int[] seen = new int[classes.size()];
        int[] count = new int[classes.size()];
        for (long l : labels) {
            count[(int) l]++;
        }
        for (int i : shuffled(size(), seed)) {
            int c = (int) labels[i];
            if (seen[c]++ < Math.round(count[c] * fraction)) {
                va.add(i);
            } else {
                tr.add(i);
            }
        }
        java.util.Collections.sort(tr);
        java.util.Collections.sort(va);
        return new Samples[] {subset(tr.stream().mapToInt(Integer::intValue).toArray()),
                subset(va.stream().mapToInt(Integer::intValue).toArray())};
    }

    public static int[] shuffled(int n, long seed) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /** A copy with {@code pre} applied to every image ([C, H, W] samples of raw 0..255 values). */
    public Samples preprocessed(graft.ir.Preprocessing pre) {
        requireValues();
        float[] d = data.clone();
        int ch = (int) sampleShape[0];
        int plane = stride / ch;
        for (int i = 0; i < labels.length; i++) {
            pre.applyChw(d, ch, i * stride, plane);
        }
        return new Samples(d, labels, sampleShape, classes);
    }

    /** Per-class counts, for the checks before training. */
    public int[] classCounts() {
        int[] c = new int[classes.size()];
        for (long l : labels) {
            c[(int) l]++;
        }
        return c;
    }
}
