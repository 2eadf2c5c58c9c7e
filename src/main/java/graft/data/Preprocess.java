package graft.data;

import graft.error.UsageException;
import java.util.Map;

/**
 * How raw pixels (0..255, RGB) become a model's input: {@code (raw * scale - mean[c]) / std[c]}
 * after an optional RGB-to-BGR swap, where {@code scale} is the pixel scale. Read from the
 * model's {@code preprocess.*} metadata (see {@link graft.ir.Preprocessing}) and overridable
 * from the command line.
 * Caffe / Keras VGG: BGR, scale 1, mean 103.939,116.779,123.68; torchvision: RGB, scale 1/255,
 * mean 0.485,0.456,0.406, std 0.229,0.224,0.225.
 */
public record Preprocess(boolean bgr, double scale, double[] mean, double[] std) {
    public static final Preprocess RAW_0_1 = new Preprocess(false, 1 / 255.0, new double[] {0}, new double[] {1});

    /**
     * The model's own preprocessing ({@link graft.ir.Preprocessing}, the one reader of the
     * {@code preprocess.*} keys), or {@code dflt} when it declares none. Caffe's scale, applied
     * after the mean, is folded into std: (p * ps - m) / s * k = (p * ps - m) / (s / k).
     */
    public static Preprocess fromMetadata(Map<String, String> meta, Preprocess dflt) {
        if (!graft.ir.Preprocessing.declared(meta)) {
            return dflt;
        }
        graft.ir.Preprocessing p;
        try {
            p = graft.ir.Preprocessing.of(meta);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage() + ". Fix the model's preprocessing metadata or pass --mean/--std/--scale");
        }
        int n = Math.max(1, Math.max(p.mean().length, p.std().length));
        double[] mean = new double[n];
        double[] std = new double[n];
        for (int c = 0; c < n; c++) {
            mean[c] = p.meanOf(c);
            std[c] = p.stdOf(c) / p.scale();
        }
        return new Preprocess(p.bgr(), p.pixelScale(), mean, std);
    }

    /** Parses "a,b,c" (a fraction "1/255" is accepted). */
    public static double[] parse(String s) {
        try {
            return graft.ir.Preprocessing.parseList(s);
        } catch (NumberFormatException e) {
            throw new UsageException("preprocessing value '" + s + "' is not a list of numbers. Write it as 0.485,0.456,0.406");
        }
    }

    /** Normalises one image in place: CHW values 0..255 in RGB channel order. */
    public void apply(float[] chw, int channels, int offset, int plane) {
        for (int c = 0; c < channels; c++) {
            int src = bgr && channels == 3 ? 2 - c : c;
            double m = mean[Math.min(c, mean.length - 1)];
            double s = std[Math.min(c, std.length - 1)];
            if (src != c && src > c) {
                for (int i = 0; i < plane; i++) {
                    float t = chw[offset + c * plane + i];
                    chw[offset + c * plane + i] = chw[offset + src * plane + i];
                    chw[offset + src * plane + i] = t;
                }
            }
            for (int i = 0; i < plane; i++) {
                int k = offset + c * plane + i;
                chw[k] = (float) ((chw[k] * scale - m) / s);
            }
        }
    }
}
