package graft.keras;

import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.TensorType;
import graft.ir.Weight;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the IR for the Keras importer and keeps track of how each 4-D IR value relates to the
 * tensor Keras sees: {@link Layout#KERAS} (the same axes) or {@link Layout#NCHW_OF_NHWC} (the
 * Keras NHWC tensor transposed to NCHW). A channels_last layer asks for its input in
 * NCHW_OF_NHWC, a channels_first one in KERAS; {@link #as} inserts a Transpose only where the
 * layout changes, so a channels_last model has exactly one after its input. Not thread-safe.
 */
final class GraphBuilder {
    enum Layout { KERAS, NCHW_OF_NHWC }

    final Graph g;
    private final Map<String, Layout> layouts = new HashMap<>();
    private final Map<String, String> converted = new HashMap<>();
    private final Set<String> names = new HashSet<>();

    /** Infers the nodes added since the last query only (the import was quadratic in the layers). */
    private final ShapeInference.Incremental shapes;
    /** Tests only: every query runs the whole graph, as before ShapeInference.Incremental. */
    static boolean fullShapeInference;

    GraphBuilder(Graph g) {
        this.g = g;
        this.shapes = new ShapeInference.Incremental(g);
    }

    Layout layout(String value) {
        return layouts.getOrDefault(value, Layout.KERAS);
    }

    void setLayout(String value, Layout l) {
        layouts.put(value, l);
    }

    /** A fresh value/node name derived from {@code base}. */
    String fresh(String base) {
        String n = base;
        int i = 1;
        while (!names.add(n)) {
            n = base + "_" + i++;
        }
        return n;
    }

    /** Makes {@code name} available again (its value was renamed away). */
    void release(String name) {
        names.remove(name);
    }

    /** Adds a catalogue node; its output is named {@code out} (made unique) and inherits {@code layout}. */
    String node(Op op, String layer, String out, List<String> inputs, Map<String, Attr> attrs, Layout layout) {
        String o = fresh(out);
        g.nodes().add(Node.of(op, o, layer, inputs, List.of(o), attrs));
        layouts.put(o, layout);
        return o;
    }

    String weight(Weight w) {
        String n = fresh(w.name());
        g.addInitializer(n.equals(w.name()) ? w : w.renamed(n));
        return n;
    }

    String longs(String name, long... v) {
        return weight(Weight.ofLongs(name, new long[] {v.length}, v));
    }

    String scalar(String name, float v) {
        return weight(Weight.ofFloats(name, new long[0], new float[] {v}));
    }

    /** {@code value} in layout {@code want}, transposing (once per value) when it is rank 4 in the other. */
    String as(String value, Layout want, String layer) {
        Layout have = layout(value);
        if (have == want || rank(value) != 4) {
            return value;
        }
        String key = value + "#" + want;
        String done = converted.get(key);
        if (done != null) {
            return done;
        }
        long[] perm = want == Layout.NCHW_OF_NHWC ? new long[] {0, 3, 1, 2} : new long[] {0, 2, 3, 1};
        // The transpose after a graph input belongs to the input layer, so surgery and export see it there.
        String owner = g.inputs().stream().anyMatch(v -> v.name().equals(value)) ? value : layer;
        String t = node(Op.TRANSPOSE, owner, value + (want == Layout.KERAS ? "/to_nhwc" : "/to_nchw"), List.of(value),
                Map.of("perm", Attr.ints(perm)), want);
        converted.put(key, t);
        return t;
    }

    /** The IR shape of a value, inferring the graph built so far when needed (null when unknown). */
    Shape shape(String value) {
        TensorType t = g.type(value);
        if (t == null && fullShapeInference) {
            ShapeInference.run(g);
            t = g.type(value);
        } else if (t == null) {
            shapes.update();
            t = g.type(value);
            if (t == null) {
                // a value renamed or typed away since: what a whole run gives, as before
                ShapeInference.run(g);
                shapes.reset();
                t = g.type(value);
            }
        }
        return t == null ? null : t.shape();
    }

    int rank(String value) {
        Shape s = shape(value);
        return s == null ? -1 : s.rank();
    }

    /** The IR axis holding Keras axis {@code kerasAxis} (negative counts from the end). */
    int irAxis(String value, int kerasAxis) {
        int r = rank(value);
        int a = kerasAxis < 0 ? kerasAxis + r : kerasAxis;
        if (r == 4 && layout(value) == Layout.NCHW_OF_NHWC) {
            return new int[] {0, 2, 3, 1}[a];
        }
        return a;
    }

    /** A fixed dimension of the IR shape, or -1 when symbolic. */
    long dim(String value, int irAxis) {
        Shape s = shape(value);
        if (s == null || irAxis >= s.rank()) {
            return -1;
        }
        Dim d = s.dim(irAxis);
        return d.isFixed() ? d.value() : -1;
    }

    static TensorType floatType(Shape s) {
        return new TensorType(DataType.FLOAT, s);
    }
}
