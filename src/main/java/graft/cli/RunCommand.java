package graft.cli;

import graft.error.UsageException;
import graft.io.Npy;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.runtime.Sessions;
import graft.runtime.Tensor;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
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
        boolean small = model.toFile().length() < (64L << 20);
        try (OrtRunner runner = onnx && small ? OrtRunner.open(model, dev) : Sessions.open(g, dev)) {
            long t1 = System.nanoTime();
            Map<String, Tensor> feeds = new LinkedHashMap<>();
            if (images != null) {
                if (!inputs.isEmpty()) {
                    throw new UsageException("--images and --input: give one source of inputs, not both");
                }
                feeds.putAll(graft.validate.Images.feeds(images, g, ValidateCommand.hw(size)));
                for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                    TensorType t = g.type(e.getKey());
                    graft.ir.Dim n = t == null || t.shape() == null ? null : t.shape().dim(0);
                    long fixed = n != null && n.isFixed() ? n.value() : -1;
                    if (fixed >= 0 && fixed != e.getValue().shape()[0]) {
                        throw new UsageException("--images '" + images + "': " + e.getValue().shape()[0] + " images, but input '"
                                + e.getKey() + "' takes a fixed batch of " + fixed + ". Put " + fixed + " images in the folder");
                    }
                }
            }
            long k = 0;
            for (Value v : images != null ? java.util.List.<Value>of() : g.inputs()) {
                Path npy = inputs.remove(v.name());
                if (npy != null) {
                    Npy.Array a = Npy.read(npy);
                    feeds.put(v.name(), new Tensor(a.dtype(), a.shape(), a.data()));
                } else {
                    TensorType t = g.type(v.name()) != null ? g.type(v.name()) : v.type();
                    feeds.put(v.name(), Tensor.random(t == null ? DataType.FLOAT : t.dtype(), concreteShape(v.name(), t), seed + k));
                }
                k++;
            }
            if (!inputs.isEmpty()) {
                throw new UsageException("--input names " + inputs.keySet() + " are not inputs of the model; inputs are "
                        + g.inputs().stream().map(Value::name).toList());
            }
            Map<String, Tensor> outs = runner.run(feeds);
            long t2 = System.nanoTime();
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                out.printf("input  %-24s %s%s%n", e.getKey(), e.getValue(), inputs.containsKey(e.getKey()) ? "" : "");
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
            throw new UsageException("--out " + outDir + ": " + e.getMessage());
        }
    }

    static String safeName(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private long[] concreteShape(String name, TensorType t) {
        if (t == null || t.shape() == null) {
            throw new UsageException("input '" + name + "' has no declared shape; feed it with --input " + name + "=FILE.npy");
        }
        long[] hw = null;
        if (size != null) {
            String[] p = size.toLowerCase(Locale.ROOT).split("x");
            if (p.length != 2) {
                throw new UsageException("--size must be HxW, e.g. 224x224");
            }
            hw = new long[]{Long.parseLong(p[0]), Long.parseLong(p[1])};
        }
        List<Dim> dims = t.shape().dims();
        long[] r = new long[dims.size()];
        int spatial = 0;
        for (int i = 0; i < r.length; i++) {
            Dim d = dims.get(i);
            if (d.isFixed()) {
                r[i] = d.value();
            } else if (i == 0) {
                r[i] = batch;
            } else if (hw != null && spatial < 2 && i >= r.length - 2) {
                r[i] = hw[spatial++];
            } else {
                throw new UsageException("input '" + name + "' has symbolic dimension '" + d + "' at axis " + i
                        + "; give it with --size HxW or feed a .npy file");
            }
        }
        return r;
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
        double std = Math.sqrt(Math.max(0, sq / v.length - mean * mean));
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < Math.min(5, v.length); i++) {
            first.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.5g", v[i]));
        }
        return String.format(Locale.ROOT, "min %.5g max %.5g mean %.5g std %.5g argmax %d  [%s%s]", min, max, mean, std, argmax,
                first, v.length > 5 ? ", ..." : "");
    }
}
