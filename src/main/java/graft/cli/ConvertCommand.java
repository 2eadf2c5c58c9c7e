package graft.cli;

import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a model between formats; formats are chosen from the extensions (--from/--to override).",
        footer = {"", "Examples:", "  graft convert vgg16.onnx vgg16_opset13.onnx --opset 13",
                "  graft convert big.onnx big_ext.onnx --external-data always",
                "  graft convert vgg16.h5 vgg16.onnx",
                "  graft convert deploy.prototxt --weights x.caffemodel out.onnx",
                "", "The output is written to a temporary file and renamed when complete; an existing output is kept unless --force."})
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "Input model.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "Output model.")
    Path out;

    @Mixin
    InputOptions input = new InputOptions();

    @Option(names = "--to", paramLabel = "FORMAT", description = "Output format when the extension does not tell.")
    String to;

    @Option(names = "--opset", defaultValue = "17", description = "ONNX opset to write, 7 to 21 (default: ${DEFAULT-VALUE}).")
    int opset;

    @Option(names = "--external-data", paramLabel = "WHEN", defaultValue = "auto",
            description = "ONNX weights in a separate OUT.data file: auto (above 2 GB), always, never (default: ${DEFAULT-VALUE}).")
    String externalData;

    @Option(names = "--force", description = "Replace OUT if it exists.")
    boolean force;

    @Option(names = "--keras-explicit-padding",
            description = "Keras output: write pads Keras 'same' cannot express as a ZeroPadding2D layer instead of refusing.")
    boolean kerasExplicitPadding;

    @Option(names = "--allow-nonfinite", description = "Write the model even when weights hold NaN or Inf (refused by default, exit 3).")
    boolean allowNonfinite;

    @Option(names = "--fp16", description = "ONNX output in half precision: weights exactly float16(w), compute in float16; Softmax, "
            + "BatchNormalization, Exp, Log, Pow, Softplus and LRN stay float32 behind Casts. Weights beyond float16's range are refused (exit 3).")
    boolean fp16;

    @Option(names = "--keep-io-float32", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "With --fp16: the model's inputs and outputs stay float32, with a Cast at each boundary (default: ${DEFAULT-VALUE}).")
    boolean keepIoFloat32;

    @Option(names = "--verify", description = "After writing, check OUT against IN's outputs computed by --oracle (an implementation graft "
            + "did not write where one reads IN); exit 1 with the report when they differ (OUT is kept).")
    boolean verify;

    @Option(names = "--oracle", paramLabel = "NAME", defaultValue = "auto", description = "Oracle of --verify: auto, dl4j, opencv, ort, graft "
            + "(as in graft validate; default: ${DEFAULT-VALUE}).")
    String oracle;

    @Option(names = "--oracle-timeout", paramLabel = "SECONDS", defaultValue = "600", description = "Stop an oracle that runs longer (default: ${DEFAULT-VALUE}).")
    long oracleTimeout;

    @Option(names = "--size", paramLabel = "HxW", description = "--verify: spatial size of the random input where IN's height and width are symbolic.")
    String size;

    @Option(names = "--simplify", negatable = true, description = "Fold constant and static-shape subgraphs, remove Identity and "
            + "inference Dropout, merge Transpose/Reshape pairs, drop unused and duplicate initializers and unused inputs. Keras and "
            + "Caffe targets fold constants by default (nothing else; --no-simplify turns it off).")
    Boolean simplify;

    @Option(names = "--quiet", description = "No progress bar while a large model (over 256 MB of weights) is written.")
    boolean quiet;

    @Option(names = "--dry-run", description = "Print what --simplify would remove; write nothing.")
    boolean dryRun;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        ModelFormat target = Formats.forFile(out, to);
        List<Path> inputs = new ArrayList<>(List.of(in));
        if (input.weights != null) {
            inputs.add(input.weights);
        }
        if (input.config != null) {
            inputs.add(input.config);
        }
        if (fp16 && !target.name().equals("onnx")) {
            throw new graft.error.UsageException("--fp16: " + target.name() + " output has no float16 path graft can prove; write an .onnx file");
        }
        if (!keepIoFloat32 && !fp16) {
            throw new graft.error.UsageException("--no-keep-io-float32 applies to --fp16 only");
        }
        if (!dryRun) {
            graft.io.AtomicOutput.checkTarget(out, force, inputs);
        }
        graft.io.Timing.mark("convert: options parsed");
        Graph g = ModelLoader.load(in, input.from, input.toOptions());
        graft.io.Timing.mark("convert: model read");
        ModelLoader.notices(g, spec.commandLine().getErr());
        boolean implicit = target.name().equals("keras") || target.name().equals("caffe");
        if (Boolean.TRUE.equals(simplify) || simplify == null && implicit) {
            graft.surgery.Simplify.Report r = graft.surgery.Simplify.simplify(g, Boolean.TRUE.equals(simplify));
            if (!r.isEmpty()) {
                g.addProvenance(Boolean.TRUE.equals(simplify) ? "simplify" : "simplify (implicit)");
            }
            if (dryRun || Boolean.TRUE.equals(simplify) || !r.isEmpty()) {
                spec.commandLine().getOut().println(r.isEmpty() ? "simplify: nothing to remove" : "simplify:");
                r.lines().forEach(l -> spec.commandLine().getOut().println("  " + l));
            }
        } else if (dryRun) {
            spec.commandLine().getOut().println("simplify: off");
        }
        if (dryRun) {
            spec.commandLine().getOut().println("dry run: nothing written");
            return 0;
        }
        Options o = Options.none().set("opset", opset).set("external-data", externalData).set("force", force).set("inputs", inputs)
                .set("explicit-padding", kerasExplicitPadding).set("allow-nonfinite", allowNonfinite);
        graft.deploy.Fp16.Report half = fp16 ? graft.deploy.Fp16.convert(g, keepIoFloat32) : null;
        writeWithProgress(target, g, out, o);
        graft.io.Timing.mark("convert: model written");
        graft.ir.LayerTable.Totals t = graft.ir.LayerTable.totals(g);
        spec.commandLine().getOut().printf("wrote %s (%s, %d layers, %,d parameters)%n", out, target.name(), t.layers(), t.params());
        if (half != null) {
            spec.commandLine().getOut().println(half.describe());
        }
        if (verify) {
            return OracleCheck.verify(in, input, out, oracle, oracleTimeout, ValidateCommand.hw(size), spec.commandLine().getOut(),
                    spec.commandLine().getErr());
        }
        return 0;
    }

    /**
     * Below this many bytes of weights a write takes about a second and shows no bar. The
     * property {@code graft.progress.min_bytes} lowers it (tests).
     */
    static final long PROGRESS_MIN_BYTES = 256L << 20;

    /**
     * Writes through {@code target} with a progress bar in MB on stderr for a large model: the
     * bytes written so far are the sizes of the files the writer has open (polled every 200 ms;
     * writers report nothing themselves), against the weights' total (headers and metadata add a
     * little more; the bar closes at its end).
     */
    private void writeWithProgress(ModelFormat target, Graph g, Path file, Options o) {
        long total = 0;
        for (graft.ir.Weight w : g.initializers().values()) {
            total += w.byteSize();
        }
        long min = Long.getLong("graft.progress.min_bytes", PROGRESS_MIN_BYTES);
        if (quiet || total < min) {
            target.write(g, file, o);
            return;
        }
        java.util.List<java.nio.channels.FileChannel> open = graft.io.AtomicOutput.watch();
        java.io.PrintWriter err = spec.commandLine().getErr();
        final long all = total;
        try (Progress p = Progress.start(err, System.err, false, "writing " + file.getFileName(), all, "MB", 1L << 20)) {
            java.util.concurrent.ScheduledExecutorService poll = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "graft-write-progress");
                t.setDaemon(true);
                return t;
            });
            poll.scheduleAtFixedRate(() -> p.stepTo(Math.min(all, written(open))), 0, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
            try {
                target.write(g, file, o);
            } finally {
                poll.shutdownNow();
            }
            p.stepTo(all);
        } finally {
            graft.io.AtomicOutput.unwatch();
        }
    }

    private static long written(java.util.List<java.nio.channels.FileChannel> open) {
        long n = 0;
        for (java.nio.channels.FileChannel c : open) {
            try {
                n += c.size();
            } catch (java.io.IOException e) {
                // closed (committed or abandoned): its bytes were counted while it was open
            }
        }
        return n;
    }
}
