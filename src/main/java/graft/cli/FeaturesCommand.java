package graft.cli;

import graft.data.DataSource;
import graft.data.Samples;
import graft.io.AtomicOutput;
import graft.ir.Graph;
import graft.ir.ShapeInference;
import graft.runtime.Device;
import graft.train.Subgraphs;
import graft.train.Trainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "features", mixinStandardHelpOptions = true,
        description = "Run a model up to a layer over a data set once and save the bottleneck features and labels as .npy.",
        footer = {"", "Examples:", "  graft features vgg16.h5 images/ --upto block5_pool -o feats.npy",
                "  graft features source.onnx /usr/share/datasets/fashion-mnist --classes 5-9 --per-class 100 --upto 10 -o f.npy --half",
                "  graft features source.onnx pics/ --upto head.2 -o feats.parquet --spark --master spark://host:7077",
                "", "Labels go to FEATS.labels.npy (int64) beside the features. 4-D features are in the source's own layout:",
                "NHWC for a channels_last Keras model (as Keras's layer gives them), NCHW for ONNX and Caffe.",
                "With --spark (an image folder DATA): Spark reads the images (binaryFile) and runs the model on its executors;",
                "OUT ending in .npy gets the files above, any other OUT is a Parquet folder (path, label, features)."})
final class FeaturesCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "Model file in any format graft reads.")
    Path model;

    @Parameters(index = "1", paramLabel = "DATA", description = "Image folder (one subfolder per class), IDX folder, or .npy.")
    Path data;

    @Option(names = "--upto", required = true, paramLabel = "LAYER", description = "Last layer to run (its output is the feature).")
    String upto;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FEATS.npy", description = "Features file.")
    Path out;

    @Option(names = "--half", description = "Write float16 instead of float32.")
    boolean half;

    @Option(names = "--batch-size", defaultValue = "32", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Option(names = "--force", description = "Replace existing outputs.")
    boolean force;

    @Mixin
    SparkOptions sparkOptions = new SparkOptions();

    @Option(names = "--on-bad-image", defaultValue = "fail", paramLabel = "fail|skip", description = "With --spark: an undecodable image "
            + "fails the job (exit 3 naming it, default) or is skipped and listed in _rejected beside the output.")
    String onBadImage;

    @Mixin
    InputOptions input = new InputOptions();

    @Mixin
    DataOptions dataOptions = new DataOptions();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!onBadImage.equals("fail") && !onBadImage.equals("skip")) {
            throw new graft.error.UsageException("--on-bad-image " + onBadImage + ": write fail or skip");
        }
        if (!sparkOptions.on && (sparkOptions.clusterOptionsGiven() || onBadImage.equals("skip"))) {
            throw new graft.error.UsageException("--master, --partitions and --on-bad-image skip: add --spark");
        }
        if (sparkOptions.on) {
            return onSpark();
        }
        PrintWriter log = spec.commandLine().getOut();
        Path labelsOut = graft.data.FeatureFiles.labelsFile(out);
        AtomicOutput.checkTarget(out, force, List.of(model, data));
        AtomicOutput.checkTarget(labelsOut, force, List.of(model, data));
        Graph g = ModelLoader.load(model, input.from, input.toOptions());
        DataSource.Loaded d = dataOptions.load(data, g);
        Graph prefix = prefix(g);
        int window = dataOptions.crop(g);
        // features are Caffe's TEST phase: the center window, never a random one
        Samples s = window > 0 ? graft.data.Crops.centered(d.train(), window) : d.train();
        Samples f;
        try (Progress p = Progress.start(log, System.out, quiet, "features", s.size(), "img")) {
            f = Trainer.features(prefix, s, batch, Device.parse(device), p::stepTo);
        }
        long[] shape = f.batchShape(f.size());
        graft.data.FeatureFiles.write(f, out, half, force);
        log.printf(Locale.ROOT, "features %s of %d samples up to '%s' -> %s (%s), labels -> %s%n",
                java.util.Arrays.toString(shape), f.size(), upto, out, half ? "float16" : "float32", labelsOut);
        return 0;
    }

    /**
     * The model up to {@code --upto} (after the mean-file warning, if any), its outputs in the
     * source framework's layout: the features are what that layer gives (NHWC for a channels_last
     * Keras model). The same on one machine and on Spark.
     */
    private Graph prefix(Graph g) {
        String meanWarning = dataOptions.meanFileWarning(g);
        if (meanWarning != null) {
            spec.commandLine().getErr().println(meanWarning);
        }
        ShapeInference.run(g);
        Graph prefix = Subgraphs.prefix(g, Subgraphs.outputOf(g, graft.surgery.LayerRef.resolve(g, "--upto", upto)));
        graft.surgery.KerasLayout.nativeOutputs(prefix);
        return prefix;
    }

    /** The same features on Spark: the model is read and cut here, the images are read and run on the executors. */
    private int onSpark() {
        PrintWriter log = spec.commandLine().getOut();
        graft.cluster.Cluster cluster = graft.cluster.Cluster.find();
        if (device.equals("cuda")) {
            throw new graft.error.UsageException("--device cuda: not with --spark (executors run ONNX Runtime on CPU)");
        }
        Graph g = ModelLoader.load(model, input.from, input.toOptions());
        if (DataOptions.arrays(data)) {
            // loaded here as one machine loads it (--labels, --classes, --per-class); the executors run the model over its blocks
            if (onBadImage.equals("skip")) {
                throw new graft.error.UsageException("--on-bad-image skip: for image folders; '" + data + "' holds arrays");
            }
            DataSource.Loaded d = dataOptions.load(data, g);
            Graph prefix = prefix(g);
            int window = dataOptions.crop(g);
            Samples s = window > 0 ? graft.data.Crops.centered(d.train(), window) : d.train();
            var job = new graft.cluster.FeaturesJob(model, graft.io.FileHash.sha256(model), upto, prefix, data, null,
                    graft.data.InputLayout.feedsNhwc(prefix, s.sampleShape()), batch, out, half, force, false, sparkOptions.settings(spec), s);
            var r = cluster.features(job);
            log.printf(Locale.ROOT, "features %s of %d samples up to '%s' -> %s (%s, Spark)%n", java.util.Arrays.toString(r.shape()), r.count(),
                    upto, out, half ? "float16" : "float32");
            return 0;
        }
        graft.data.ImageShape shape = dataOptions.imageShape(data, g);
        Graph prefix = prefix(g);
        int side = shape.window() > 0 ? shape.window() : shape.h();
        int width = shape.window() > 0 ? shape.window() : shape.w();
        boolean nhwc = graft.data.InputLayout.feedsNhwc(prefix, new long[] {shape.channels(), side, width});
        var job = new graft.cluster.FeaturesJob(model, graft.io.FileHash.sha256(model), upto, prefix, data, shape, nhwc, batch, out, half,
                force, onBadImage.equals("skip"), sparkOptions.settings(spec));
        var r = cluster.features(job);
        log.printf(Locale.ROOT, "features %s of %d samples up to '%s' -> %s (%s, Spark)%s%n", java.util.Arrays.toString(r.shape()), r.count(),
                upto, out, half ? "float16" : "float32", r.rejected() > 0 ? ", " + r.rejected() + " rejected images listed in " + r.rejectedList() : "");
        return 0;
    }
}
