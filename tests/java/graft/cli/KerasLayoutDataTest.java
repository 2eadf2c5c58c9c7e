package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.io.Options;
import graft.ir.Graph;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Keras model takes NHWC input; features and finetune feed it the layout its input declares.
 * The model is the torch-exported VGG-style CNN written as Keras .h5 by graft; the oracle is ONNX
 * Runtime running the torch ONNX file itself on NCHW data: same features (within 1e-5; the Keras
 * model's in NHWC, as Keras's layer gives them), and the
 * same training history (loss, accuracy within 1e-4 relative).
 */
class KerasLayoutDataTest {
    static Path h5;

    @BeforeAll
    static void models() {
        FinetuneCommandTest.oracle();
        h5 = TestPaths.scratch("keras-layout-model").resolve("model.h5");
        Cli.Result c = Cli.run("convert", FinetuneCommandTest.model.toString(), h5.toString(), "--force");
        assertThat(c.code()).as(c.err()).isZero();
    }


    @Test
    void featuresOfAKerasModelEqualOnnxRuntimeOnNchwData() throws IOException {
        Path dir = TestPaths.scratch("keras-layout-features");
        Path data = FinetuneCommandTest.images(dir.resolve("data"), 3);
        Path k = dir.resolve("k.npy");
        Path o = dir.resolve("o.npy");
        Cli.Result rk = Cli.run("features", h5.toString(), data.toString(), "--upto", FinetuneCommandTest.lastPoolLayer(h5), "-o", k.toString());
        assertThat(rk.code()).as(rk.out() + rk.err()).isZero();
        Cli.Result ro = Cli.run("features", FinetuneCommandTest.model.toString(), data.toString(), "--upto",
                FinetuneCommandTest.lastPoolLayer(FinetuneCommandTest.model), "-o", o.toString());
        assertThat(ro.code()).as(ro.out() + ro.err()).isZero();
        Npy.Array a = Npy.read(k);
        Npy.Array b = Npy.read(o);
        // Keras's own pooling layer gives NHWC, the ONNX model's NCHW: the same numbers, each in its framework's layout
        long[] nchw = b.shape();
        assertThat(a.shape()).containsExactly(nchw[0], nchw[2], nchw[3], nchw[1]);
        float[] x = a.toFloats();
        float[] y = new float[x.length];
        graft.data.InputLayout.toNhwc(java.nio.FloatBuffer.wrap(b.toFloats()), nchw).get(y);
        assertThat(y).hasSameSizeAs(x);
        boolean nonZero = false;
        for (float v : y) {
            nonZero |= v != 0;
        }
        assertThat(nonZero).as("the features are not all zero").isTrue();
        assertThat(graft.testing.Errors.relativeToMagnitude(x, y)).isLessThan(1e-5);
    }

    @Test
    void finetuneOfAKerasModelTrainsAsTheOnnxModel() throws IOException {
        Path dir = TestPaths.scratch("keras-layout-finetune");
        Path data = FinetuneCommandTest.images(dir.resolve("data"), 6);
        String[] common = {"--epochs", "2", "--batch-size", "6", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9",
                "--no-dropout", "--val-fraction", "0.25", "--scale", "1/255", "--seed", "4"};
        Path ko = dir.resolve("k");
        Path oo = dir.resolve("o");
        Cli.Result rk = Cli.run(cat(new String[] {"finetune", h5.toString(), data.toString(), "-o", ko.toString()}, common));
        assertThat(rk.code()).as(rk.out() + rk.err()).isZero();
        Cli.Result ro = Cli.run(cat(new String[] {"finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", oo.toString()},
                common));
        assertThat(ro.code()).as(ro.out() + ro.err()).isZero();
        List<String> hk = Files.readAllLines(ko.resolve("history.csv"));
        List<String> ho = Files.readAllLines(oo.resolve("history.csv"));
        assertThat(hk).hasSize(3);
        for (int row = 1; row < 3; row++) {
            String[] a = hk.get(row).split(",");
            String[] b = ho.get(row).split(",");
            for (int col = 1; col <= 4; col++) {
                double u = Double.parseDouble(b[col]);
                assertThat(Double.parseDouble(a[col])).as("epoch %d col %d", row, col)
                        .isCloseTo(u, org.assertj.core.data.Offset.offset(1e-4 * Math.max(1, Math.abs(u))));
            }
        }
    }

    private static String[] cat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
