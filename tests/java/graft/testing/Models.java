package graft.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Large models generated on demand by fixture scripts and cached under target/models. */
public final class Models {
    private Models() {
    }

    /** torchvision VGG16 exported by PyTorch at opset 13 (528 MB), with input and PyTorch's output. */
    public static synchronized Path vgg16() {
        Path dir = TestPaths.root().resolve("target/models/vgg16");
        Path model = dir.resolve("vgg16.onnx");
        if (!Files.exists(dir.resolve("vgg16_torch_output.npy"))) {
            org.junit.jupiter.api.Assumptions.assumeTrue(Python.has("torchvision"), "python3-torchvision is not installed; .ci/run installs it");
            Python.run(TestPaths.fixtures().resolve("onnx/make_vgg16.py"), dir.toString());
        }
        return model;
    }
}
