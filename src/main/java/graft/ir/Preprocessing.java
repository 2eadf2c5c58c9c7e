package graft.ir;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * How raw pixels become a model's input, as the model's {@code preprocess.*} metadata says:
 * <pre>
 *   value = (pixel_0..255 * pixel_scale - mean[c]) / std[c] * scale
 * </pre>
 * after putting the channels in {@code channel_order}. Keys, all optional:
 * {@code preprocess.channel_order} RGB (default) or BGR, the order of the channels and of the
 * mean/std lists (aliases {@code color_order}, {@code color}); {@code preprocess.pixel_scale}
 * (torchvision: 1/255); {@code preprocess.mean} (alias {@code mean_value}, as Caffe's
 * transform_param names it); {@code preprocess.std}; {@code preprocess.scale}, Caffe's
 * transform_param scale, applied after the mean; {@code preprocess.crop_size}, Caffe's crop_size
 * (read by {@link #cropSize}, used by training data). Lists are comma-separated; a number may be
 * written as a fraction ({@code 1/255}). Caffe VGG / Keras VGG16: BGR, mean 103.939,116.779,123.68.
 * The one reader of these keys, shared by validation and training data.
 *
 * <p><b>The preprocessing rule</b> (README, "The preprocessing rule"): every command that turns
 * images into a model input ({@code run --images}, {@code validate --images}, {@code features},
 * {@code finetune}) applies exactly this formula, with each absent key meaning identity: a model
 * that declares nothing gets the raw 0..255 RGB pixels, as Caffe's data layer, Keras's image
 * loaders and ONNX Runtime take them. Nothing is rescaled behind the user's back; a model that
 * wants 0..1 declares {@code preprocess.pixel_scale=1/255} (finetune and features also take
 * {@code --scale 1/255}), and {@code finetune} writes what it trained with into the saved model.
 */
public record Preprocessing(boolean bgr, double pixelScale, double[] mean, double[] std, double scale) implements java.io.Serializable {
    public static final Preprocessing IDENTITY = new Preprocessing(false, 1, new double[0], new double[0], 1);

    /** True when the metadata says anything about preprocessing. */
    public static boolean declared(Map<String, String> meta) {
        return meta.keySet().stream().anyMatch(k -> k.startsWith("preprocess.") && !k.equals("preprocess.input_range"));
    }

    /** Reads the keys; absent keys mean identity. Throws IllegalArgumentException naming a bad key. */
    public static Preprocessing of(Map<String, String> meta) {
        String order = first(meta, "RGB", "preprocess.channel_order", "preprocess.color_order", "preprocess.color");
        return new Preprocessing(order.trim().toUpperCase(Locale.ROOT).equals("BGR"),
                number(meta, "preprocess.pixel_scale", 1),
                list(meta, key(meta, "preprocess.mean", "preprocess.mean_value")),
                list(meta, "preprocess.std"), number(meta, "preprocess.scale", 1));
    }

    /**
     * The Caffe {@code mean_file} the metadata names when no mean was read from it (the importer
     * reads one only from the model's folder), else null. Throws as {@link #of} on a bad key.
     */
    public static String unreadMeanFile(Map<String, String> meta) {
        String f = meta.get("preprocess.mean_file");
        return f != null && of(meta).mean().length == 0 ? f : null;
    }

    /**
     * Caffe's transform_param {@code crop_size} ({@code preprocess.crop_size}): the side of the
     * square window the data layer cuts, 0 when absent. Throws IllegalArgumentException naming
     * the key when it is not a non-negative integer.
     */
    public static int cropSize(Map<String, String> meta) {
        String v = meta.get("preprocess.crop_size");
        if (v == null) {
            return 0;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below with the key
        }
        throw new IllegalArgumentException("model metadata 'preprocess.crop_size' (" + v + ") is not a non-negative integer");
    }

    /** Mean of channel c (0 when none is given; one value serves every channel). */
    public double meanOf(int c) {
        return mean.length == 0 ? 0 : mean[Math.min(c, mean.length - 1)];
    }

    /** Standard deviation of channel c (1 when none is given). */
    public double stdOf(int c) {
        return std.length == 0 ? 1 : std[Math.min(c, std.length - 1)];
    }

    /** The model input value for a 0..255 pixel of channel c (in the model's channel order). */
    public double apply(double pixel, int c) {
        return (pixel * pixelScale - meanOf(c)) / stdOf(c) * scale;
    }

    /**
     * Normalises one image in place: {@code chw} holds CHW 0..255 values in RGB order from
     * {@code offset}; afterwards the channels are in the model's order and each value is
     * {@link #apply}'d (computed in double, rounded once to float).
     */
    public void applyChw(float[] chw, int channels, int offset, int plane) {
        if (bgr && channels == 3) {
            for (int i = 0; i < plane; i++) {
                float t = chw[offset + i];
                chw[offset + i] = chw[offset + 2 * plane + i];
                chw[offset + 2 * plane + i] = t;
            }
        }
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < plane; i++) {
                int k = offset + c * plane + i;
                chw[k] = (float) apply(chw[k], c);
            }
        }
    }

    /** This preprocessing with command-line overrides (null: keep the model's value). */
    public Preprocessing overridden(boolean forceBgr, Double pixelScaleOverride, double[] meanOverride, double[] stdOverride) {
        return new Preprocessing(bgr || forceBgr, pixelScaleOverride != null ? pixelScaleOverride : pixelScale,
                meanOverride != null ? meanOverride : mean, stdOverride != null ? stdOverride : std, scale);
    }

    /**
     * Writes this preprocessing as {@code preprocess.*} keys (replacing channel order, pixel
     * scale, mean, std and scale, and the aliases of those keys): what {@code finetune} records in the
     * model it saves, so {@link #of} on the result gives this back.
     */
    public void writeTo(Map<String, String> meta) {
        for (String k : new String[] {"preprocess.channel_order", "preprocess.color_order", "preprocess.color", "preprocess.pixel_scale",
                "preprocess.mean", "preprocess.mean_value", "preprocess.std", "preprocess.scale"}) {
            meta.remove(k);
        }
        meta.put("preprocess.channel_order", bgr ? "BGR" : "RGB");
        meta.put("preprocess.pixel_scale", repr(pixelScale));
        if (mean.length > 0) {
            meta.put("preprocess.mean", join(mean));
        }
        if (std.length > 0) {
            meta.put("preprocess.std", join(std));
        }
        if (scale != 1) {
            meta.put("preprocess.scale", repr(scale));
        }
    }

    private static String join(double[] v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ",").append(repr(v[i]));
        }
        return b.toString();
    }

    /** Shortest text that parses back to the same double. */
    private static String repr(double v) {
        return Double.toString(v);
    }

    /** Parses "a,b,c" or "[a, b, c]"; a fraction "1/255" is accepted. */
    public static double[] parseList(String v) {
        String[] p = v.replace("[", "").replace("]", "").replace("(", "").replace(")", "").trim().split("[,\\s]+");
        return Arrays.stream(p).filter(t -> !t.isEmpty()).mapToDouble(Preprocessing::parseNumber).toArray();
    }

    public static double parseNumber(String t) {
        t = t.trim();
        int slash = t.indexOf('/');
        return slash > 0 ? Double.parseDouble(t.substring(0, slash).trim()) / Double.parseDouble(t.substring(slash + 1).trim())
                : Double.parseDouble(t);
    }

    private static String key(Map<String, String> meta, String... keys) {
        for (String k : keys) {
            if (meta.containsKey(k)) {
                return k;
            }
        }
        return keys[0];
    }

    private static String first(Map<String, String> meta, String dflt, String... keys) {
        for (String k : keys) {
            String v = meta.get(k);
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return dflt;
    }

    private static double number(Map<String, String> meta, String key, double dflt) {
        String v = meta.get(key);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return parseNumber(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("metadata '" + key + "' = '" + v + "' is not a number");
        }
    }

    private static double[] list(Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null || v.isBlank()) {
            return new double[0];
        }
        try {
            return parseList(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("metadata '" + key + "' = '" + v + "' is not a list of numbers");
        }
    }
}
