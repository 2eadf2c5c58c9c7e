package graft.surgery;

import graft.ir.Attr;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.SourceLayout;
import graft.ir.TensorType;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Models whose 4-D input is NHWC (Keras channels_last as graft imports it, tf2onnx exports): the
 * input layer transposes it to the IR's NCHW, and a 4-D output is transposed back to NHWC at the
 * end. Edits work on the NCHW activations: {@link #strip} takes the output's layout Transpose
 * away before an edit, {@link #restore} puts NHWC back on every 4-D output after it (the same
 * node when the output did not change), so an appended layer never sees the NHWC view as if it
 * were NCHW, and a cut model still gives what Keras's model cut there gives. Where the importer
 * recorded each value's Keras layout ({@link SourceLayout}: a model mixing channels_last and
 * channels_first layers), that record decides per output; otherwise the model's input does.
 */
public final class KerasLayout {
    private static final long[] TO_NCHW = {0, 3, 1, 2};
    private static final long[] TO_NHWC = {0, 2, 3, 1};

    private KerasLayout() {
    }

    /** True when graph input {@code input} is 4-D NHWC: read only by Transposes to NCHW. */
    static boolean nhwcInput(Graph g, String input) {
        List<Node> readers = g.consumers(input);
        return !readers.isEmpty() && readers.stream().allMatch(n -> isPerm(n, TO_NCHW));
    }

    /**
     * The 4-D outputs in the layout the source framework holds them: a value a Keras channels_last
     * layer gives is NHWC in Keras, so it gets its NHWC Transpose (once: an output that already ends
     * in one keeps it). Only where the importer recorded the source's layouts ({@link SourceLayout},
     * Keras): an ONNX or Caffe model's value is the file's own tensor, whatever layout its input
     * has (an ONNX model with an NHWC input and a Transpose holds its activations NCHW). Needs the
     * graph's types.
     */
    public static void nativeOutputs(Graph g) {
        if (g.nodes().stream().noneMatch(n -> n.extras().containsKey(SourceLayout.KEY))) {
            return;
        }
        restore(g, strip(g));
    }

    /**
     * True when graph input {@code input} is NHWC even where Keras preprocessing (EfficientNet's
     * Rescaling and Normalization: Mul, Add, Sub, Div by constants, computed in the input's own
     * layout) sits before the Transpose to NCHW: every path from the input passes only such
     * element-wise nodes, each with one non-constant input, before reaching that Transpose.
     */
    static boolean nhwcInputBehindElementwise(Graph g, String input) {
        return nhwcInput(g, input) || reachesNchwTransposeOnly(g, input, 0);
    }

    private static boolean reachesNchwTransposeOnly(Graph g, String value, int depth) {
        List<Node> readers = g.consumers(value);
        if (readers.isEmpty() || depth > 8) {
            return false;
        }
        for (Node n : readers) {
            if (isPerm(n, TO_NCHW)) {
                continue;
            }
            boolean elementwise = n.op() == Op.MUL || n.op() == Op.ADD || n.op() == Op.SUB || n.op() == Op.DIV;
            long fed = n.inputs().stream().filter(i -> g.initializer(i) == null && !(g.producer(i) != null && g.producer(i).op() == Op.CONSTANT)).count();
            if (!elementwise || fed != 1 || !reachesNchwTransposeOnly(g, n.output(0), depth + 1)) {
                return false;
            }
        }
        return true;
    }

    static boolean nhwcModel(Graph g) {
        return g.inputs().stream().anyMatch(v -> nhwcInput(g, v.name()));
    }

    /** The output layout Transposes removed; {@code nhwc} false when the model's input is not NHWC (nothing to do). */
    record Stripped(boolean nhwc, List<Node> transposes) {
        /** Nothing taken away: {@link #restore} does nothing. */
        static final Stripped NONE = new Stripped(false, List.of());
    }

    static Stripped strip(Graph g) {
        List<Node> removed = new ArrayList<>();
        boolean structural = nhwcModel(g);
        if (!structural && g.nodes().stream().noneMatch(n -> n.extras().containsKey(SourceLayout.KEY))) {
            return new Stripped(false, removed);
        }
        for (int i = 0; i < g.outputs().size(); i++) {
            Node t = g.producer(g.outputs().get(i).name());
            if (t == null || !isPerm(t, TO_NHWC) || g.consumers(t.output(0)).size() > 0 || rank(g, t.input(0)) != 4
                    || !nhwc(g, t.input(0), structural)) {
                continue;
            }
            String inner = t.input(0);
            g.outputs().set(i, new Value(inner, g.type(inner)));
            g.nodes().remove(t);
            removed.add(t);
        }
        return new Stripped(true, removed);
    }

    /** Whether the source framework holds 4-D {@code value} as NHWC: as the importer recorded, else as the model's input is. */
    private static boolean nhwc(Graph g, String value, boolean structural) {
        Boolean recorded = SourceLayout.nhwc(g, value);
        return recorded != null ? recorded : structural;
    }

    /** After an edit: every 4-D output (NCHW in the IR) gets its NHWC Transpose back. */
    static void restore(Graph g, Stripped s) {
        if (!s.nhwc()) {
            return;
        }
        boolean structural = nhwcModel(g);
        for (int i = 0; i < g.outputs().size(); i++) {
            String v = g.outputs().get(i).name();
            if (rank(g, v) != 4 || !nhwc(g, v, structural)) {
                continue;
            }
            Node t = s.transposes().stream().filter(n -> n.input(0).equals(v)).findFirst().orElse(null);
            if (t == null) {
                Node p = g.producer(v);
                String layer = p == null ? v : p.layer();
                String out = Layers.fresh(g, layer + "/nhwc");
                t = Node.of(Op.TRANSPOSE, out, layer, List.of(v), List.of(out), Map.of("perm", Attr.ints(TO_NHWC)));
            }
            g.nodes().add(t);
            g.outputs().set(i, new Value(t.output(0), null));
        }
    }

    private static int rank(Graph g, String v) {
        TensorType t = g.type(v);
        return t == null || t.shape() == null ? -1 : t.shape().rank();
    }

    private static boolean isPerm(Node n, long[] perm) {
        return n.op() == Op.TRANSPOSE && Arrays.equals(n.intsAttr("perm", new long[0]), perm);
    }
}
