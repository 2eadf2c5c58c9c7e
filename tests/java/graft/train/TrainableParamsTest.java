package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Which initializers a training step trains, and where bottleneck caching may cut, on graphs
 * as plain ONNX files give them (every node a layer of its own, as tf2onnx writes a Dense:
 * MatMul then Add; a Flatten written as Reshape to [-1, K]).
 */
class TrainableParamsTest {
    private static Weight floats(String name, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = 0.01f * (i % 7) - 0.02f;
        }
        return Weight.ofFloats(name, shape, v);
    }

    /** x (N, 8, 3, 3) -> Relu -> Reshape [-1, 72] -> MatMul W (72, 5) -> Add B (5,) -> Softmax; each node its own layer. */
    private static Graph denseAsMatMulAdd(long denseUnits) {
        Graph g = new Graph("tf2onnx_style");
        g.inputs().add(new Value("x", new TensorType(DataType.FLOAT, Shape.of(Dim.sym("N"), Dim.of(8), Dim.of(3), Dim.of(3)))));
        g.addInitializer(Weight.ofLongs("shape", new long[] {2}, new long[] {-1, 72}));
        g.addInitializer(floats("W", 72, denseUnits));
        g.addInitializer(floats("B", denseUnits));
        g.nodes().add(Node.of(Op.RELU, "relu", "relu", List.of("x"), List.of("r"), Map.of()));
        g.nodes().add(Node.of(Op.RESHAPE, "flatten", "flatten", List.of("r", "shape"), List.of("f"), Map.of()));
        g.nodes().add(Node.of(Op.MAT_MUL, "dense", "dense", List.of("f", "W"), List.of("m"), Map.of()));
        g.nodes().add(Node.of(Op.ADD, "dense_bias", "dense_bias", List.of("m", "B"), List.of("logits"), Map.of()));
        g.nodes().add(Node.of(Op.SOFTMAX, "softmax", "softmax", List.of("logits"), List.of("probs"), Map.of("axis", Attr.of(1L))));
        g.outputs().add(new Value("probs", null));
        ShapeInference.run(g);
        return g;
    }

    @Test
    void aPlainOnnxDenseTrainsItsKernelAndItsBias() {
        assertThat(TrainingStep.trainableParams(denseAsMatMulAdd(5))).containsExactly("W", "B");
        // a one-unit Dense (Dense 1 sigmoid) has a one-element bias
        assertThat(TrainingStep.trainableParams(denseAsMatMulAdd(1))).containsExactly("W", "B");
    }

    @Test
    void aMatMulByDataAndAScalarAddAreNoParameters() {
        Graph g = new Graph("data");
        g.inputs().add(new Value("a", new TensorType(DataType.FLOAT, Shape.of(Dim.sym("N"), Dim.of(4)))));
        g.addInitializer(floats("K", 4, 4));
        g.addInitializer(floats("eps"));
        g.nodes().add(Node.of(Op.MAT_MUL, "gram", "gram", List.of("K", "a"), List.of("m"), Map.of()));
        g.nodes().add(Node.of(Op.ADD, "plus", "plus", List.of("m", "eps"), List.of("y"), Map.of()));
        g.outputs().add(new Value("y", null));
        ShapeInference.run(g);
        assertThat(TrainingStep.trainableParams(g)).isEmpty();
    }

    /** A Flatten written as Reshape to [-1, K] spells the batch N*72/72 in shape inference; the cut is still between two layers. */
    @Test
    void cachingCutsAfterAReshapeFlatten() {
        Graph g = denseAsMatMulAdd(5);
        Optional<Subgraphs.Split> s = Subgraphs.frozenPrefix(g, TrainingStep.trainableParams(g));
        assertThat(s).isPresent();
        assertThat(s.get().boundary()).isEqualTo("f");
    }
}
