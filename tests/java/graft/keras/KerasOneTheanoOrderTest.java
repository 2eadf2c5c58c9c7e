package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.DataType;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A Keras 1 Sequential saved with dim_ordering 'th' (fixtures/keras/make_keras1_th.py: Keras 1
 * names, OIHW kernels, channels_first input, Flatten in C,H,W order) converts and matches a
 * direct numpy evaluation of the same Keras 1 semantics within 1e-5 relative.
 */
class KerasOneTheanoOrderTest {
    @Test
    void keras1ChannelsFirstSequentialMatchesNumpy() {
        Path scratch = TestPaths.scratch("keras1-th");
        Path h5 = scratch.resolve("keras1_th.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_keras1_th.py"), h5.toString());
        Path onnx = scratch.resolve("keras1_th.onnx");
        Cli.Result r = Cli.run("convert", h5.toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 3, 6, 6}, 21);
        Path in = scratch.resolve("x.npy");
        Path ref = scratch.resolve("y.npy");
        Npy.write(in, x.dtype(), x.shape(), x.data(), true);
        Python.run(TestPaths.fixtures().resolve("keras/keras1_th_oracle.py"), h5.toString(), in.toString(), ref.toString());
        Npy.Array want = Npy.read(ref);
        try (OrtRunner ort = OrtRunner.open(onnx, Device.CPU)) {
            Tensor got = ort.run(Map.of(ort.inputs().keySet().iterator().next(), x)).values().iterator().next();
            assertThat(got.shape()).isEqualTo(want.shape());
            assertThat(TfjsOracle.relError(got, Tensor.ofFloats(want.shape(), want.toFloats()))).isLessThanOrEqualTo(1e-5);
        }
    }
}
