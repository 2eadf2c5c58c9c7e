package graft.validate;

import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The VGG16-topology models of fixtures/validate/make_vgg.py (Keras layer names; correct,
 * fc1-permuted, block3-padding and NHWC variants, an input and PyTorch's output), generated on
 * first use and cached under target/models/.
 */
public final class VggFixtures {
    private VggFixtures() {
    }

    /** Channel widths / 8 at 64x64 (1.5 M parameters, generated in about 2 s): the default suite's. */
    public static Path small() {
        return make(8, 64);
    }

    /** Full-width VGG16 at 224x224 (138 M parameters, 528 MB): slow tests and the benchmark. */
    public static Path full() {
        return make(1, 224);
    }

    static synchronized Path make(int divisor, int size) {
        Path dir = TestPaths.root().resolve("target/models/validate-vgg-w" + divisor + "-s" + size);
        if (!Files.exists(dir.resolve("torch_output.npy"))) {
            org.junit.jupiter.api.Assumptions.assumeTrue(Python.has("torch") && Python.has("onnx"),
                    "python3-torch and python3-onnx are not installed; .ci/run installs them");
            try {
                Files.createDirectories(dir);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            Python.run(TestPaths.fixtures().resolve("validate/make_vgg.py"), dir.toString(), Integer.toString(divisor), Integer.toString(size));
        }
        return dir;
    }
}
