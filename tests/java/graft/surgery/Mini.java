package graft.surgery;

import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.onnx.OnnxFormat;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The bundled surgery models (fixtures/surgery/make_vgg16_mini.py) and ONNX Runtime runs of edited graphs. */
final class Mini {
    private Mini() {
    }

    static Path path(String name) {
        return TestPaths.fixtures().resolve("surgery/" + name + ".onnx");
    }

    static Graph load(String name) {
        return new OnnxFormat().read(path(name), Options.none());
    }

    static Path write(Graph g, Path file) {
        new OnnxFormat().write(g, file, Options.none().set("force", true));
        return file;
    }

    /** Runs {@code model} in ONNX Runtime on one input; returns the named outputs (all when none named). */
    static Map<String, Tensor> run(Path model, String input, Tensor x, String... outputs) {
        try (OrtRunner r = OrtRunner.open(model, Device.CPU)) {
            return r.run(Map.of(input, x), List.of(outputs));
        }
    }

    /** max |a - b| / max |b|: the relative error the brief's tolerances are stated in. */
    static double relError(float[] got, float[] want) {
        return graft.testing.Errors.relativeToMagnitude(got, want);
    }

}
