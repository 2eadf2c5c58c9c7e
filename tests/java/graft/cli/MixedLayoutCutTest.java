package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.DataType;
import graft.ir.Tensor;
import graft.keras.TfjsOracle;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Keras model that mixes data formats (corpus tfkeras cnn2d_41: a channels_first input and
 * DepthwiseConv2D, then channels_last ZeroPadding2D/UpSampling2D/Cropping2D/MaxPooling2D): an
 * intermediate tensor handed to the user, by {@code features --upto L} or by a model cut after L
 * with {@code surgery}, is in the layout Keras's layer L gives (here NHWC, from a model whose input
 * is NCHW). Oracle: TensorFlow.js's output of layer L; shapes must be equal, values within 1e-5.
 * Before the fix both wrote the IR's NCHW tensor ([1, 10, 8, 15] for Keras's [1, 8, 15, 10]).
 */
class MixedLayoutCutTest {
    static final Path MODEL = TestPaths.shared().resolve("corpus/keras/tfkeras/cnn2d_41.h5");
    static final String LAYER = "max_pooling2d_22";

    @Test
    void featuresAndACutModelGiveKerasLayersOwnLayout() throws IOException {
        Path dir = TestPaths.scratch("mixed-layout-cut");
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 3, 10, 10}, 41);
        Path in = dir.resolve("x.npy");
        Npy.write(in, x.dtype(), x.shape(), x.data(), true);
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> ref = TfjsOracle.predict(List.of(new TfjsOracle.Job(MODEL, null, List.of(x), LAYER)), dir.resolve("tfjs"), errors);
        assertThat(errors).containsOnlyNulls();
        Tensor want = ref.get(0).get(0);
        assertThat(want.shape()).containsExactly(2, 8, 15, 10);

        Path labels = dir.resolve("labels.npy");
        java.nio.ByteBuffer lb = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        lb.putLong(0).putLong(1).flip();
        Npy.write(labels, DataType.INT64, new long[] {2}, lb, true);
        Path feats = dir.resolve("f.npy");
        Cli.Result f = Cli.run("features", MODEL.toString(), in.toString(), "--labels", labels.toString(), "--upto", LAYER, "-o",
                feats.toString(), "--force");
        assertThat(f.code()).as(f.out() + f.err()).isZero();
        check(Npy.read(feats), want);

        Path cut = dir.resolve("cut.onnx");
        Cli.Result s = Cli.run("surgery", MODEL.toString(), "--edit", "cut-after " + LAYER, "-o", cut.toString(), "--force");
        assertThat(s.code()).as(s.out() + s.err()).isZero();
        Path out = dir.resolve("run");
        Cli.Result r = Cli.run("run", cut.toString(), "--input", "input_42=" + in, "--out", out.toString());
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        try (var files = java.nio.file.Files.list(out)) {
            Path o = files.filter(p -> p.toString().endsWith(".npy")).findFirst().orElseThrow();
            check(Npy.read(o), want);
        }
    }

    static void check(Npy.Array a, Tensor want) {
        assertThat(a.shape()).containsExactly(want.shape());
        assertThat(TfjsOracle.relError(new Tensor(a.dtype(), a.shape(), a.data()), want)).isLessThan(1e-5);
    }
}
