package graft.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue #17 at full size (slow): torchvision VGG16 (fixtures/onnx/make_vgg16.py, 138M parameters)
 * and ResNet50 (fixtures/onnx/make_torchvision.py, 10 classes), 224x224, seeded random weights,
 * both generated under target/. Each is quantized ({@code graft quantize}, 32 seeded
 * standard-normal calibration inputs: no images, the weights are random) and halved
 * ({@code convert --fp16}); every output passes {@code onnx.checker} (full) and the schema check of
 * fixtures/onnx/check_onnx.py; the FP16 weights are exactly numpy's {@code float16(w)}
 * (fixtures/deploy/fp16_oracle.py); ONNX Runtime runs all three on 256 seeded uniform [-1, 1]
 * inputs and the top-1 agreement with FP32 is reported and bounded.
 */
@Tag("slow")
class FullSizeDeployTest {
    static final int N = 256;
    static final int BATCH = 8;

    record Agreement(int int8, int fp16) {
    }

    static Agreement check(Path src, String name) throws Exception {
        Path dir = TestPaths.scratch("deploy-full-" + name);
        Path calib = dir.resolve("calib.npy");
        Python.run(QuantizeTest.ORACLE, "calib", calib.toString(), "32", "3", "224", "224", "1");
        Path q = dir.resolve(name + "_int8.onnx");
        Cli.Result c = Cli.run("quantize", src.toString(), q.toString(), "--calibration", calib.toString(), "--quiet");
        assertThat(c.code()).as(c.err()).isZero();
        System.out.println(name + ": " + c.out().lines().limit(2).reduce((a, b) -> a + "; " + b).orElse(""));
        Path h = dir.resolve(name + "_fp16.onnx");
        Cli.Result f = Cli.run("convert", src.toString(), h.toString(), "--fp16", "--quiet");
        assertThat(f.code()).as(f.err()).isZero();
        String w = Python.run(10, TimeUnit.MINUTES, Fp16Test.ORACLE, "weights", src.toString(), h.toString());
        System.out.println(name + " fp16 weights vs numpy float16(w): " + w.strip());
        assertThat(w).startsWith("halved");
        assertThat(Integer.parseInt(w.trim().split(" ")[1])).isGreaterThan(0);
        Path list = dir.resolve("list.txt");
        Files.writeString(list, q + "\n" + h + "\n");
        String checked = Python.run(10, TimeUnit.MINUTES, TestPaths.fixtures().resolve("onnx/check_onnx.py"), list.toString()).strip();
        System.out.println(name + " onnx.checker (full): " + checked.replace('\n', ';'));
        assertThat(checked.lines().filter(l -> l.startsWith("OK")).count()).as(checked).isEqualTo(2);

        float[][] y = logits(src);
        float[][] y8 = logits(q);
        float[][] y16 = logits(h);
        int a8 = agree(y, y8, false);
        int a16 = agree(y, y16, false);
        long classes = java.util.Arrays.stream(y).mapToInt(Fp16Test::argmax).distinct().count();
        System.out.printf("%s: top-1 agreement with FP32 on %d seeded inputs: INT8 %d/%d, FP16 %d/%d (FP32 predicts %d distinct classes); "
                + "sizes FP32 %,d INT8 %,d FP16 %,d bytes%n", name, N, a8, N, a16, N, classes, Files.size(src), Files.size(q), Files.size(h));
        // random weights favour one class for every input: the same with each class's mean logit over the N inputs taken away
        long centred = java.util.Arrays.stream(centre(y)).mapToInt(Fp16Test::argmax).distinct().count();
        System.out.printf("%s: centred top-1 agreement (each model's per-class mean over the %d inputs subtracted; FP32 then predicts %d "
                + "classes): INT8 %d/%d, FP16 %d/%d; mean |INT8 - FP32| %.3g, |FP16 - FP32| %.3g, of the FP32 logits' spread %.3g%n", name, N,
                centred, agree(y, y8, true), N, agree(y, y16, true), N, meanDiff(y, y8), meanDiff(y, y16), spread(y));
        return new Agreement(a8, a16);
    }

    static int agree(float[][] a, float[][] b, boolean centred) {
        float[][] x = centred ? centre(a) : a;
        float[][] z = centred ? centre(b) : b;
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            n += Fp16Test.argmax(x[i]) == Fp16Test.argmax(z[i]) ? 1 : 0;
        }
        return n;
    }

    /** Each class's logit minus its mean over the inputs. */
    static float[][] centre(float[][] y) {
        int k = y[0].length;
        double[] m = new double[k];
        for (float[] r : y) {
            for (int c = 0; c < k; c++) {
                m[c] += r[c] / (double) y.length;
            }
        }
        float[][] o = new float[y.length][k];
        for (int i = 0; i < y.length; i++) {
            for (int c = 0; c < k; c++) {
                o[i][c] = (float) (y[i][c] - m[c]);
            }
        }
        return o;
    }

    static double meanDiff(float[][] a, float[][] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            for (int c = 0; c < a[i].length; c++) {
                d += Math.abs(a[i][c] - b[i][c]);
            }
        }
        return d / (a.length * a[0].length);
    }

    /** Mean |logit - its class's mean over the inputs|. */
    static double spread(float[][] y) {
        float[][] c = centre(y);
        double d = 0;
        for (float[] r : c) {
            for (float v : r) {
                d += Math.abs(v);
            }
        }
        return d / (c.length * c[0].length);
    }

    /** Logits of each of the N seeded inputs (batches of 8, seeds 1000 + batch). */
    static float[][] logits(Path model) {
        List<float[]> r = new ArrayList<>();
        try (OrtRunner run = OrtRunner.open(model, Device.CPU)) {
            String in = run.inputs().keySet().iterator().next();
            for (int b = 0; b < N / BATCH; b++) {
                Tensor x = Tensor.random(DataType.FLOAT, new long[] {BATCH, 3, 224, 224}, 1000 + b);
                float[] y = run.run(Map.of(in, x)).values().iterator().next().toFloats();
                int k = y.length / BATCH;
                for (int i = 0; i < BATCH; i++) {
                    r.add(Fp16Test.row(y, i, k));
                }
            }
        }
        return r.toArray(float[][]::new);
    }

    @Test
    void vgg16() throws Exception {
        Path dir = TestPaths.root().resolve("target/models/vgg16");
        if (!Files.exists(dir.resolve("vgg16.onnx"))) {
            Python.run(10, TimeUnit.MINUTES, TestPaths.fixtures().resolve("onnx/make_vgg16.py"), dir.toString());
        }
        Agreement a = check(dir.resolve("vgg16.onnx"), "vgg16");
        assertThat(a.fp16).isGreaterThanOrEqualTo(250);
        assertThat(a.int8).isGreaterThanOrEqualTo(230);
    }

    @Test
    void resnet50() throws Exception {
        Path dir = TestPaths.root().resolve("target/torchvision");
        Python.run(10, TimeUnit.MINUTES, TestPaths.fixtures().resolve("onnx/make_torchvision.py"), dir.toString(), "resnet50:224");
        Agreement a = check(dir.resolve("resnet50.onnx"), "resnet50");
        assertThat(a.fp16).isGreaterThanOrEqualTo(250);
        assertThat(a.int8).isGreaterThanOrEqualTo(230);
    }
}
