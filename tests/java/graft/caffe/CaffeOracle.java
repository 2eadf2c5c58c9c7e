package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.Map;

/** Helpers shared by the Caffe tests: OpenCV's forward, ONNX Runtime's, and their comparison. */
final class CaffeOracle {
    private CaffeOracle() {
    }

    static Path script(String name) {
        return TestPaths.fixtures().resolve("caffe").resolve(name);
    }

    /** OpenCV dnn's output for {@code input}, from the given prototxt and caffemodel. */
    static Tensor opencv(Path prototxt, Path caffemodel, Path input, Path dir) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Python.has("cv2"), "python3-opencv is not installed; .ci/run installs it");
        Path out = dir.resolve("opencv_" + prototxt.getFileName() + ".npy");
        Python.run(script("opencv_forward.py"), prototxt.toString(), caffemodel.toString(), input.toString(), out.toString());
        return npy(out);
    }

    static Tensor ort(Path onnx, String input, Tensor x) {
        try (OrtRunner r = OrtRunner.open(onnx, Device.CPU)) {
            Map<String, Tensor> out = r.run(Map.of(input, x));
            assertThat(out).hasSize(1);
            return out.values().iterator().next();
        }
    }

    static Tensor npy(Path p) {
        Npy.Array a = Npy.read(p);
        return new Tensor(a.dtype(), a.shape(), a.data());
    }

    /** max |a-b| / max |b|: the error relative to the output's magnitude. */
    static double relError(Tensor a, Tensor b) {
        return graft.testing.Errors.relativeToMagnitude(a, b);
    }
}
