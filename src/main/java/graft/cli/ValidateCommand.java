package graft.cli;

import graft.error.ExitCodes;
import graft.error.UsageException;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.validate.Compare;
import graft.validate.Engine;
import graft.validate.Feeds;
import graft.validate.Images;
import graft.validate.LayerErrorChart;
import graft.validate.Report;
import graft.validate.Validation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Prove that two models compute the same function on the same inputs, or, with one model, that ONNX Runtime "
                + "and graft's reference executor agree on it.",
                "Per output: max abs, max rel, mean abs error, cosine similarity, top-1/top-5 agreement for (N, K) outputs. "
                + "MODEL_A is the reference that relative errors are measured against. Exit 0 within tolerance, 1 beyond."},
        footer = {"", "Examples:",
                "  graft validate vgg16.onnx          (ONNX Runtime vs the reference executor)",
                "  graft validate vgg16.h5 vgg16.onnx --seed 7",
                "  graft validate original.onnx edited.onnx --per-layer",
                "  graft validate deploy.prototxt --weights w.caffemodel vgg16.onnx --images pics/",
                "  graft validate model.onnx --input input_1=batch.npy --atol 1e-5 --rtol 1e-4"})
final class ValidateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL_A", description = "Reference model, any format graft reads.")
    Path modelA;

    @Parameters(index = "1", arity = "0..1", paramLabel = "MODEL_B", description = "Candidate model; omit to compare ONNX Runtime with the reference executor on MODEL_A.")
    Path modelB;

    @Mixin
    InputOptions input = new InputOptions();

    @Mixin
    SecondModelOptions second = new SecondModelOptions();

    @Option(names = "--input", paramLabel = "NAME=FILE.npy", description = "Feed an input of MODEL_A from a .npy file (repeatable); MODEL_B gets the same values.")
    Map<String, Path> inputs = new LinkedHashMap<>();

    @Option(names = "--images", paramLabel = "DIR", description = "Feed the images in DIR, each model with its own preprocess.* metadata, "
            + "--images-batch per run (outputs compared; --per-layer and oracles take the folder as one batch).")
    Path images;

    @Option(names = "--images-batch", paramLabel = "N", defaultValue = "32",
            description = "Images per run with --images (default: ${DEFAULT-VALUE}; a model's fixed batch instead, when it has one).")
    int imagesBatch;

    @Option(names = "--quiet", description = "No progress bar (shown for --images folders of more than one run).")
    boolean quiet;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch", defaultValue = "1", description = "Size of a symbolic batch dimension (default: ${DEFAULT-VALUE}).")
    long batch;

    @Option(names = "--size", paramLabel = "HxW", description = "Spatial size for symbolic height and width (images default to 224x224).")
    String size;

    @Option(names = "--atol", defaultValue = "1e-4", description = "Absolute tolerance (default: ${DEFAULT-VALUE}).")
    double atol;

    @Option(names = "--rtol", defaultValue = "1e-3", description = "Relative tolerance: pass when |b - a| <= atol + rtol * |a| everywhere (default: ${DEFAULT-VALUE}).")
    double rtol;

    @Option(names = "--per-layer", description = "Also compare every layer both models have (by name), in network order, and name the first beyond tolerance. Runs one segment at a time: memory stays at a few activations.")
    boolean perLayer;

    @Option(names = "--labels", paramLabel = "Y.npy", description = "Integer class labels of the fed samples: also print both models' "
            + "top-1 accuracy on them (the cost of an FP16 or INT8 conversion). Not with --per-layer or an oracle.")
    Path labels;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Option(names = "--plot", paramLabel = "OUT.png", description = "With --per-layer: a chart of each layer's max abs error (log scale) "
            + "with the tolerance line and the first layer beyond it marked. Not with an oracle comparison.")
    Path plot;

    @Option(names = "--force", description = "Replace an existing --plot file.")
    boolean force;

    @Option(names = "--oracle", paramLabel = "NAME", description = "Who computes MODEL_A's outputs: dl4j (Keras), opencv (Caffe, ONNX), "
            + "ort (the ONNX file untouched), graft (graft's own reading: not independent), or auto (the first of these that reads "
            + "MODEL_A, else graft with a warning). Default: auto when MODEL_B is MODEL_A converted to another format (no edits), "
            + "else graft. See README, Validation.")
    String oracle;

    @Option(names = "--oracle-timeout", paramLabel = "SECONDS", defaultValue = "600", description = "Stop an oracle that runs longer (default: ${DEFAULT-VALUE}).")
    long oracleTimeout;

    @Mixin
    SparkOptions sparkOptions = new SparkOptions();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (images != null && !inputs.isEmpty()) {
            throw new UsageException("--images and --input: give one source of inputs, not both");
        }
        if (!sparkOptions.on && sparkOptions.clusterOptionsGiven()) {
            throw new UsageException("--master and --partitions: add --spark");
        }
        graft.cluster.Cluster cluster = sparkOptions.on ? graft.cluster.Cluster.find() : null;
        if (sparkOptions.on && (images == null || modelB == null || perLayer || plot != null || labels != null)) {
            throw new UsageException("--spark: compares MODEL_A and MODEL_B over --images DIR (outputs only: not with --per-layer, --plot or --labels)");
        }
        Graph a = ModelLoader.load(modelA, input.from, input.toOptions());
        Graph b = modelB == null ? a : second.load(modelB, input);
        long[] hw = hw(size);
        if (sparkOptions.on) {
            return onSpark(cluster, a, b, hw, out);
        }
        String o = oracle != null ? oracle : defaultOracle(a, b, modelB);
        if (plot != null) {
            if (!perLayer) {
                throw new UsageException("--plot " + plot + ": draws the per-layer errors; add --per-layer");
            }
            if (o != null) {
                throw new UsageException("--plot " + plot + ": drawn for graft's own comparison only, not with oracle '" + o
                        + "' (a conversion between formats picks one unless --oracle is given)");
            }
            graft.io.AtomicOutput.checkTarget(plot, force, java.util.List.of(modelA));
        }
        if (images != null && !perLayer && o == null) {
            return overImages(a, b, hw, out);
        }
        Map<String, Tensor> feedsA = images != null ? Images.feeds(images, a, hw) : Feeds.make(a, inputs, seed, new Feeds.Sizes(batch, hw),
                n -> spec.commandLine().getErr().println("graft: note: " + n));
        Map<String, Tensor> feedsB = modelB == null ? feedsA : images != null ? Images.feeds(images, b, hw) : Feeds.carryOver(feedsA, a, b);
        if (images != null) {
            Images.checkBatch(feedsA, a, images);
            Images.checkBatch(feedsB, b, images);
        }
        String how = images != null ? "--images " + images : size != null ? "--size " + size : null;
        Feeds.checkFits(a, feedsA, how);
        if (modelB != null) {
            Feeds.checkFits(b, feedsB, how);
        }
        if (o != null) {
            return OracleCheck.validate(o, oracleTimeout, new OracleCheck.Source(modelA, input.weights, input.config), a, feedsA,
                    modelB, modelB == null ? null : b, feedsB, new Compare.Tolerance(atol, rtol), json, perLayer, out, spec.commandLine().getErr());
        }
        Validation.Labels truth = labels == null ? null : Validation.Labels.read(labels);
        if (truth != null && (perLayer || o != null)) {
            throw new UsageException("--labels " + labels + ": scores the two models' own outputs; not with --per-layer or an oracle"
                    + (o != null ? " (give --oracle graft to compare graft's readings)" : ""));
        }
        Engine ref = Engine.onnxRuntime(a);
        Engine cand = modelB == null ? Engine.reference(a) : Engine.onnxRuntime(b);
        Compare.Tolerance tol = new Compare.Tolerance(atol, rtol);
        Validation.Result r;
        Validation.Accuracy acc = null;
        if (perLayer) {
            r = Validation.perLayer(ref, feedsA, cand, feedsB, tol);
        } else {
            Validation.Scored scored = Validation.outputs(ref, feedsA, cand, feedsB, tol, truth);
            r = scored.result();
            acc = scored.accuracy();
        }
        out.print(json ? Report.json(r, acc) : Report.table(r) + Report.accuracy(acc));
        out.flush();
        if (plot != null) {
            writePlot(r);
        }
        return r.passed() ? ExitCodes.OK : ExitCodes.VALIDATION_FAILED;
    }

    /**
     * The outputs comparison over a folder of images, {@code --images-batch} at a time with a
     * progress bar: only the outputs are held, and the report is the one a single run over the
     * whole folder gives.
     */
    private int overImages(Graph a, Graph b, long[] hw, PrintWriter out) {
        Images.Folder fa = Images.folder(images, a, hw);
        Images.Folder fb = modelB == null ? fa : Images.folder(images, b, hw);
        if (imagesBatch < 1) {
            throw new UsageException("--images-batch " + imagesBatch + ": give at least 1");
        }
        int n = Images.batch(fa, a, fb, b, imagesBatch);
        Validation.Labels truth = labels == null ? null : Validation.Labels.read(labels);
        Engine ref = Engine.onnxRuntime(a);
        Engine cand = modelB == null ? Engine.reference(a) : Engine.onnxRuntime(b);
        Compare.Tolerance tol = new Compare.Tolerance(atol, rtol);
        int count = fa.size();
        Validation.Scored scored;
        PrintWriter err = spec.commandLine().getErr();
        try (Progress p = Progress.start(err, System.err, quiet || count <= n, "validate", count, "img")) {
            scored = Validation.overImages(ref, fa, cand, fb, n, tol, truth, p::stepTo);
        }
        out.print(json ? Report.json(scored.result(), scored.accuracy()) : Report.table(scored.result()) + Report.accuracy(scored.accuracy()));
        out.flush();
        return scored.result().passed() ? ExitCodes.OK : ExitCodes.VALIDATION_FAILED;
    }

    /** The outputs comparison over the images on Spark: the report and exit code of the single-machine comparison. */
    private int onSpark(graft.cluster.Cluster cluster, Graph a, Graph b, long[] hw, PrintWriter out) {
        String o = oracle != null ? oracle : defaultOracle(a, b, modelB);
        if (o != null) {
            throw new UsageException("--spark: compares graft's own reading of both models; MODEL_B is a conversion of MODEL_A, which is "
                    + "checked against an oracle on one machine (drop --spark)" + (oracle != null ? ", or drop --oracle" : ""));
        }
        var r = cluster.validate(new graft.cluster.ValidateJob(a, b, images, hw, new Compare.Tolerance(atol, rtol), 32,
                sparkOptions.settings(spec)));
        out.print(json ? Report.json(r.result()) : Report.table(r.result()));
        out.flush();
        return r.result().passed() ? ExitCodes.OK : ExitCodes.VALIDATION_FAILED;
    }

    /**
     * Without {@code --oracle}: {@code auto} when MODEL_B is a conversion of MODEL_A (another format, no edits of its own), so
     * that checking a converted model does not rest on graft's own reading of the source; else null (graft against graft,
     * which is what comparing an edited model or two files of one format asks for).
     */
    static String defaultOracle(Graph a, Graph b, java.nio.file.Path modelB) {
        if (modelB == null) {
            return null;
        }
        String fa = a.metadata().getOrDefault(ModelLoader.READ_FORMAT, "");
        String fb = b.metadata().getOrDefault(ModelLoader.READ_FORMAT, "");
        String ea = a.metadata().getOrDefault("graft.edits", "").strip();
        String eb = b.metadata().getOrDefault("graft.edits", "").strip();
        return !fa.isEmpty() && !fb.isEmpty() && !fa.equals(fb) && ea.equals(eb) ? "auto" : null;
    }

    static long[] hw(String size) {
        if (size == null) {
            return null;
        }
        String[] p = size.toLowerCase(Locale.ROOT).split("x");
        try {
            if (p.length == 2) {
                return new long[]{Long.parseLong(p[0].trim()), Long.parseLong(p[1].trim())};
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("--size '" + size + "': not HxW. Write it like 224x224");
    }

    private void writePlot(Validation.Result r) {
        try (graft.io.AtomicOutput o = graft.io.AtomicOutput.open(plot, force, java.util.List.of(modelA))) {
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(LayerErrorChart.png(LayerErrorChart.chart(r)));
            while (bytes.hasRemaining()) {
                o.channel().write(bytes);
            }
            o.commit();
        } catch (java.io.IOException e) {
            throw new graft.error.EnvironmentException("output '" + plot + "': cannot be written (" + graft.io.AtomicOutput.why(e) + ")", e);
        }
    }
}
