package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.testing.TestPaths;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code set-classes} on the ONNX model zoo's light SqueezeNet, whose convolution kernels are
 * computed (ConstantOfShape) rather than stored: the classifier (conv10, 1x1) gets new stored
 * weights. Checked in ONNX Runtime: the trunk's output (conv10's input) is unchanged, and the
 * model's output is softmax(global-average(relu(conv10'(trunk)))) computed here from the new weights.
 */
class SetClassesComputedWeightsTest {
    private static Path exposing(Graph g, String value, Path file) {
        Graph c = g.copy();
        c.outputs().clear();
        c.outputs().add(new Value(value, c.type(value)));
        return Mini.write(c, file);
    }

    private static Node lastConv(Graph g) {
        Node r = null;
        for (Node n : g.nodes()) {
            if (n.opType().equals("Conv")) {
                r = n;
            }
        }
        return r;
    }

    @Test
    void lightSqueezeNetGetsFiveClassesAndKeepsItsTrunk() {
        Path f = TestPaths.corpus().resolve("onnx/light/light_squeezenet.onnx");
        TestPaths.assumeExists(f, "the shared ONNX corpus");
        Path dir = TestPaths.scratch("set-classes-squeezenet");
        Graph g = new graft.onnx.OnnxFormat().read(f, graft.io.Options.none());
        Graph s = Surgery.on(g).edit("set-classes 5 --seed 3").apply();
        String in = g.inputs().get(0).name();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {1, 3, 224, 224}, 4);
        String trunk = lastConv(g).input(0);
        assertThat(lastConv(s).input(0)).isEqualTo(trunk);
        float[] before = Mini.run(exposing(g, trunk, dir.resolve("trunk_before.onnx")), in, x).get(trunk).toFloats();
        Tensor t = Mini.run(exposing(s, trunk, dir.resolve("trunk_after.onnx")), in, x).get(trunk);
        assertThat(Mini.relError(t.toFloats(), before)).isEqualTo(0.0);
        Tensor y = Mini.run(Mini.write(s, dir.resolve("sq5.onnx")), in, x).values().iterator().next();
        assertThat(y.shape()).containsExactly(1, 5, 1, 1);

        Node c = lastConv(s);
        float[] w = s.initializer(c.input(1)).toFloats();
        float[] b = s.initializer(c.input(2)).toFloats();
        assertThat(s.initializer(c.input(1)).shape()).containsExactly(5, 512, 1, 1);
        float[] tv = t.toFloats();
        int ch = (int) t.shape()[1];
        int hw = (int) (t.shape()[2] * t.shape()[3]);
        double[] z = new double[5];
        for (int k = 0; k < 5; k++) {
            double sum = 0;
            for (int p = 0; p < hw; p++) {
                double v = b[k];
                for (int i = 0; i < ch; i++) {
                    v += w[k * ch + i] * (double) tv[i * hw + p];
                }
                sum += Math.max(0, v);
            }
            z[k] = sum / hw;
        }
        double max = java.util.Arrays.stream(z).max().orElseThrow();
        double norm = java.util.Arrays.stream(z).map(v -> Math.exp(v - max)).sum();
        float[] want = new float[5];
        for (int k = 0; k < 5; k++) {
            want[k] = (float) (Math.exp(z[k] - max) / norm);
        }
        assertThat(Mini.relError(y.toFloats(), want)).isLessThanOrEqualTo(1e-5);
    }
}
