package graft.ir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import graft.error.InvalidGraphException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Shape inference tells the graph's faults (checked explicitly, named in the message) from
 * its own bugs: it used to catch every IndexOutOfBounds, IllegalArgument and Arithmetic
 * exception as "cannot infer", which refused valid graphs on a bug of its own and reported
 * hostile attributes as Java's index messages.
 */
class ShapeInferenceFaultsTest {
    private static Graph graph(TensorType input) {
        Graph g = new Graph("g");
        g.inputs().add(new Value("x", input));
        return g;
    }

    @Test
    void anAddOfAnEmptyAndAOneElementConstantIsValidNotAnInternalIndexError() {
        Graph g = graph(new TensorType(DataType.FLOAT, Shape.of(1, 2)));
        g.addInitializer(Weight.ofLongs("a", new long[] {0}, new long[0]));
        g.addInitializer(Weight.ofLongs("b", new long[] {1}, new long[] {3}));
        g.nodes().add(Node.of(Op.ADD, "add", "add", List.of("a", "b"), List.of("c"), Map.of()));
        ShapeInference.run(g);
        assertThat(g.type("c").shape()).isEqualTo(Shape.of(0));
    }

    @Test
    void aConvWithTooFewStridesIsNamed() {
        Graph g = graph(new TensorType(DataType.FLOAT, Shape.of(1, 1, 8, 8)));
        g.addInitializer(Weight.ofFloats("w", new long[] {1, 1, 3, 3}, new float[9]));
        g.nodes().add(Node.of(Op.CONV, "conv", "conv", List.of("x", "w"), List.of("y"), Map.of("strides", Attr.ints(1))));
        assertThatThrownBy(() -> ShapeInference.run(g)).isInstanceOf(InvalidGraphException.class)
                .hasMessageContaining("Conv 'conv'").hasMessageContaining("strides has 1 values, needs 2")
                .hasMessageNotContaining("out of bounds");
    }

    @Test
    void aReshapeWithTwoMinusOnesIsRefused() {
        Graph g = graph(new TensorType(DataType.FLOAT, Shape.of(2, 3, 4)));
        g.addInitializer(Weight.ofLongs("s", new long[] {2}, new long[] {-1, -1}));
        g.nodes().add(Node.of(Op.RESHAPE, "r", "r", List.of("x", "s"), List.of("y"), Map.of()));
        assertThatThrownBy(() -> ShapeInference.run(g)).isInstanceOf(InvalidGraphException.class)
                .hasMessageContaining("more than one -1");
    }
}
