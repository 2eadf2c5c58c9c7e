package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.Graph;
import graft.onnx.OnnxImporter;
import graft.runtime.Device;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One SGD step with BatchNormalization frozen (inference statistics, none updated) and in
 * training mode (batch statistics, running mean and variance updated with momentum), against
 * PyTorch's eval() and train() on the same weights and batch (fixtures/train/bn_steps.py): a
 * ResNet-style block (conv-BN-ReLU, residual Add) and a MobileNetV2-style inverted residual
 * (1x1 expand, depthwise 3x3, ReLU6, linear 1x1 project, Add). Every parameter and running
 * statistic after the step within 1e-5 of torch's, relative to the tensor's largest magnitude.
 */
class TorchBatchNormStepTest {
    static final double TOLERANCE = 1e-5;

    static Path oracle() {
        Path out = TestPaths.root().resolve("target/fixtures/train/bn_steps");
        if (!Files.exists(out.resolve("mobilenetv2/train/loss.txt"))) {
            Python.run(TestPaths.fixtures().resolve("train/bn_steps.py"), out.toString());
        }
        return out;
    }

    static Stream<Arguments> cases() {
        return Stream.of(Arguments.of("resnet", "frozen"), Arguments.of("resnet", "train"), Arguments.of("mobilenetv2", "frozen"),
                Arguments.of("mobilenetv2", "train"));
    }

    @ParameterizedTest(name = "{0} --bn {1}")
    @MethodSource("cases")
    void oneStepMatchesTorch(String model, String mode) throws IOException {
        Path dir = oracle().resolve(model);
        Graph g = OnnxImporter.read(dir.resolve("model.onnx"));
        TrainingStep.BatchNormMode bn = mode.equals("train") ? TrainingStep.BatchNormMode.TRAIN : TrainingStep.BatchNormMode.FROZEN;
        TrainingStep.Built step = TrainingStep.build(g, new TrainingStep.Spec(Loss.SOFTMAX_CROSS_ENTROPY, Optimizer.sgd(0, false, 0), false, false, bn));
        Npy.Array x = Npy.read(dir.resolve("x.npy"));
        Npy.Array y = Npy.read(dir.resolve("labels.npy"));
        long[] labels = new long[(int) y.count()];
        y.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(labels);
        double torchLoss = Double.parseDouble(Files.readAllLines(dir.resolve(mode + "/loss.txt")).get(0));
        double worstParam = 0;
        double worstStat = 0;
        double worstUpdate = 0;
        int params = 0;
        int stats = 0;
        double loss;
        try (StepSession s = new StepSession(step, null, Device.CPU)) {
            Map<String, float[]> before = s.snapshot();
            StepSession.Out out = s.step(FloatBuffer.wrap(x.toFloats()), x.shape(), labels, 0.1f);
            loss = out.loss();
            assertThat((double) out.loss()).as("loss").isCloseTo(torchLoss, org.assertj.core.data.Offset.offset(1e-5 * Math.abs(torchLoss)));
            Map<String, float[]> after = s.snapshot();
            Graph trained = s.trained(g.copy());
            try (Stream<Path> files = Files.list(dir.resolve(mode))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".npy")).sorted().toList()) {
                    String name = f.getFileName().toString().replace(".npy", "");
                    float[] want = Npy.read(f).toFloats();
                    boolean stat = name.endsWith("running_mean") || name.endsWith("running_var");
                    // frozen: the statistics are not carried and must come out as they went in
                    float[] got = after.containsKey(name) ? after.get(name) : g.initializer(name).toFloats();
                    double err = TorchStepTest.relErr(got, want);
                    assertThat(err).as("%s %s %s", model, mode, name).isLessThanOrEqualTo(TOLERANCE);
                    assertThat(TorchStepTest.relErr(trained.initializer(name).toFloats(), want)).as("written back: " + name).isLessThanOrEqualTo(TOLERANCE);
                    if (stat) {
                        worstStat = Math.max(worstStat, err);
                        stats++;
                        assertThat(after.containsKey(name)).as(name + " carried").isEqualTo(mode.equals("train"));
                    } else {
                        worstParam = Math.max(worstParam, err);
                        params++;
                        worstUpdate = Math.max(worstUpdate, TorchStepTest.relErr(TorchStepTest.minus(got, before.get(name)),
                                TorchStepTest.minus(want, before.get(name))));
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "%s --bn %s: loss %.7f (torch %.7f); %d parameters within %.2e, update (p1 - p0) within %.2e; "
                + "%d running statistics within %.2e of torch%n", model, mode, loss, torchLoss, params, worstParam, worstUpdate, stats, worstStat);
        assertThat(params).isEqualTo(model.equals("resnet") ? 11 : 14);
        assertThat(stats).isEqualTo(model.equals("resnet") ? 6 : 8);
        assertThat(step.statistics()).hasSize(mode.equals("train") ? stats : 0);
    }
}
