package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.DataType;
import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * An ONNX model whose input is NHWC and whose first node transposes it (fixtures/cli/nhwc_symbolic.onnx,
 * as tf2onnx and graft's own Keras exports look): its activations are NCHW tensors in the file, so
 * {@code features --upto relu1} gives the file's own [N, 4, H, W] tensor. Before the fix graft
 * transposed it to NHWC because the model's input was NHWC (the rule for Keras models), and the
 * silent-output audit caught [1, 32, 32, 4] against the oracle's [1, 4, 32, 32] (CI, 2026-12-06).
 * Oracle: numpy on the weights read by the onnx package (transpose, 3x3 convolution with pad 1,
 * ReLU), values within 1e-5 relative.
 */
class OnnxNhwcFeaturesTest {
    static final String ORACLE = """
            import sys
            import numpy as np
            import onnx
            from onnx import numpy_helper
            m = onnx.load(sys.argv[1])
            w = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
            x = np.load(sys.argv[2]).astype(np.float64).transpose(0, 3, 1, 2)
            k, b = w["w"].astype(np.float64), w["b"].astype(np.float64)
            n, c, h, wd = x.shape
            p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
            y = np.zeros((n, k.shape[0], h, wd))
            for i in range(3):
                for j in range(3):
                    y += np.einsum("nchw,oc->nohw", p[:, :, i:i + h, j:j + wd], k[:, :, i, j])
            y = np.maximum(y + b[None, :, None, None], 0)
            np.save(sys.argv[3], y.astype(np.float32))
            """;

    @Test
    void featuresOfAnOnnxModelWithAnNhwcInputAreTheFilesOwnNchwTensor() throws IOException {
        Path model = TestPaths.root().resolve("fixtures/cli/nhwc_symbolic.onnx");
        Path dir = TestPaths.scratch("onnx-nhwc-features");
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 6, 5, 3}, 7);
        Path in = dir.resolve("x.npy");
        Npy.write(in, x.dtype(), x.shape(), x.data(), true);
        Path labels = dir.resolve("labels.npy");
        ByteBuffer lb = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        lb.putLong(0).putLong(1).flip();
        Npy.write(labels, DataType.INT64, new long[] {2}, lb, true);

        Path script = dir.resolve("oracle.py");
        Files.writeString(script, ORACLE);
        Path want = dir.resolve("want.npy");
        Python.run(script, model.toString(), in.toString(), want.toString());
        Npy.Array ref = Npy.read(want);
        assertThat(ref.shape()).containsExactly(2, 4, 6, 5);

        Path feats = dir.resolve("f.npy");
        Cli.Result f = Cli.run("features", model.toString(), in.toString(), "--labels", labels.toString(), "--upto", "relu1", "-o",
                feats.toString(), "--force");
        assertThat(f.code()).as(f.out() + f.err()).isZero();
        Npy.Array got = Npy.read(feats);
        assertThat(got.shape()).containsExactly(ref.shape());
        assertThat(graft.keras.TfjsOracle.relError(new Tensor(got.dtype(), got.shape(), got.data()),
                new Tensor(ref.dtype(), ref.shape(), ref.data()))).isLessThan(1e-5);
    }
}
