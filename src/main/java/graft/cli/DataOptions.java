package graft.cli;

import graft.data.DataSource;
import graft.data.Samples;
import graft.error.UsageException;
import graft.ir.Graph;
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
        return load(data, labels, g, true, false);
    }

    DataSource.Loaded load(Path data, Path labelsFile, Graph g, boolean training) {
        return load(data, labelsFile, g, training, false);
    }

    /**
     * Reads DATA as {@link #load(Path, Graph)} with its own labels file (an .npy array's); for a
     * validation set ({@code training} false) --classes still selects and renumbers, --per-class
     * does not subsample: it selects training samples only. {@code list}: an image folder is
     * listed, not decoded (finetune --spark decodes on the executors), selected and split alike.
     */
    DataSource.Loaded load(Path data, Path labelsFile, Graph g, boolean training, boolean list) {
        DataSource.Request req = request(data, labelsFile, g, list);
        DataSource.Loaded l = DataSource.load(req);
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
        graft.data.ImageShape.fixInput(g, tr.sampleShape(), crop(g), graft.data.InputLayout.channelsLast(g) && !data.toString().endsWith(".npy"));
        return new DataSource.Loaded(tr, va);
    }

    /**
     * What {@link #load} would read images as, without reading them (the Spark module decodes on
     * its executors): the image shape and preprocessing of an image folder DATA, with the model's
     * symbolic input dims fixed to it as {@link #load} fixes them. --classes and --per-class are
     * refused (the Spark path reads every class folder).
     */
    /** True for array data (an .npy file, an IDX folder), not an image folder. */
    static boolean arrays(Path data) {
        return data.toString().endsWith(".npy") || (java.nio.file.Files.isDirectory(data) && graft.data.Idx.isIdxFolder(data));
    }

    graft.data.ImageShape imageShape(Path data, Graph g) {
        if (classes != null || perClass > 0) {
            throw new UsageException("--classes/--per-class: not with --spark; give the class folders to read as DATA");
        }
        if (data.toString().endsWith(".npy") || (java.nio.file.Files.isDirectory(data) && graft.data.Idx.isIdxFolder(data))) {
            throw new UsageException("data '" + data + "': --spark reads image folders (one subfolder per class)");
        }
        int window = crop(g);
        graft.data.ImageShape s = graft.data.ImageShape.of(g, size, window, preprocessing(g));
        graft.data.ImageShape.fixInput(g, new long[] {s.channels(), s.h(), s.w()}, window, graft.data.InputLayout.channelsLast(g));
        return s;
    }

    /** The request {@link #load} reads: channels and side from the model's input (or --size), preprocessing from its metadata and the flags. */
    private DataSource.Request request(Path data, Path labelsFile, Graph g, boolean list) {
        int[] chw = graft.data.ImageShape.inputSize(g, size, crop(g), !data.toString().endsWith(".npy"));
        return new DataSource.Request(data, labelsFile, chw[0], chw[1], chw[2], preprocessing(g), list);
    }
}
