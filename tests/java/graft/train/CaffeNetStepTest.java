package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import graft.caffe.CaffeFormat;
import graft.io.Npy;
import graft.io.Options;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.onnx.OnnxFormat;
import graft.onnx.OnnxImporter;
import graft.runtime.Device;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * One step of the Flickr Style recipe against PyTorch ({@code fixtures/train/caffenet_step.py}):
 * graft imports the Caffe net with weights from its fillers and writes it as ONNX; torch builds
 * CaffeNet from its own description, loads those weights by name and takes one SGD step
 * (momentum 0.9, weight decay 5e-4, base_lr 0.001, lr_mult 1/2 and decay_mult 1/0, fc8_flickr
 * 10/20) on a fixed batch of two, dropout off; graft takes the same step. Compared, relative to
 * each tensor's largest magnitude: the logits before the step, every parameter after it
 * (1e-5, as {@link TorchStepTest}) and every update p1 - p0 (3e-4, as TorchStepTest: the
 * float32 rounding of a difference of nearly equal numbers).
 *
 * <p>The mini net ({@code fixtures/train/caffenet_mini.prototxt}) has CaffeNet's layer types
 * (strided and grouped conv, ceil MAX pooling that adds a row, LRN across channels, Caffe's
 * WITHIN_CHANNEL LRN, dropout, the multipliers) at 35x35; the real Flickr Style train_val at
 * 227x227 (57M parameters) is in the slow profile.
 */
class CaffeNetStepTest {
    static final double PARAMS = 1e-5;
    static final double UPDATES = 3e-4;

    @Test
    void miniMatchesTorch() {
        check("mini", TestPaths.fixtures().resolve("train/caffenet_mini.prototxt"));
    }

    @Tag("slow")
    @Test
    void flickrStyleCaffeNetMatchesTorch() {
        Path net = TestPaths.corpus().resolve("caffe/finetune_flickr_style/train_val.prototxt");
        TestPaths.assumeExists(net, "the shared Caffe corpus");
        check("full", net);
    }

    private static void check(String variant, Path prototxt) {
        Path dir = oracle(variant, prototxt);
        Graph model = OnnxImporter.read(dir.resolve("model.onnx"));
        assertThat(model.nodes().stream().filter(n -> n.opType().equals("LRN")).count())
                .as("LRN layers in the step").isEqualTo(variant.equals("full") ? 2 : 1);
        TrainingStep.Built step = TrainingStep.build(model,
                new TrainingStep.Spec(Loss.SOFTMAX_CROSS_ENTROPY, Optimizer.sgd(0.9, false, 5e-4), false, false));
        assertThat(step.params()).as("every conv and fc layer trains").hasSize(16);
        Npy.Array x = Npy.read(dir.resolve("x.npy"));
        long[] labels = new long[2];
        Npy.read(dir.resolve("labels.npy")).data().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(labels);
        try (StepSession s = new StepSession(step, null, Device.CPU)) {
            Map<String, float[]> initial = s.snapshot();
            long t0 = System.nanoTime();
            StepSession.Out out = s.step(FloatBuffer.wrap(x.toFloats()), x.shape(), labels, 0.001f);
            System.out.printf("%s: one step in %.2f s%n", variant, (System.nanoTime() - t0) / 1e9);
            double torchLoss = Double.parseDouble(TorchStepTest.read(dir.resolve("loss.txt")).get(0));
            assertThat((double) out.loss()).as("loss").isCloseTo(torchLoss, org.assertj.core.data.Percentage.withPercentage(1e-3));
            double logits = TorchStepTest.relErr(out.logits(), Npy.read(dir.resolve("logits.npy")).toFloats());
            System.out.printf("%s: loss %.6f (torch %.6f), logits %.2e%n", variant, out.loss(), torchLoss, logits);
            assertThat(logits).as("logits before the step").isLessThan(PARAMS);
            Map<String, float[]> after = s.snapshot();
            for (String p : step.params()) {
                float[] want = Npy.read(dir.resolve("step1/" + p + ".npy")).toFloats();
                double param = TorchStepTest.relErr(after.get(p), want);
                double update = TorchStepTest.relErr(TorchStepTest.minus(after.get(p), initial.get(p)),
                        TorchStepTest.minus(want, initial.get(p)));
                double size = maxAbs(TorchStepTest.minus(want, initial.get(p)));
                System.out.printf("%s: %-18s parameter %.2e  update %.2e  (largest torch update %.2e)%n", variant, p, param,
                        update, size);
                assertThat(size).as("%s moved", p).isGreaterThan(0);
                assertThat(param).as("%s after one step", p).isLessThan(PARAMS);
                assertThat(update).as("%s: update p1 - p0", p).isLessThan(UPDATES);
            }
        }
    }

    /**
     * graft's import of the net (TRAIN phase, batch 2) written as ONNX, then torch's step on its
     * weights; kept under target/ and rebuilt when missing or older than the prototxt or the script.
     */
    static Path oracle(String variant, Path prototxt) {
        Path dir = TestPaths.root().resolve("target/fixtures/train/caffenet_step_" + variant);
        Path done = dir.resolve("step1/fc8_flickr/bias.npy");
        Path script = TestPaths.fixtures().resolve("train/caffenet_step.py");
        if (!Files.exists(done) || olderThan(done, prototxt) || olderThan(done, script)) {
            Graph g = new CaffeFormat().read(prototxt, Options.none().set("phase", "TRAIN"));
            Value in = g.inputs().get(0);
            long[] shape = g.type(in.name()).shape().toArray();
            shape[0] = 2;
            g.inputs().set(0, new Value(in.name(), new TensorType(DataType.FLOAT, Shape.of(shape))));
            try {
                Files.createDirectories(dir);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            new OnnxFormat().write(g, dir.resolve("model.onnx"), Options.none().set("force", true));
            System.out.print(Python.run(script, dir.toString(), variant));
        }
        return dir;
    }

    private static boolean olderThan(Path a, Path b) {
        try {
            return Files.getLastModifiedTime(a).compareTo(Files.getLastModifiedTime(b)) < 0;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }
}
