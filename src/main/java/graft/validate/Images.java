package graft.validate;

import graft.error.UsageException;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.ir.Value;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A batch of real images for a model's single image input: every .png/.jpg/.jpeg/.bmp/.gif of
 * a folder (sorted by name), made into the input's H x W by {@link graft.data.ImageFolder#image}
 * (the image path training data takes too: aspect-kept bilinear resize, centre window), laid
 * out as the input is (NCHW or NHWC), and preprocessed with the model's own metadata, read from
 * the {@code preprocess.*} keys:
 * <pre>
 *   value = ((pixel_0..255 * preprocess.pixel_scale) - preprocess.mean[c]) / preprocess.std[c] * preprocess.scale
 * </pre>
 * with {@code preprocess.channel_order} RGB (default) or BGR giving the order of channels and of
 * the mean/std lists ({@code preprocess.mean_value} is read as {@code preprocess.mean}). Absent
 * keys mean 1 for scales and std, 0 for mean.
 */
public final class Images {
    private Images() {
    }

    /** How one model wants its pixels: {@link graft.ir.Preprocessing}, the one reader of those keys. */
    record Preprocess(graft.ir.Preprocessing p) {
        static Preprocess of(Map<String, String> meta) {
            try {
                return new Preprocess(graft.ir.Preprocessing.of(meta));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage() + ". Fix the model's preprocessing metadata");
            }
        }
    }

    /** The image files of {@code dir}, sorted; at least one. */
    static List<Path> files(Path dir) {
        if (!Files.exists(dir)) {
            throw new graft.error.MissingInputException("--images '" + dir + "': does not exist. Point it at a folder of images");
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> r = s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(png|jpe?g|bmp|gif)$"))
                    .sorted().toList();
            if (r.isEmpty()) {
                throw new UsageException("--images '" + dir + "': no .png, .jpg, .bmp or .gif files. Point it at a folder of images");
            }
            return r;
        } catch (IOException e) {
            throw new UsageException("--images '" + dir + "': cannot list the folder (" + e.getMessage() + ")");
        }
    }

    /**
     * How the images feed {@code g}'s single 4-D input: its name, the image shape (H x W from the
     * input, else {@code hw}, else 224 x 224; no resize side, no window) with {@code g}'s
     * preprocessing, and whether the input is channels-last. Serializable: a Spark executor
     * decodes with it exactly as {@link #feeds} does.
     */
    public record Feed(String input, graft.data.ImageShape shape, boolean last) implements java.io.Serializable {
        /** {@code n} decoded CHW images (in {@code chw}, one after another) as this input's batch. */
        public Tensor batch(float[] chw, int n) {
            float[] data = new float[n * shape.channels() * shape.h() * shape.w()];
            for (int i = 0; i < n; i++) {
                place(chw, i * shape.channels() * shape.h() * shape.w(), i, data);
            }
            return tensor(data, n);
        }

        /** Copies one decoded CHW image (at {@code from} in {@code chw}) to sample {@code i} of {@code data}, in this input's layout. */
        void place(float[] chw, int from, int i, float[] data) {
            int c = shape.channels();
            int plane = shape.h() * shape.w();
            for (int ch = 0; ch < c; ch++) {
                for (int k = 0; k < plane; k++) {
                    int at = last ? (i * plane + k) * c + ch : (i * c + ch) * plane + k;
                    data[at] = chw[from + ch * plane + k];
                }
            }
        }

        Tensor tensor(float[] data, int n) {
            int c = shape.channels();
            int h = shape.h();
            int w = shape.w();
            return Tensor.ofFloats(last ? new long[]{n, h, w, c} : new long[]{n, c, h, w}, data);
        }
    }

    /** The {@link Feed} of {@code g}, refused as {@link #feeds} refuses it. */
    public static Feed feed(Graph g, long[] hw) {
        List<Value> ins = Feeds.inputs(g);
        if (ins.size() != 1) {
            throw new UsageException("--images (" + g.name() + "): the model has " + ins.size() + " inputs. Images feed single-input models");
        }
        Value v = ins.get(0);
        TensorType t = g.type(v.name()) != null ? g.type(v.name()) : v.type();
        if (t == null || t.shape() == null || t.shape().rank() != 4) {
            throw new UsageException("input '" + v.name() + "': not a 4-D image input (" + t + ")");
        }
        List<Dim> d = t.shape().dims();
        boolean last = graft.data.InputLayout.channelsLast(g); // the one layout rule, as training data is fed
        int c = (int) fixed(d.get(last ? 3 : 1));
        int h = (int) pick(fixed(d.get(last ? 1 : 2)), hw == null ? 224 : hw[0]);
        int w = (int) pick(fixed(d.get(last ? 2 : 3)), hw == null ? 224 : hw[1]);
        if (c != 1 && c != 3) {
            throw new UsageException("input '" + v.name() + "': " + c + " channels. Images feed 1- or 3-channel inputs");
        }
        return new Feed(v.name(), new graft.data.ImageShape(h, w, 0, c, Preprocess.of(g.metadata()).p(), 0), last);
    }

    /** The image files of {@code dir} that {@link #feeds} reads, in its order. */
    public static List<Path> imageFiles(Path dir) {
        return files(dir);
    }

    /** The batch for {@code g}'s single input, with {@code g}'s preprocessing: every image of {@code dir}, in {@link #files} order. */
    public static Map<String, Tensor> feeds(Path dir, Graph g, long[] hw) {
        Folder f = folder(dir, g, hw);
        return f.feeds(0, f.size());
    }

    /** The images of {@code dir} as {@code g}'s input, to be read a batch at a time (a folder is never held whole). */
    public static Folder folder(Path dir, Graph g, long[] hw) {
        return new Folder(dir, files(dir), feed(g, hw));
    }

    /** The image files of a folder (in {@link #files} order) and how they feed one model. */
    public record Folder(Path dir, List<Path> files, Feed feed) {
        public int size() {
            return files.size();
        }

        /** Images {@code from} (inclusive) to {@code to} (exclusive) as one batch of the model's input. */
        public Map<String, Tensor> feeds(int from, int to) {
            graft.data.ImageShape s = feed.shape();
            int n = to - from;
            int size = s.channels() * s.h() * s.w();
            float[] data = new float[n * size];
            float[] chw = new float[size];
            for (int i = 0; i < n; i++) {
                // the one image path of every command (graft.data.ImageFolder.image): CHW in the model's channel order
                graft.data.ImageFolder.image(files.get(from + i), s.h(), s.w(), 0, s.channels(), s.pre(), chw, 0);
                feed.place(chw, 0, i, data);
            }
            return Map.of(feed.input(), feed.tensor(data, n));
        }
    }

    /**
     * How many images of a folder of {@code count} go into one run of both models: {@code wanted},
     * or the fixed batch an input takes, which must then divide {@code count} (and be the other
     * model's too); refused in one line otherwise.
     */
    public static int batch(Folder a, Graph ga, Folder b, Graph gb, int wanted) {
        long na = fixedBatch(ga, a.feed().input());
        long nb = fixedBatch(gb, b.feed().input());
        if (na > 0 && nb > 0 && na != nb) {
            throw new UsageException("--images '" + a.dir() + "': input '" + a.feed().input() + "' takes a fixed batch of " + na + " and input '"
                    + b.feed().input() + "' of the second model a fixed batch of " + nb + ". Make the batches dynamic (graft surgery IN -o OUT --edit \"set-batch dynamic\")");
        }
        long n = na > 0 ? na : nb;
        int count = a.size();
        if (n > 0 && count % n != 0) {
            String input = na > 0 ? a.feed().input() : b.feed().input();
            throw new UsageException("--images '" + a.dir() + "': " + count + " images, but input '" + input + "' takes a fixed batch of " + n
                    + ". Put a multiple of " + n + " images in the folder, or make the batch dynamic (graft surgery IN -o OUT --edit \"set-batch dynamic\")");
        }
        return n > 0 ? (int) n : Math.max(1, Math.min(wanted, count));
    }

    private static long fixedBatch(Graph g, String input) {
        TensorType t = g.type(input);
        if (t == null) {
            t = Feeds.inputs(g).stream().filter(v -> v.name().equals(input)).map(Value::type).findFirst().orElse(null);
        }
        Dim n = t == null || t.shape() == null ? null : t.shape().dim(0);
        return n != null && n.isFixed() ? n.value() : -1;
    }

    /**
     * Refuses a batch of images that the model's fixed batch cannot take, naming both shapes
     * (the commands call it; ONNX Runtime's own message would exit as a bug).
     */
    public static void checkBatch(Map<String, Tensor> feeds, Graph g, Path dir) {
        for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
            TensorType t = g.type(e.getKey());
            Dim n = t == null || t.shape() == null ? null : t.shape().dim(0);
            long got = e.getValue().shape()[0];
            if (n != null && n.isFixed() && n.value() != got) {
                throw new UsageException("--images '" + dir + "': " + got + " images make a batch of shape "
                        + java.util.Arrays.toString(e.getValue().shape()) + ", but input '" + e.getKey() + "' is " + t.shape()
                        + " with a fixed batch of " + n.value() + ". Put " + n.value() + " images in the folder");
            }
        }
    }

    private static long fixed(Dim d) {
        return d.isFixed() ? d.value() : -1;
    }

    private static long pick(long fixed, long dflt) {
        return fixed > 0 ? fixed : dflt;
    }
}
