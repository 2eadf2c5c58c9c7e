package graft.cli;

import graft.data.DataSource;
import graft.data.Samples;
import graft.error.UsageException;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options of the commands that read training data (features, finetune). */
final class DataOptions {
    @Option(names = "--labels", paramLabel = "FILE.npy", description = "Labels (int64 [N]) of an .npy DATA array.")
    Path labels;

    @Option(names = "--classes", paramLabel = "IDS", description = "Use only these class ids, renumbered from 0: 5-9 or 1,3,7.")
    String classes;

    @Option(names = "--per-class", defaultValue = "0", description = "At most this many training samples per class, drawn with --seed (0: all); validation data is never subsampled.")
    int perClass;

    @Option(names = "--size", paramLabel = "S", description = "Image side after resize and center crop (default: the model's input, else 224).")
    Integer size;

    @Option(names = "--crop", paramLabel = "SIZE", description = {"Caffe crop_size: training batches take a random SIZExSIZE "
            + "window of each image (offsets drawn with --seed, combined with --mirror; turns bottleneck caching off); "
            + "validation, test and features take the center window. The model input must be SIZE. "
            + "Default: the model's preprocess.crop_size (Caffe transform_param), else none; 0 turns it off. "
            + "With a crop, --size defaults to 256 (Caffe's ImageNet convention) or SIZE if larger."})
    Integer crop;

    @Option(names = "--mean", paramLabel = "M,M,M", description = "Override the model's preprocessing mean (per channel, after --scale).")
    String mean;

    @Option(names = "--std", paramLabel = "S,S,S", description = "Override the model's preprocessing std.")
    String std;

    @Option(names = "--scale", paramLabel = "F", description = "Override the pixel scale (preprocess.pixel_scale), e.g. 1/255 for a model that takes 0..1; default: the model's, else 1 (raw 0..255).")
    String scale;

    @Option(names = "--bgr", description = "Feed channels as BGR (Caffe, Keras VGG) regardless of the metadata.")
    boolean bgr;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of sampling, splits, shuffling and initialisation (default: ${DEFAULT-VALUE}).")
    long seed;

    /** The crop side: --crop, else the model's Caffe {@code preprocess.crop_size}, else 0 (none). */
    int crop(Graph g) {
        if (crop != null) {
            if (crop < 0) {
                throw new UsageException("--crop " + crop + ": not a size. Give a positive side or 0 for none");
            }
            return crop;
        }
        try {
            return graft.ir.Preprocessing.cropSize(g.metadata());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage() + ". Pass --crop");
        }
    }

    /**
     * A warning when the model names a Caffe {@code mean_file} that graft did not read (it reads
     * one only from the model's folder; Caffe resolves it against its working directory) and no
     * {@code --mean} replaces it: the pixels would go in without the mean Caffe subtracts. Else null.
     */
    String meanFileWarning(Graph g) {
        String file = mean != null ? null : graft.ir.Preprocessing.unreadMeanFile(g.metadata());
        if (file == null) {
            return null;
        }
        return "graft: warning: the model's mean_file '" + file + "' was not read (graft reads a mean file"
                + " only from the model's folder), so no mean is subtracted. Pass --mean B,G,R (ImageNet's channel means: 104,117,123)"
                + " or put the file beside the model";
    }

    /**
     * The preprocessing rule ({@link graft.ir.Preprocessing}): the model's {@code preprocess.*}
     * keys, absent ones identity, with --bgr/--scale/--mean/--std replacing what they name.
     */
    graft.ir.Preprocessing preprocessing(Graph g) {
        graft.ir.Preprocessing base;
        try {
            base = graft.ir.Preprocessing.of(g.metadata());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage() + ". Fix the model's preprocessing metadata or pass --mean/--std/--scale");
        }
        return base.overridden(bgr, scale != null ? parse(scale)[0] : null, mean != null ? parse(mean) : null,
                std != null ? parse(std) : null);
    }

    private static double[] parse(String s) {
        try {
            return graft.ir.Preprocessing.parseList(s);
        } catch (NumberFormatException e) {
            throw new UsageException("preprocessing value '" + s + "' is not a list of numbers. Write it as 0.485,0.456,0.406");
        }
    }

    /**
     * Reads DATA shaped for the model's input, and fixes the model's symbolic input dims to it
     * (to the crop window when {@link #crop} is on; the samples themselves stay uncropped).
     */
    DataSource.Loaded load(Path data, Graph g) {
        return load(data, labels, g, true);
    }

    /**
     * Reads DATA as {@link #load(Path, Graph)} with its own labels file (an .npy array's); for a
     * validation set ({@code training} false) --classes still selects and renumbers, --per-class
     * does not subsample: it selects training samples only.
     */
    DataSource.Loaded load(Path data, Path labelsFile, Graph g, boolean training) {
        int window = crop(g);
        Value in = g.inputs().get(0);
        TensorType t = in.type() != null ? in.type() : g.type(in.name());
        int channels = 3;
        int side = size != null ? size : window > 0 ? Math.max(256, window) : 224;
        int width = -1;
        // the layout the model's input declares: NCHW, or NHWC (Keras), whose batches are transposed when fed
        boolean last = graft.data.InputLayout.channelsLast(g) && !data.toString().endsWith(".npy");
        int cAxis = last ? 3 : 1;
        int hAxis = last ? 1 : 2;
        if (t != null && t.shape() != null && t.shape().rank() == 4) {
            if (t.shape().dim(cAxis).isFixed()) {
                channels = (int) t.shape().dim(cAxis).value();
            }
            if (size == null && window == 0 && t.shape().dim(hAxis).isFixed()) {
                side = (int) t.shape().dim(hAxis).value();
                // a fixed input that is not square (H != W) gets H x W images, as run/validate --images make them
                if (t.shape().dim(hAxis + 1).isFixed()) {
                    width = (int) t.shape().dim(hAxis + 1).value();
                }
            }
        }
        graft.ir.Preprocessing pre = preprocessing(g);
        DataSource.Loaded l = DataSource.load(new DataSource.Request(data, labelsFile, channels, side, width < 0 ? side : width, pre));
        Samples tr = l.train();
        Samples va = l.val();
        if (classes != null) {
            long[] keep = DataSource.classes(classes);
            for (long k : keep) {
                if (k < 0 || k >= tr.classes().size()) {
                    throw new UsageException("--classes " + classes + ": class " + k + " is not in the data (" + tr.classes().size()
                            + " classes)");
                }
            }
            tr = tr.selectClasses(keep, training ? perClass : 0, seed);
            va = va == null ? null : va.selectClasses(keep, 0, seed);
        } else if (perClass > 0 && training) {
            long[] all = new long[tr.classes().size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            tr = tr.selectClasses(all, perClass, seed);
        }
        long[] s = tr.sampleShape().clone();
        if (window > 0 && s.length == 3) {
            s[1] = window;
            s[2] = window;
        }
        if (last && s.length == 3) {
            s = new long[] {s[1], s[2], s[0]};
        }
        if (t != null && t.shape() != null && t.shape().rank() == s.length + 1) {
            Dim[] dims = new Dim[s.length + 1];
            dims[0] = t.shape().dim(0).isFixed() ? Dim.sym("N") : t.shape().dim(0);
            for (int i = 0; i < s.length; i++) {
                Dim d = t.shape().dim(i + 1);
                dims[i + 1] = d.isFixed() ? d : Dim.of(s[i]);
            }
            g.inputs().set(0, new Value(in.name(), new TensorType(DataType.FLOAT, Shape.of(dims))));
        }
        return new DataSource.Loaded(tr, va);
    }
}
