package graft.cli;

import graft.error.UsageException;
import graft.ir.Graph;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.runtime.Sessions;
import graft.io.Npy;
import graft.ir.Tensor;
import graft.validate.Feeds;
import java.io.PrintWriter;
import java.nio.file.Files;
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

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a model in ONNX Runtime on seeded random inputs or .npy files and summarise its outputs.",
        footer = {"", "Examples:", "  graft run fixtures/onnx/small_vgg.onnx", "  graft run vgg16.onnx --input input=batch.npy --out outputs/",
                "  graft run vgg16_notop.h5 --batch 2 --size 160x160",
                "  graft run deploy.prototxt --weights bvlc_reference_caffenet.caffemodel --images pics/", "  graft run model.onnx --device cuda   (needs a build with -Pcuda)"})
final class RunCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "Model file in any format graft reads.")
    Path model;

    @Mixin
    InputOptions input = new InputOptions();

    @Option(names = "--input", paramLabel = "NAME=FILE.npy", description = "Feed an input from a .npy file (repeatable).")
    Map<String, Path> inputs = new LinkedHashMap<>();

    @Option(names = "--images", paramLabel = "DIR",
            description = "Feed the images in DIR as one batch, resized and preprocessed as the model's preprocess.* metadata says "
                    + "(Caffe transform_param: BGR, mean, scale).")
    Path images;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch", defaultValue = "1", description = "Size of a symbolic batch dimension (default: ${DEFAULT-VALUE}).")
    long batch;

    @Option(names = "--size", paramLabel = "HxW", description = "Spatial size for symbolic height and width, e.g. 224x224.")
    String size;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--out", paramLabel = "DIR", description = "Write every output as DIR/<name>.npy.")
    Path outDir;

    @Option(names = "--force", description = "Replace existing .npy files in --out.")
    boolean force;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Device dev = Device.parse(device);
        long t0 = System.nanoTime();
        Graph g = ModelLoader.load(model, input.from, input.toOptions());
        // ONNX Runtime copies inline weights into its own memory (1.8 s for VGG16); opened over
        // external-data weights it maps them (0.12 s). Large inline models are therefore
        // re-written with external data to a temporary folder first, which costs one stream copy.
        boolean onnx = Formats.forFile(model, input.from).name().equals("onnx");
        // a Git LFS pointer read through to its object goes through the IR too: ONNX Runtime would
        // look for external data beside the object, in the LFS store
        boolean small = model.toFile().length() < (64L << 20) && graft.io.ModelFiles.source(model).equals(model);
        try (OrtRunner runner = onnx && small ? OrtRunner.open(model, dev) : Sessions.open(g, dev)) {
            long t1 = System.nanoTime();
            if (images != null && !inputs.isEmpty()) {
                throw new UsageException("--images and --input: give one source of inputs, not both");
            }
            PrintWriter err = spec.commandLine().getErr();
            Map<String, Tensor> feeds = images != null ? graft.validate.Images.feeds(images, g, ValidateCommand.hw(size))
                    : Feeds.make(g, inputs, seed, new Feeds.Sizes(batch, ValidateCommand.hw(size)), n -> err.println("graft: note: " + n));
            if (images != null) {
                graft.validate.Images.checkBatch(feeds, g, images);
            }
            Feeds.checkFits(g, feeds, images != null ? "--images " + images : size != null ? "--size " + size : null);
            Map<String, Tensor> outs = runner.run(feeds);
            long t2 = System.nanoTime();
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                out.printf("input  %-24s %s%n", e.getKey(), e.getValue());
            }
            for (Map.Entry<String, Tensor> e : outs.entrySet()) {
                out.printf("output %-24s %s  %s%n", e.getKey(), e.getValue(), summary(e.getValue()));
                if (outDir != null) {
                    Files.createDirectories(outDir);
                    Tensor t = e.getValue();
                    Npy.write(outDir.resolve(safeName(e.getKey()) + ".npy"), t.dtype(), t.shape(), t.data(), force);
                }
            }
            out.printf(Locale.ROOT, "session opened in %.2f s, ran in %.3f s (%s)%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9,
                    dev.name().toLowerCase(Locale.ROOT));
            return 0;
        } catch (java.io.IOException e) {
            throw new graft.error.EnvironmentException("--out " + outDir + ": cannot create the folder (" + graft.io.AtomicOutput.why(e) + ")", e);
        }
    }

    static String safeName(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    static String summary(Tensor t) {
        float[] v = t.toFloats();
        if (v.length == 0) {
            return "(empty)";
        }
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        double sum = 0;
        double sq = 0;
        int argmax = 0;
        for (int i = 0; i < v.length; i++) {
            min = Math.min(min, v[i]);
            if (v[i] > max) {
                max = v[i];
                argmax = i;
            }
            sum += v[i];
            sq += (double) v[i] * v[i];
        }
        double mean = sum / v.length;
        String arg = String.valueOf(argmax);
        long[] shape = t.shape();
        if (shape.length >= 2 && shape[0] > 1) {
            // one answer per sample: the flat index over a batch means nothing to a reader
            int rows = (int) shape[0];
            int per = v.length / rows;
            StringBuilder b = new StringBuilder("[");
            for (int r = 0; r < rows; r++) {
                if (r == 16) {
                    b.append(", ...");
                    break;
                }
                int best = 0;
                for (int i = 1; i < per; i++) {
                    if (v[r * per + i] > v[r * per + best]) {
                        best = i;
                    }
                }
                b.append(r == 0 ? "" : ", ").append(best);
            }
            arg = b.append("] per row").toString();
        }
        double std = Math.sqrt(Math.max(0, sq / v.length - mean * mean));
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < Math.min(5, v.length); i++) {
            first.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.5g", v[i]));
        }
        return String.format(Locale.ROOT, "min %.5g max %.5g mean %.5g std %.5g argmax %s  [%s%s]", min, max, mean, std, arg,
                first, v.length > 5 ? ", ..." : "");
    }
}
