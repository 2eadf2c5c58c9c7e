package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Files saved by real Keras 3.15.1 (fixtures/keras/make_keras3_real.py, JAX backend) convert to
 * ONNX whose ONNX Runtime outputs equal Keras's own outputs for the seeded inputs saved beside
 * them (the oracle: Keras 3 itself is not in CI), within 1e-5 relative to the output's magnitude.
 *
 * <p>Seen failing before the fix: Keras 3's saving_lib names a layer's weight group from its
 * class (layers/conv2d, layers/conv2d_1, ...), not its name; graft looked groups up by layer name
 * and refused k3_functional and k3_hard_sigmoid ("layer 'stem' (Conv2D) has 0 weights in the
 * file"); k3_sequential only read because its layers kept their default names. And Keras 3's
 * 'hard_sigmoid' is relu6(x + 3) / 6, which graft read as Keras 2's clip(0.2 x + 0.5): with the
 * weight groups fixed, k3_hard_sigmoid differed from Keras by 0.068 relative (a silent wrong result).
 */
class KerasThreeSavedTest {
    @ParameterizedTest
    @ValueSource(strings = {"k3_functional", "k3_sequential", "k3_hard_sigmoid"})
    void realKeras3FileMatchesKerasOutputs(String name) {
        Path dir = TestPaths.fixtures().resolve("keras/keras3");
        Path onnx = TestPaths.scratch("keras3-saved").resolve(name + ".onnx");
        Cli.Result r = Cli.run("convert", "--force", dir.resolve(name + ".keras").toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(relError(onnx, dir.resolve(name + "_input.npy"), dir.resolve(name + "_output.npy"))).as(name).isLessThanOrEqualTo(1e-5);
    }

    /** ONNX Runtime on {@code onnx} for the saved input, against the saved output: max |a - b| / max |b|. */
    static double relError(Path onnx, Path input, Path output) {
        Npy.Array x = Npy.read(input);
        Npy.Array y = Npy.read(output);
        Tensor want = Tensor.ofFloats(y.shape(), y.toFloats());
        try (OrtRunner ort = OrtRunner.open(onnx, Device.CPU)) {
            Tensor got = ort.run(Map.of(ort.inputs().keySet().iterator().next(), Tensor.ofFloats(x.shape(), x.toFloats())))
                    .values().iterator().next();
            assertThat(got.shape()).isEqualTo(want.shape());
            return TfjsOracle.relError(got, want);
        }
    }
}
