package graft.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import graft.data.Idx;
import graft.data.Samples;
import graft.ir.DataType;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Real data for {@code --fp16} (issue #17): the Fashion-MNIST source CNN of the transfer study
 * (fixtures/train/fashion_source.py, PyTorch, classes 0-4) and its 5,000 test images of those
 * classes, scored by ONNX Runtime in float32 and in float16. Goal: at most 0.1 point lost.
 */
@Tag("slow")
class Fp16FashionTest {
    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

    static double[] accuracy(Path model, Samples test) {
        int n = test.size();
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        java.nio.FloatBuffer b = test.batch(all, null);
        float[] x = new float[b.remaining()];
        b.get(x);
        ByteBuffer bytes = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(x);
        Tensor in = new Tensor(DataType.FLOAT, test.batchShape(n), bytes);
        float[] logits;
        try (OrtRunner r = OrtRunner.open(model, Device.CPU)) {
            logits = r.run(Map.of(r.inputs().keySet().iterator().next(), in)).values().iterator().next().toFloats();
        }
        int k = logits.length / n;
        double[] predicted = new double[n];
        int right = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 1; j < k; j++) {
                if (logits[i * k + j] > logits[i * k + best]) {
                    best = j;
                }
            }
            predicted[i] = best;
            right += best == test.label(i) ? 1 : 0;
        }
        double[] r = new double[n + 1];
        r[0] = (double) right / n;
        System.arraycopy(predicted, 0, r, 1, n);
        return r;
    }

    @Test
    void halfPrecisionCostsAtMostATenthOfAPointOnRealImages() throws Exception {
        TestPaths.assumeExists(FASHION.resolve("t10k-images-idx3-ubyte.gz"), "Debian dataset-fashion-mnist");
        Path source = TestPaths.root().resolve("target/fixtures/train/fashion_source.onnx");
        if (!Files.exists(source)) {
            Files.createDirectories(source.getParent());
            Python.run(TestPaths.fixtures().resolve("train/fashion_source.py"), FASHION.toString(), source.toString());
        }
        Samples test = Idx.read(FASHION, "t10k").selectClasses(new long[] {0, 1, 2, 3, 4}, 0, 0)
                .preprocessed(graft.ir.Preprocessing.of(Map.of("preprocess.pixel_scale", "1/255")));
        Path half = TestPaths.scratch("fp16-fashion").resolve("fashion_fp16.onnx");
        Cli.Result c = Cli.run("convert", source.toString(), half.toString(), "--fp16");
        assertThat(c.code()).as(c.err()).isZero();
        double[] a = accuracy(source, test);
        double[] b = accuracy(half, test);
        int agree = 0;
        for (int i = 1; i < a.length; i++) {
            agree += a[i] == b[i] ? 1 : 0;
        }
        System.out.printf("Fashion-MNIST source CNN, %d test images of classes 0-4: float32 %.2f%%, float16 %.2f%%, top-1 agreement %d/%d; sizes %d -> %d bytes%n",
                test.size(), 100 * a[0], 100 * b[0], agree, test.size(), Files.size(source), Files.size(half));
        assertThat(test.size()).isEqualTo(5000);
        assertThat(a[0]).isGreaterThan(0.85);
        assertThat(a[0] - b[0]).isLessThanOrEqualTo(0.001);
    }
}
