package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import graft.caffe.CaffeFormat;
import graft.io.Npy;
import graft.io.Options;
import graft.ir.Graph;
import graft.onnx.OnnxFormat;
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

/**
 * Caffe's BatchNorm + Scale pair (every Caffe ResNet): the Scale layer's gamma and beta are
 * parameters Caffe trains, so fine-tuning trains them too, with Caffe's per-blob lr_mult (sc2's
 * gamma is frozen by {@code param { lr_mult: 0 }}, its beta trains). One SGD step (lr 0.1) on
 * {@code fixtures/train/bn_scale_mini.prototxt} against PyTorch ({@code bn_scale_step.py}, the
 * net built from its own description, graft's imported weights read by name): parameters after
 * the step within 1e-5 and updates within 3e-4 relative to their largest magnitude, as
 * {@link CaffeNetStepTest}.
 */
class CaffeScaleStepTest {
    @Test
    void scaleGammaAndBetaTrainAsInCaffe() throws Exception {
        Path prototxt = TestPaths.fixtures().resolve("train/bn_scale_mini.prototxt");
        Path dir = TestPaths.scratch("caffe-scale-step");
        Graph g = new CaffeFormat().read(prototxt, Options.none());
        new OnnxFormat().write(g, dir.resolve("model.onnx"), Options.none().set("force", true));
        System.out.print(Python.run(TestPaths.fixtures().resolve("train/bn_scale_step.py"), dir.toString()));
        Graph model = OnnxImporter.read(dir.resolve("model.onnx"));
        TrainingStep.Built step = TrainingStep.build(model,
                new TrainingStep.Spec(Loss.SOFTMAX_CROSS_ENTROPY, Optimizer.sgd(0, false, 0), false, false));
        assertThat(step.params()).containsExactlyInAnyOrder("conv1/weight", "sc1/scale", "sc1/bias", "conv2/weight", "sc2/bias",
                "fc/weight", "fc/bias");
        Npy.Array x = Npy.read(dir.resolve("x.npy"));
        long[] labels = new long[2];
        Npy.read(dir.resolve("labels.npy")).data().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(labels);
        try (StepSession s = new StepSession(step, null, Device.CPU)) {
            Map<String, float[]> initial = s.snapshot();
            StepSession.Out out = s.step(FloatBuffer.wrap(x.toFloats()), x.shape(), labels, 0.1f);
            double torchLoss = Double.parseDouble(Files.readAllLines(dir.resolve("loss.txt")).get(0));
            assertThat((double) out.loss()).as("loss").isCloseTo(torchLoss, org.assertj.core.data.Percentage.withPercentage(1e-3));
            assertThat(TorchStepTest.relErr(out.logits(), Npy.read(dir.resolve("logits.npy")).toFloats())).isLessThan(1e-5);
            Map<String, float[]> after = s.snapshot();
            for (String p : List.of("conv1/weight", "sc1/scale", "sc1/bias", "conv2/weight", "sc2/bias", "fc/weight", "fc/bias")) {
                float[] want = Npy.read(dir.resolve("step1/" + p.replace("/", "__") + ".npy")).toFloats();
                double param = TorchStepTest.relErr(after.get(p), want);
                double update = TorchStepTest.relErr(TorchStepTest.minus(after.get(p), initial.get(p)),
                        TorchStepTest.minus(want, initial.get(p)));
                float[] moved = TorchStepTest.minus(want, initial.get(p));
                double largest = 0;
                for (float v : moved) {
                    largest = Math.max(largest, Math.abs(v));
                }
                System.out.printf("%-13s parameter %.2e  update %.2e  (largest torch update %.2e)%n", p, param, update, largest);
                assertThat(largest).as("%s moved in torch", p).isGreaterThan(0);
                assertThat(param).as("%s after one step", p).isLessThan(1e-5);
                assertThat(update).as("%s: update p1 - p0", p).isLessThan(3e-4);
            }
        }
    }
}
