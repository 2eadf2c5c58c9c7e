package graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Models;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A full-size torchvision VGG16 written by torch.onnx.export (opset 13, non-zero biases),
 * converted ONNX -> ONNX by graft: ONNX Runtime gives the original's outputs within 1e-6
 * relative, both match PyTorch's own forward, and every weight is byte-identical.
 */
class Vgg16TorchTest {
    @Test
    void convertedVgg16ComputesTheSameAndKeepsEveryWeightByte() throws Exception {
        Path original = Models.vgg16();
        Path dir = TestPaths.scratch("vgg16");
        Path out = dir.resolve("vgg16_graft.onnx");
        Cli.Result r = Cli.run("convert", original.toString(), out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Tensor x = OnnxRoundTripTest.npy(original.resolveSibling("vgg16_input.npy"));
        Tensor torch = OnnxRoundTripTest.npy(original.resolveSibling("vgg16_torch_output.npy"));
        Tensor a = OnnxRoundTripTest.run(original, Map.of("input", x)).get("logits");
        Tensor b = OnnxRoundTripTest.run(out, Map.of("input", x)).get("logits");
        assertThat(OnnxRoundTripTest.relError(b, a)).isLessThan(1e-6);
        assertThat(OnnxRoundTripTest.relError(b, torch)).isLessThan(1e-5);
        OnnxRoundTripTest.assertWeightsByteIdentical(original, out);
    }
}
