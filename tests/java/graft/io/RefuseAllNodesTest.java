package graft.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import graft.caffe.CaffeFormat;
import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.keras.KerasFormat;
import graft.onnx.OnnxFormat;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue #14.4: a writer that cannot write a model names every node it cannot write in one
 * refusal (name, op, reason), the first ten and "and N more", so a user fixes them all at once
 * instead of meeting them one run at a time; and leaves no file.
 */
class RefuseAllNodesTest {
    static final int COUNT = 12;

    /** x (1, 4, 8, 8) through {@code COUNT} nodes of {@code op} named n0, n1, ...; each feeds the next. */
    static Graph chain(Op op, Map<String, Attr> attrs, boolean twoInputs) {
        Graph g = new Graph("refusals");
        g.opsets().put("", 17L);
        g.inputs().add(new Value("x", new TensorType(DataType.FLOAT, Shape.of(Dim.of(1), Dim.of(4), Dim.of(8), Dim.of(8)))));
        String prev = "x";
        for (int i = 0; i < COUNT; i++) {
            List<String> in = twoInputs ? List.of(prev, prev) : List.of(prev);
            g.nodes().add(Node.of(op, "n" + i, "n" + i, in, List.of("y" + i), attrs));
            prev = "y" + i;
        }
        g.outputs().add(new Value(prev, null));
        return g;
    }

    static void refusesAllAtOnce(graft.io.ModelFormat format, Graph g, String ext, String opName) throws Exception {
        Path dir = TestPaths.scratch("refuse-all-" + ext);
        Path out = dir.resolve("m." + ext);
        UnsupportedModelException e = catchThrowableOfType(() -> format.write(g, out, Options.none()), UnsupportedModelException.class);
        assertThat(e).as("refused").isNotNull();
        String m = e.getMessage();
        assertThat(m).doesNotContain("\n");
        for (int i = 0; i < 10; i++) {
            assertThat(m).contains("n" + i).contains(opName);
        }
        assertThat(m).doesNotContain("n10").doesNotContain("n11").contains("and 2 more");
        assertThat(e.offenders()).hasSize(COUNT);
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.toList()).as("no file").isEmpty();
        }
    }

    @Test
    void kerasNamesEveryNodeItCannotWrite() throws Exception {
        refusesAllAtOnce(new KerasFormat(), chain(Op.LRN, Map.of("size", Attr.of(3L)), false), "h5", "LRN");
    }

    @Test
    void caffeNamesEveryNodeItCannotWrite() throws Exception {
        refusesAllAtOnce(new CaffeFormat(), chain(Op.DIV, Map.of(), true), "prototxt", "Div");
    }

    @Test
    void onnxNamesEveryNodeAnOpsetCannotSay() throws Exception {
        // Shape's start/end attributes appear at opset 15.
        Graph g = chain(Op.RELU, Map.of(), false);
        for (int i = 0; i < COUNT; i++) {
            g.nodes().add(Node.of(Op.SHAPE, "s" + i, "s" + i, List.of("y" + i), List.of("shape" + i), Map.of("start", Attr.of(1L))));
            g.outputs().add(new Value("shape" + i, null));
        }
        Path dir = TestPaths.scratch("refuse-all-onnx");
        Path out = dir.resolve("m.onnx");
        UnsupportedModelException e = catchThrowableOfType(() -> new OnnxFormat().write(g, out, Options.none().set("opset", "13")),
                UnsupportedModelException.class);
        assertThat(e).as("refused").isNotNull();
        String m = e.getMessage();
        for (int i = 0; i < 10; i++) {
            assertThat(m).contains("'s" + i + "'");
        }
        assertThat(m).contains("Shape").contains("and 2 more");
        assertThat(e.offenders()).hasSize(COUNT);
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.toList()).isEmpty();
        }
    }
}
