package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Shape;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.runtime.Sessions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The losses' closed-form logit gradients against central differences of the loss value, in
 * float64 (h = 1e-6, tolerance 1e-6 of the largest gradient); and Dropout's training-mode rule
 * against the mask ONNX Runtime drew (a random op has no finite difference).
 */
class LossGradientTest {
    static double check(Loss loss, long classes, long[] labels) {
        Graph g = new Graph("loss");
        long n = labels.length;
        g.inputs().add(new Value("z", new TensorType(DataType.DOUBLE, Shape.of(n, classes))));
        g.addInitializer(Weight.ofLongs("y", new long[] {n}, labels));
        Emitter e = new Emitter(g, DataType.DOUBLE, "l/");
        Loss.Emitted out = loss.emit(e, "z", "y", classes);
        e.add(new Node("o1", "Identity", "", "", List.of(out.loss()), List.of("loss"), Map.of(), Map.of()));
        e.add(new Node("o2", "Identity", "", "", List.of(out.dLogits()), List.of("dz"), Map.of(), Map.of()));
        g.outputs().add(new Value("loss", new TensorType(DataType.DOUBLE, Shape.of(new long[0]))));
        g.outputs().add(new Value("dz", new TensorType(DataType.DOUBLE, Shape.of(n, classes))));
        double[] z = new double[(int) (n * classes)];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < z.length; i++) {
            z[i] = r.nextDouble(-3, 3);
        }
        try (OrtRunner s = Sessions.open(g, Device.CPU)) {
            double[] dz = GradCheck.doubles(s.run(Map.of("z", tensor(z, n, classes))).get("dz"));
            double err = 0;
            double max = 0;
            for (int i = 0; i < z.length; i++) {
                double keep = z[i];
                z[i] = keep + 1e-6;
                double lp = GradCheck.doubles(s.run(Map.of("z", tensor(z, n, classes))).get("loss"))[0];
                z[i] = keep - 1e-6;
                double lm = GradCheck.doubles(s.run(Map.of("z", tensor(z, n, classes))).get("loss"))[0];
                z[i] = keep;
                double num = (lp - lm) / 2e-6;
                err = Math.max(err, Math.abs(num - dz[i]));
                max = Math.max(max, Math.abs(num));
            }
            return err / max;
        }
    }

    static Tensor tensor(double[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocateDirect(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) {
            b.putDouble(x);
        }
        b.flip();
        return new Tensor(DataType.DOUBLE, shape, b);
    }

    @Test
    void softmaxCrossEntropy() {
        assertThat(check(Loss.SOFTMAX_CROSS_ENTROPY, 4, new long[] {0, 3, 1, 1, 2})).isLessThan(1e-6);
    }

    @Test
    void sigmoidCrossEntropy() {
        assertThat(check(Loss.SIGMOID_CROSS_ENTROPY, 1, new long[] {0, 1, 1, 0})).isLessThan(1e-6);
        assertThat(check(Loss.SIGMOID_CROSS_ENTROPY, 3, new long[] {2, 0, 1})).isLessThan(1e-6);
    }

    /** A one-logit (binary sigmoid) head: loss and logit gradient equal torch's BCEWithLogitsLoss. */
    @Test
    void binarySigmoidMatchesTorchBce() {
        double[] z = {-2.5, -0.3, 0.0, 0.7, 4.0, -6.0};
        long[] y = {0, 1, 1, 0, 1, 0};
        Graph g = new Graph("bce");
        g.inputs().add(new Value("z", new TensorType(DataType.DOUBLE, Shape.of(z.length, 1))));
        g.addInitializer(Weight.ofLongs("y", new long[] {y.length}, y));
        Emitter e = new Emitter(g, DataType.DOUBLE, "l/");
        Loss.Emitted out = Loss.SIGMOID_CROSS_ENTROPY.emit(e, "z", "y", 1);
        e.add(new Node("o1", "Identity", "", "", List.of(out.loss()), List.of("loss"), Map.of(), Map.of()));
        e.add(new Node("o2", "Identity", "", "", List.of(out.dLogits()), List.of("dz"), Map.of(), Map.of()));
        g.outputs().add(new Value("loss", new TensorType(DataType.DOUBLE, Shape.of(new long[0]))));
        g.outputs().add(new Value("dz", new TensorType(DataType.DOUBLE, Shape.of(z.length, 1))));
        String[] torch = graft.testing.Python.run(graft.testing.TestPaths.fixtures().resolve("train/bce_oracle.py"),
                java.util.Arrays.stream(z).mapToObj(Double::toString).collect(java.util.stream.Collectors.joining(",")),
                java.util.Arrays.stream(y).mapToObj(Long::toString).collect(java.util.stream.Collectors.joining(","))).trim().split("\n");
        try (OrtRunner s = Sessions.open(g, Device.CPU)) {
            var r = s.run(Map.of("z", tensor(z, z.length, 1)));
            assertThat(GradCheck.doubles(r.get("loss"))[0]).isCloseTo(Double.parseDouble(torch[0]), org.assertj.core.data.Offset.offset(1e-12));
            double[] dz = GradCheck.doubles(r.get("dz"));
            String[] want = torch[1].split(",");
            for (int i = 0; i < z.length; i++) {
                assertThat(dz[i]).as("dz[%d]", i).isCloseTo(Double.parseDouble(want[i]), org.assertj.core.data.Offset.offset(1e-12));
            }
        }
    }

    @Test
    void dropoutTrainingModeUsesTheDrawnMask() {
        Graph fwd = new Graph("dropout");
        fwd.inputs().add(new Value("x", new TensorType(DataType.FLOAT, Shape.of(64, 32))));
        fwd.addInitializer(Weight.ofFloats("ratio", new long[0], new float[] {0.25f}));
        fwd.nodes().add(new Node("d", "Dropout", "", "d", List.of("x", "ratio"), List.of("y"), Map.of(), Map.of()));
        fwd.outputs().add(new Value("y", null));
        graft.ir.ShapeInference.run(fwd);
        Graph g = new Graph("dropout_grad");
        g.inputs().addAll(fwd.inputs());
        g.addInitializer(fwd.initializer("ratio"));
        g.inputs().add(new Value("dy", new TensorType(DataType.FLOAT, Shape.of(64, 32))));
        Emitter e = new Emitter(g, DataType.FLOAT, "g/");
        List<Node> nodes = Autodiff.prepare(fwd.nodes(), fwd, e, true);
        nodes.forEach(e::add);
        String dx = Autodiff.backward(nodes, fwd, e, Map.of("y", "dy"), java.util.Set.of("x")).get("x");
        e.add(new Node("o", "Identity", "", "", List.of(dx), List.of("dx"), Map.of(), Map.of()));
        g.outputs().add(new Value("y", new TensorType(DataType.FLOAT, Shape.of(64, 32))));
        g.outputs().add(new Value("dx", new TensorType(DataType.FLOAT, Shape.of(64, 32))));
        float[] x = new float[64 * 32];
        float[] dy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = 1 + (i % 7);
            dy[i] = (i % 5) - 2.5f;
        }
        try (OrtRunner s = Sessions.open(g, Device.CPU)) {
            Map<String, Tensor> out = s.run(Map.of("x", Tensor.ofFloats(new long[] {64, 32}, x), "dy", Tensor.ofFloats(new long[] {64, 32}, dy)));
            float[] y = out.get("y").toFloats();
            float[] d = out.get("dx").toFloats();
            int dropped = 0;
            for (int i = 0; i < x.length; i++) {
                boolean kept = y[i] != 0;
                dropped += kept ? 0 : 1;
                // y = x * mask / (1 - ratio), so dy/dx = mask / (1 - ratio) element-wise.
                assertThat(d[i]).isCloseTo(kept ? dy[i] / 0.75f : 0f, org.assertj.core.data.Offset.offset(1e-5f));
            }
            assertThat(dropped).isBetween(400, 640);
        }
    }
}
