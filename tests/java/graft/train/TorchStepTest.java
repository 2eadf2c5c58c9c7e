package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.Graph;
import graft.onnx.OnnxImporter;
import graft.runtime.Device;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One and ten training steps of a VGG-style CNN (two conv blocks, head with dropout disabled)
 * against torch.optim given identical weights (the ONNX file torch exported), batches and
 * hyper-parameters ({@code fixtures/train/torch_steps.py}). Parameters after one step agree
 * within 1e-5 and after ten steps within 1e-4, relative to each tensor's largest magnitude.
 * The "wide" variant (128-channel convolutions, 6x6 and odd 3x3 planes) runs its convolutions'
 * forward pass, input gradient and weight gradient through {@link Winograd}.
 */
class TorchStepTest {
    static Path oracle() {
        return oracle("");
    }

    static Path oracle(String variant) {
        Path out = TestPaths.root().resolve("target/fixtures/train/torch_steps" + (variant.isEmpty() ? "" : "_" + variant));
        if (!Files.exists(out.resolve("adam/loss.txt"))) {
            if (variant.isEmpty()) {
                Python.run(TestPaths.fixtures().resolve("train/torch_steps.py"), out.toString());
            } else {
                Python.run(TestPaths.fixtures().resolve("train/torch_steps.py"), out.toString(), variant);
            }
        }
        return out;
    }

    static Optimizer optimizer(String name) {
        return switch (name) {
            case "sgd" -> Optimizer.sgd(0.9, true, 1e-3);
            case "rmsprop" -> Optimizer.rmsprop(0.9, 1e-6, 1e-3);
            default -> Optimizer.adam(0.9, 0.999, 1e-6, 1e-3);
        };
    }

    static double lr(String name) {
        return name.equals("sgd") ? 0.05 : 0.001;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "rmsprop", "adam"})
    void matchesTorch(String opt) {
        check(oracle(), opt);
    }

    /**
     * SGD only: RMSprop's and Adam's first step divides by |g| (about sign(g) * lr), which makes
     * parameters whose gradient is near eps sensitive to the last bit of g; with these 128-channel
     * layers even the direct convolutions miss 1e-5 there (1.9e-5), so that is no test of the
     * convolution. The update itself (p1 - p0) is compared as well: the parameters alone would
     * hide gradient errors behind lr * g being small against p. Measured on the wide model:
     * 1.2e-4 with F(4x4, 3x3), 6.1e-5 with F(2x2, 3x3) and with the direct convolutions
     * (GRAFT_WINOGRAD=0), the float32 rounding of p1 - p0.
     */
    @Test
    void winogradMatchesTorch() {
        Path dir = oracle("wide");
        long winograd = TrainingStep.build(OnnxImporter.read(dir.resolve("model.onnx")),
                new TrainingStep.Spec(Loss.SOFTMAX_CROSS_ENTROPY, optimizer("sgd"), false, false)).graph().nodes().stream()
                .filter(n -> n.outputs().stream().anyMatch(o -> o.endsWith("__winograd_tiles"))).count();
        assertThat(winograd).as("convolutions through Winograd").isEqualTo(Winograd.enabled() ? 3 : 0);
        check(dir, "sgd");
    }

    private static void check(Path dir, String opt) {
        Graph model = OnnxImporter.read(dir.resolve("model.onnx"));
        TrainingStep.Built step = TrainingStep.build(model,
                new TrainingStep.Spec(Loss.SOFTMAX_CROSS_ENTROPY, optimizer(opt), false, false));
        assertThat(step.params()).hasSize(12);
        List<String> torchLoss = read(dir.resolve(opt + "/loss.txt"));
        try (StepSession s = new StepSession(step, null, Device.CPU)) {
            Map<String, float[]> initial = s.snapshot();
            for (int k = 0; k < 10; k++) {
                Npy.Array x = Npy.read(dir.resolve("x" + k + ".npy"));
                Npy.Array y = Npy.read(dir.resolve("labels" + k + ".npy"));
                long[] labels = new long[(int) y.count()];
                y.data().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(labels);
                StepSession.Out out = s.step(FloatBuffer.wrap(x.toFloats()), x.shape(), labels, (float) lr(opt));
                assertThat((double) out.loss()).as("loss of step %d", k + 1)
                        .isCloseTo(Double.parseDouble(torchLoss.get(k)), org.assertj.core.data.Percentage.withPercentage(1e-3));
                if (k == 0 || k == 9) {
                    double tol = k == 0 ? 1e-5 : 1e-4;
                    Map<String, float[]> snap = s.snapshot();
                    double worst = 0;
                    for (String p : step.params()) {
                        float[] want = Npy.read(dir.resolve(opt + "/step" + (k + 1) + "/" + p + ".npy")).toFloats();
                        double err = relErr(snap.get(p), want);
                        worst = Math.max(worst, err);
                        assertThat(err).as("%s %s after %d steps", opt, p, k + 1).isLessThan(tol);
                    }
                    System.out.printf("%s: after %d steps largest relative parameter difference to torch %.2e%n", opt, k + 1, worst);
                    if (k == 0) {
                        double worstUpdate = 0;
                        for (String p : step.params()) {
                            float[] want = Npy.read(dir.resolve(opt + "/step1/" + p + ".npy")).toFloats();
                            double err = relErr(minus(snap.get(p), initial.get(p)), minus(want, initial.get(p)));
                            worstUpdate = Math.max(worstUpdate, err);
                            assertThat(err).as("%s %s: first update", opt, p).isLessThan(3e-4);
                        }
                        System.out.printf("%s: first update (p1 - p0) largest relative difference to torch %.2e%n", opt,
                                worstUpdate);
                    }
                }
            }
        }
    }

    static float[] minus(float[] a, float[] b) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] - b[i];
        }
        return r;
    }

    static double relErr(float[] got, float[] want) {
        return graft.testing.Errors.relativeToMagnitude(got, want);
    }

    static List<String> read(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
