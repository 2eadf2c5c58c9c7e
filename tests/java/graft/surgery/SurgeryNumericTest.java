package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Edits checked by numbers, in ONNX Runtime (an implementation graft did not write): the
 * original model runs with the tensor of interest exposed as an extra output, the edited model
 * runs on the same inputs, and the two are compared within the stated tolerance.
 */
class SurgeryNumericTest {
    static final long[] VGG_IN = {2, 3, 224, 224};

    /** The original with an intermediate value exposed as a second graph output. */
    private static Path exposing(Graph g, String value, Path file) {
        Graph c = g.copy();
        c.outputs().add(new Value(value, c.type(value)));
        return Mini.write(c, file);
    }

    @Test
    void cutAfterBlock2PoolGivesTheOriginalsBlock2PoolActivation() {
        Path dir = TestPaths.scratch("surgery-cut");
        Graph g = Mini.load("vgg16_mini");
        Path original = exposing(g, "block2_pool", dir.resolve("original.onnx"));
        Path cut = Mini.write(Surgery.on(g).cutAfter("block2_pool").apply(), dir.resolve("cut.onnx"));
        Tensor x = Tensor.random(DataType.FLOAT, VGG_IN, 11);
        float[] want = Mini.run(original, "input_1", x, "block2_pool").get("block2_pool").toFloats();
        Tensor got = Mini.run(cut, "input_1", x).values().iterator().next();
        assertThat(got.shape()).containsExactly(2, 8, 56, 56);
        double err = Mini.relError(got.toFloats(), want);
        System.out.printf(Locale.ROOT, "cut-after block2_pool: max relative error %.3g (tolerance 1e-6)%n", err);
        assertThat(err).isLessThanOrEqualTo(1e-6);
    }

    @Test
    void composeReproducesAPairWithNothingBetweenThem() {
        Path dir = TestPaths.scratch("surgery-compose");
        Graph g = Mini.load("conv_pair_linear");
        Graph one = Surgery.on(g).replaceConvPair("conv_a", "conv_b", 5, "compose").apply();
        assertThat(Layers.names(one)).containsExactly("conv_a");
        assertThat(one.initializer(Layers.weighted(one, "conv_a").input(1)).shape()).containsExactly(5, 3, 5, 5);
        Path a = Mini.write(g, dir.resolve("pair.onnx"));
        Path b = Mini.write(one, dir.resolve("one.onnx"));
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {3, 3, 20, 20}, 5);
        float[] want = Mini.run(a, "input", x).values().iterator().next().toFloats();
        float[] got = Mini.run(b, "input", x).values().iterator().next().toFloats();
        double err = Mini.relError(got, want);
        System.out.printf(Locale.ROOT, "compose, no activation between: max relative error %.3g (tolerance 1e-5)%n", err);
        assertThat(err).isLessThanOrEqualTo(1e-5);
    }

    /**
     * With nothing between the convolutions an exact 5x5 kernel exists, so least squares must
     * find it: checks the normal-equation solver against the pair run by ONNX Runtime. The
     * calibration inputs come from a folder of .npy files, as a user would give them.
     */
    @Test
    void fitRecoversTheExactKernelOfALinearPair() {
        Path dir = TestPaths.scratch("surgery-fit-linear");
        Path cal = dir.resolve("calibration");
        for (int i = 0; i < 2; i++) {
            Tensor t = Tensor.random(DataType.FLOAT, new long[] {2, 3, 20, 20}, 40 + i);
            graft.io.Npy.write(cal.resolve("batch" + i + ".npy"), DataType.FLOAT, t.shape(), t.data(), false);
        }
        Graph g = Mini.load("conv_pair_linear");
        Graph one = Surgery.on(g).edit("replace-conv-pair conv_a conv_b --kernel 5 --init fit --calibration " + cal).apply();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {3, 3, 20, 20}, 6);
        float[] want = Mini.run(Mini.write(g, dir.resolve("pair.onnx")), "input", x).values().iterator().next().toFloats();
        float[] got = Mini.run(Mini.write(one, dir.resolve("fit.onnx")), "input", x).values().iterator().next().toFloats();
        double err = Mini.relError(got, want);
        System.out.printf(Locale.ROOT, "fit, no activation between: max relative error %.3g (tolerance 1e-4)%n", err);
        assertThat(err).isLessThanOrEqualTo(1e-4);
    }

    /**
     * VGG16's block1 pair has a ReLU between the convolutions, so no 5x5 kernel is exact. On
     * held-out inputs (another seed than the calibration), the error of each initialisation
     * against the original pair's output is reported; the least-squares fit must be the smallest.
     */
    @Test
    void onBlock1WithReluFitBeatsComposeAndRandom() {
        Map<String, Double> e = pairErrors("vgg16_mini", "input_1", new long[] {2, 3, 224, 224}, "block1_conv1", "block1_conv2", "block1_conv2");
        System.out.printf(Locale.ROOT, "block1 3x3 pair -> 5x5, relative RMS error on held-out inputs: random %.4f, compose %.4f, fit %.4f%n",
                e.get("random"), e.get("compose"), e.get("fit"));
        assertThat(e.get("fit")).isLessThan(e.get("compose")).isLessThan(e.get("random"));
    }

    /** Caffe's VGG keeps the ReLU between the pair as a layer of its own; it goes with the pair. */
    @Test
    void aReluLayerBetweenThePairIsPartOfIt() {
        Map<String, Double> e = pairErrors("conv_pair_caffe", "data", new long[] {2, 3, 48, 48}, "conv1_1", "conv1_2", "relu1_2");
        System.out.printf(Locale.ROOT, "Caffe-style conv1_1/relu1_1/conv1_2 -> 5x5, relative RMS error: random %.4f, compose %.4f, fit %.4f%n",
                e.get("random"), e.get("compose"), e.get("fit"));
        assertThat(e.get("fit")).isLessThan(e.get("compose")).isLessThan(e.get("random"));
    }

    private static Map<String, Double> pairErrors(String model, String input, long[] shape, String a, String b, String out) {
        Path dir = TestPaths.scratch("surgery-pair-" + model);
        Graph g = Mini.load(model);
        Path original = exposing(g, out, dir.resolve("original.onnx"));
        Tensor x = Tensor.random(DataType.FLOAT, shape, 99);
        float[] want = Mini.run(original, input, x, out).get(out).toFloats();
        Map<String, Double> errors = new LinkedHashMap<>();
        for (String mode : new String[] {"random", "compose", "fit"}) {
            Graph r = Surgery.on(g).edit("replace-conv-pair " + a + " " + b + " --kernel 5 --init " + mode + " --calibration 8 --seed 1").apply();
            assertThat(Layers.names(r)).doesNotContain(b);
            Path file = exposing(r, out, dir.resolve(mode + ".onnx"));
            float[] got = Mini.run(file, input, x, out).get(out).toFloats();
            errors.put(mode, graft.testing.Errors.rmsRelative(got, want));
        }
        return errors;
    }

    @Test
    void foldBatchNormKeepsTheOutputs() {
        Path dir = TestPaths.scratch("surgery-fold");
        Graph g = Mini.load("bn_mini");
        Graph f = Surgery.on(g).foldBatchNorm().apply();
        assertThat(f.nodes()).noneMatch(n -> n.opType().equals("BatchNormalization") || n.opType().equals("Mul") || n.opType().equals("Add"));
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {4, 3, 32, 32}, 8);
        // Compare before the softmax too, where a folding error is not squashed.
        Path a = exposing(g, "fc1_relu", dir.resolve("bn.onnx"));
        Path b = exposing(f, "fc1_relu", dir.resolve("folded.onnx"));
        for (String out : new String[] {"fc1_relu", "predictions"}) {
            double err = Mini.relError(Mini.run(b, "input_1", x, out).get(out).toFloats(), Mini.run(a, "input_1", x, out).get(out).toFloats());
            System.out.printf(Locale.ROOT, "fold-batchnorm, %s: max relative error %.3g (tolerance 1e-5)%n", out, err);
            assertThat(err).isLessThanOrEqualTo(1e-5);
        }
    }

    @Test
    void newWeightsAreSeededDeterministicAndFollowTheFiller() {
        Graph g = Mini.load("caffenet_mini");
        Graph a = Surgery.on(g).edit("rename fc8 fc8_flickr --init gaussian:0.01 --seed 3").apply();
        Graph b = Surgery.on(g).edit("rename fc8 fc8_flickr --init gaussian:0.01 --seed 3").apply();
        Graph c = Surgery.on(g).edit("rename fc8 fc8_flickr --init gaussian:0.01 --seed 4").apply();
        float[] wa = a.initializer("fc8_flickr_W").toFloats();
        assertThat(wa).containsExactly(b.initializer("fc8_flickr_W").toFloats());
        assertThat(wa).isNotEqualTo(c.initializer("fc8_flickr_W").toFloats());
        assertThat(wa).isNotEqualTo(g.initializer("fc8_W").toFloats());
        double sum = 0;
        double sq = 0;
        for (float v : wa) {
            sum += v;
            sq += v * (double) v;
        }
        double std = Math.sqrt(sq / wa.length - Math.pow(sum / wa.length, 2));
        assertThat(std).isBetween(0.009, 0.011);
        assertThat(a.initializer("fc8_flickr_b").toFloats()).containsOnly(0f);
        Graph kept = Surgery.on(g).edit("rename fc8 fc8_flickr --keep-weights").apply();
        assertThat(kept.initializer("fc8_flickr_W").toFloats()).containsExactly(g.initializer("fc8_W").toFloats());
        // he: std sqrt(2 / fan_in) for fc1 (fan_in 784)
        float[] he = Surgery.on(Mini.load("vgg16_mini")).reinit("fc1", "he", 1).apply().initializer("fc1_W").toFloats();
        double s2 = 0;
        for (float v : he) {
            s2 += v * (double) v;
        }
        assertThat(Math.sqrt(s2 / he.length)).isCloseTo(Math.sqrt(2.0 / 784), org.assertj.core.data.Offset.offset(0.002));
    }
}
