package graft.cli;

import graft.io.Options;
import graft.ir.Graph;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Loads the classes of the common paths once, so that the launcher's class-data sharing archive
 * (made at the exit of this run) holds them: reads the bundled ONNX model and writes and reads it
 * back as ONNX, Keras and Caffe into a temporary folder. Hidden; the launcher runs it after a build.
 */
@Command(name = "warmup", hidden = true, description = "Load the common code paths (used by the launcher after a build).")
final class WarmupCommand implements Callable<Integer> {
    @Option(names = "--fixtures", defaultValue = "${sys:graft.home:-.}/fixtures")
    Path fixtures;

    @Override
    public Integer call() throws Exception {
        Path model = fixtures.resolve("onnx/small_vgg.onnx");
        if (!Files.isRegularFile(model)) {
            return 0;
        }
        Path dir = Files.createTempDirectory("graft-warmup");
        try {
            Graph g = ModelLoader.load(model, null, Options.none());
            graft.ir.LayerTable.of(g);
            for (String name : List.of("w.onnx", "w.h5", "w.prototxt")) {
                Path out = dir.resolve(name);
                Formats.forFile(out, null).write(g, out, Options.none().set("inputs", List.of(model)));
                Options read = name.endsWith(".prototxt") ? Options.none().set("weights", dir.resolve("w.caffemodel")) : Options.none();
                ModelLoader.load(out, null, read);
            }
            // the convert command itself (its options, progress and summary classes), and a Keras
            // source written to ONNX: the kernel layout transposes every Keras conversion runs
            java.io.PrintWriter quiet = new java.io.PrintWriter(java.io.Writer.nullWriter());
            int code = Main.execute(quiet, quiet, "convert", dir.resolve("w.h5").toString(), dir.resolve("k.onnx").toString());
            if (code != 0) {
                throw new IllegalStateException("warmup: graft convert of the Keras copy exited " + code);
            }
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return 0;
    }
}
