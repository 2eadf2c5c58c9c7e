package graft.cli;

import graft.data.DataSource;
import graft.data.Samples;
import graft.io.AtomicOutput;
import graft.io.Npy;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.ShapeInference;
import graft.runtime.Device;
import graft.train.Subgraphs;
import graft.train.Trainer;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
                "", "Labels go to FEATS.labels.npy (int64) beside the features. 4-D features are in the source's own layout:",
                "NHWC for a channels_last Keras model (as Keras's layer gives them), NCHW for ONNX and Caffe."})
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
    InputOptions input = new InputOptions();

    @Mixin
    DataOptions dataOptions = new DataOptions();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter log = spec.commandLine().getOut();
        Path labelsOut = out.resolveSibling(out.getFileName().toString().replaceFirst("\\.npy$", "") + ".labels.npy");
        AtomicOutput.checkTarget(out, force, List.of(model, data));
        AtomicOutput.checkTarget(labelsOut, force, List.of(model, data));
        Graph g = ModelLoader.load(model, input.from, input.toOptions());
        DataSource.Loaded d = dataOptions.load(data, g);
        String meanWarning = dataOptions.meanFileWarning(g);
        if (meanWarning != null) {
            spec.commandLine().getErr().println(meanWarning);
        }
        ShapeInference.run(g);
        Graph prefix = Subgraphs.prefix(g, Subgraphs.outputOf(g, graft.surgery.LayerRef.resolve(g, "--upto", upto)));
        // the features are what the source framework's layer gives: NHWC for a channels_last Keras model
        graft.surgery.KerasLayout.nativeOutputs(prefix);
        int window = dataOptions.crop(g);
        // features are Caffe's TEST phase: the center window, never a random one
        Samples s = window > 0 ? graft.data.Crops.centered(d.train(), window) : d.train();
        Samples f;
        try (Progress p = Progress.start(log, System.out, quiet, "features", s.size(), "img")) {
            f = Trainer.features(prefix, s, batch, Device.parse(device), p::stepTo);
        }
        long[] shape = f.batchShape(f.size());
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact((half ? 2L : 4L) * f.size() * (shape.length > 1 ? f.sample(0).remaining() : 1)))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < f.size(); i++) {
            var v = f.sample(i);
            while (v.hasRemaining()) {
                float x = v.get();
                if (half) {
                    b.putShort(graft.ir.Half.fromFloat(x));
                } else {
                    b.putFloat(x);
                }
            }
        }
        b.flip();
        Npy.write(out, half ? DataType.FLOAT16 : DataType.FLOAT, shape, b, force);
        long[] l = f.labels();
        ByteBuffer lb = ByteBuffer.allocate(l.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        lb.asLongBuffer().put(l);
        Npy.write(labelsOut, DataType.INT64, new long[] {l.length}, lb, force);
        log.printf(Locale.ROOT, "features %s of %d samples up to '%s' -> %s (%s), labels -> %s%n",
                java.util.Arrays.toString(shape), f.size(), upto, out, half ? "float16" : "float32", labelsOut);
        return 0;
    }
}
