package graft.data;

import graft.error.UsageException;
import java.util.Arrays;
import java.util.Map;

/**
 * How raw pixels (0..255, RGB) become a model's input: {@code (raw * scale - mean[c]) / std[c]}
 * after an optional RGB-to-BGR swap. Read from the model's {@code preprocess.*} metadata
 * ({@code preprocess.channel_order} RGB|BGR, {@code preprocess.scale}, {@code preprocess.mean},
 * {@code preprocess.std}, comma-separated per channel) and overridable from the command line.
 * Caffe / Keras VGG: BGR, scale 1, mean 103.939,116.779,123.68; torchvision: RGB, scale 1/255,
 * mean 0.485,0.456,0.406, std 0.229,0.224,0.225.
 */
public record Preprocess(boolean bgr, double scale, double[] mean, double[] std) {
    public static final Preprocess RAW_0_1 = new Preprocess(false, 1 / 255.0, new double[] {0}, new double[] {1});

    public static Preprocess fromMetadata(Map<String, String> meta, Preprocess dflt) {
        if (meta.keySet().stream().noneMatch(k -> k.startsWith("preprocess."))) {
            return dflt;
        }
        String order = meta.getOrDefault("preprocess.channel_order", meta.getOrDefault("preprocess.color", "RGB"));
        return new Preprocess(order.equalsIgnoreCase("BGR"), parse(meta.getOrDefault("preprocess.scale", "1"))[0],
                parse(meta.getOrDefault("preprocess.mean", "0")), parse(meta.getOrDefault("preprocess.std", "1")));
    }

    /** Parses "a,b,c" (a fraction "1/255" is accepted). */
    public static double[] parse(String s) {
        try {
            return Arrays.stream(s.replace("[", "").replace("]", "").split("[, ]+")).filter(t -> !t.isEmpty())
                    .mapToDouble(t -> t.contains("/") ? Double.parseDouble(t.split("/")[0]) / Double.parseDouble(t.split("/")[1])
                            : Double.parseDouble(t)).toArray();
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
