package graft.cli;

import graft.error.ExitCodes;
import graft.io.Npy;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The main job on the bundled models: inspect, convert (ONNX, Keras, Caffe), run in ONNX Runtime and "
                + "prove the results compute what PyTorch computed, apply a surgery recipe, diff and validate layer by layer.",
        footer = {"", "Example:", "  ./graft demo            (writes into target/demo/)"})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--dir", defaultValue = "target/demo", description = "Where the demo writes its files (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--fixtures", defaultValue = "${sys:graft.home:-.}/fixtures", description = "The repository's fixtures folder (default: ${DEFAULT-VALUE}).")
    Path fixtures;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path model = fixtures.resolve("onnx/small_vgg.onnx");
        Files.createDirectories(dir);
        out.println("== 1. inspect " + model + " (a VGG-style CNN exported by torch.onnx.export, opset 13)");
        Graph g = ModelLoader.load(model, null, Options.none());
        InspectCommand.printTable(g, LayerTable.of(g), out);

        Path converted = dir.resolve("small_vgg_opset17.onnx");
        Path external = dir.resolve("small_vgg_external.onnx");
        out.println();
        out.println("== 2. convert to opset 17 (" + converted + ") and to external-data weights (" + external + ")");
        Formats.forFile(converted, null).write(g, converted, Options.none().set("opset", 17).set("force", true).set("inputs", java.util.List.of(model)));
        Formats.forFile(external, null).write(g, external, Options.none().set("opset", 17).set("force", true)
                .set("external-data", "always").set("inputs", java.util.List.of(model)));

        out.println();
        out.println("== 3. run in ONNX Runtime and compare with PyTorch's own output for the same batch");
        Npy.Array x = Npy.read(fixtures.resolve("onnx/small_vgg_input.npy"));
        float[] torch = Npy.read(fixtures.resolve("onnx/small_vgg_torch_output.npy")).toFloats();
        boolean ok = true;
        for (Path p : new Path[]{converted, external}) {
            try (OrtRunner r = OrtRunner.open(p, Device.CPU)) {
                Tensor y = r.run(Map.of("input", new Tensor(x.dtype(), x.shape(), x.data()))).get("probs");
                float[] v = y.toFloats();
                double maxDiff = 0;
                double maxRef = 0;
                for (int i = 0; i < v.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs((double) v[i] - torch[i]));
                    maxRef = Math.max(maxRef, Math.abs(torch[i]));
                }
                double rel = maxDiff / maxRef;
                boolean pass = rel < 1e-5;
                ok &= pass;
                out.printf(Locale.ROOT, "  %-40s output %s  max |graft - torch| / max|torch| = %.2e  %s%n", p.getFileName(), y,
                        rel, pass ? "OK (< 1e-5)" : "MISMATCH");
            }
        }
        out.println(ok ? "  all outputs match PyTorch" : "  outputs differ from PyTorch");

        out.println();
        out.println("== 4. the same model through Keras and Caffe and back, each proven against the original");
        ok &= step(out, "convert", model.toString(), dir.resolve("small_vgg.h5").toString(), "--force");
        ok &= step(out, "validate", model.toString(), dir.resolve("small_vgg.h5").toString());
        ok &= step(out, "convert", model.toString(), dir.resolve("small_vgg.prototxt").toString(), "--force");
        ok &= step(out, "validate", model.toString(), dir.resolve("small_vgg.prototxt").toString(),
                "--b-weights", dir.resolve("small_vgg.caffemodel").toString());

        out.println();
        Path mini = fixtures.resolve("surgery/vgg16_mini.onnx");
        Path recipe = fixtures.resolve("../recipes/vgg16_finetune.yaml").normalize();
        Path tuned = dir.resolve("vgg16_mini_finetune.onnx");
        out.println("== 5. surgery: " + recipe.getFileName() + " on " + mini.getFileName()
                + " (VGG16's topology and layer names, narrow), then what changed");
        ok &= step(out, "surgery", mini.toString(), "--recipe", recipe.toString(), "-o", tuned.toString(), "--force");
        ok &= step(out, "diff", mini.toString(), tuned.toString());

        out.println();
        out.println("== 6. ONNX Runtime against graft's own pure-Java reference executor, layer by layer");
        ok &= step(out, "validate", model.toString(), "--per-layer");
        out.println();
        out.println(ok ? "demo: every step passed" : "demo: a step failed (see above)");
        return ok ? 0 : ExitCodes.VALIDATION_FAILED;
    }

    /** Runs one graft command as a user would type it, printing the command line first. */
    private boolean step(PrintWriter out, String... args) {
        out.println("$ graft " + String.join(" ", args));
        out.flush();
        int code = Main.execute(out, new PrintWriter(System.err, true), args);
        out.flush();
        return code == 0;
    }
}
