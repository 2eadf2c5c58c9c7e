package graft.ir;

import static graft.ir.ShapeFaults.atLeast;
import static graft.ir.ShapeFaults.axis;
import static graft.ir.ShapeFaults.count;
import static graft.ir.ShapeFaults.elementCount;
import static graft.ir.ShapeFaults.fault;
import static graft.ir.ShapeFaults.mul;
import static graft.ir.ShapeFaults.plus;
import static graft.ir.ShapeFaults.requireRank;
import static graft.ir.ShapeFaults.size;

import graft.error.InvalidGraphException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Infers the type of every value from the graph inputs and the weights, node by node.
 * Symbolic dimensions stay symbolic: a Keras VGG16 without top, input (N, 3, H, W), gives
 * block1_pool (N, 64, (H-2)/2+1, ...) until a size is fixed by
 * {@link #run(Graph)} on a graph whose inputs are fixed. Small int64 constants (shapes,
 * axes) are evaluated on the way so that Reshape and friends get exact shapes.
 */
public final class ShapeInference {
    /** More dimensions than any real tensor has: a larger rank is a hostile claim, not a shape. */
    static final int MAX_RANK = 64;
    private final Graph g;
    /** Small int64 values evaluated on the way (shapes, axes), by value name. */
    final Map<String, long[]> known = new HashMap<>();
    final List<InvalidGraphException.Problem> problems = new ArrayList<>();

    private ShapeInference(Graph g) {
        this.g = g;
    }

    /** Re-infers every intermediate and output type; declared input types are kept. */
    public static void run(Graph g) {
        ShapeInference si = new ShapeInference(g);
        si.infer();
        if (!si.problems.isEmpty()) {
            throw InvalidGraphException.of(g.name(), si.problems);
        }
    }

    /**
     * Shape inference kept up to date while a builder appends nodes at the end of a graph (the
     * Keras importer asks for the type of the value it has just made, layer after layer: a whole
     * {@link #run} each time made the import quadratic in the layers, 101 runs and 0.25-0.8 s of a
     * cold ResNet50 import). {@link #update} infers only the nodes added since the last update,
     * with the types and evaluated constants of the nodes before them, which is what {@link #run}
     * computes for those nodes; graph inputs and weights added since are typed first. When the
     * node list no longer starts with the nodes already inferred (the last of them replaced, or
     * fewer nodes), it runs the whole graph again. Not thread-safe.
     */
    public static final class Incremental {
        private final Graph g;
        private ShapeInference si;
        private int done;
        private Node last;
        private final Map<String, Weight> typed = new HashMap<>();

        public Incremental(Graph g) {
            this.g = g;
        }

        /** The next {@link #update} runs the whole graph. */
        public void reset() {
            si = null;
        }

        public void update() {
            List<Node> nodes = g.nodes();
            boolean extend = si != null && done <= nodes.size() && (done == 0 ? last == null : nodes.get(done - 1) == last);
            if (!extend) {
                si = new ShapeInference(g);
                typed.clear();
                typed.putAll(g.initializers());
                done = 0;
                last = null;
                si.infer();
            } else {
                for (Value v : g.inputs()) {
                    if (v.type() != null && !g.types().containsKey(v.name())) {
                        g.types().put(v.name(), v.type());
                    }
                }
                for (Weight w : g.initializers().values()) {
                    if (typed.put(w.name(), w) != w) {
                        si.typeWeight(w);
                    }
                }
                Map<String, TensorType> declared = new HashMap<>();
                for (int i = done; i < nodes.size(); i++) {
                    for (String o : nodes.get(i).outputs()) {
                        TensorType t = g.types().get(o);
                        if (t != null) {
                            declared.put(o, t);
                        }
                    }
                }
                si.inferNodes(nodes.subList(done, nodes.size()), declared);
            }
            done = nodes.size();
            last = done == 0 ? null : nodes.get(done - 1);
            if (!si.problems.isEmpty()) {
                List<InvalidGraphException.Problem> p = new ArrayList<>(si.problems);
                si = null;
                throw InvalidGraphException.of(g.name(), p);
            }
        }
    }

    private void typeWeight(Weight w) {
        g.types().put(w.name(), new TensorType(w.dtype(), Shape.of(w.shape())));
        if ((w.dtype() == DataType.INT64 || w.dtype() == DataType.INT32) && w.elementCount() <= 64) {
            known.put(w.name(), w.toLongs());
        } else {
            known.remove(w.name());
        }
    }

    private void infer() {
        Map<String, TensorType> declared = new HashMap<>(g.types());
        g.types().clear();
        for (Value v : g.inputs()) {
            if (v.type() != null) {
                g.types().put(v.name(), v.type());
            }
        }
        for (Weight w : g.initializers().values()) {
            typeWeight(w);
        }
        inferNodes(g.nodes(), declared);
    }

    private void inferNodes(List<Node> nodes, Map<String, TensorType> declared) {
        for (Node n : nodes) {
            Op op = n.op();
            List<TensorType> out;
            try {
                out = op == null ? opaque(n) : infer(op, n);
            } catch (ShapeFaults.Inconsistent e) {
                // Only the explicit checks below say "the graph is inconsistent"; any other
                // exception (an index out of bounds, an illegal argument) is graft's own bug and
                // goes out as one (exit 4) instead of being reported as the file's fault.
                problems.add(new InvalidGraphException.Problem(n.name(), n.opType() + " '" + n.name() + "': cannot infer output shape from inputs "
                        + inputTypes(n) + " (" + e.getMessage() + ")"));
                continue;
            }
            for (int i = 0; i < n.outputs().size(); i++) {
                String o = n.output(i);
                if (o.isEmpty()) {
                    continue;
                }
                TensorType t = out != null && i < out.size() ? out.get(i) : null;
                if (t == null || t.shape() == null) {
                    TensorType d = declared.get(o);
                    if (d != null) {
                        t = d;
                    }
                }
                if (t != null) {
                    g.types().put(o, t);
                }
            }
        }
        for (Value v : g.outputs()) {
            if (!g.types().containsKey(v.name()) && v.type() != null) {
                g.types().put(v.name(), v.type());
            }
        }
    }

    /**
     * The opaque ops graft writes itself: QuantizeLinear (the input's shape, the zero point's type,
     * uint8 without one) and DequantizeLinear (the input's shape, float32); others: what the file declares.
     */
    private List<TensorType> opaque(Node n) {
        boolean onnx = n.domain() == null || n.domain().isEmpty() || n.domain().equals("ai.onnx");
        if (!onnx || n.inputs().size() < 2) {
            return null;
        }
        if (n.opType().equals("QuantizeLinear")) {
            DataType zt = n.inputs().size() > 2 && !n.input(2).isEmpty() ? dtype(n.input(2), DataType.UINT8) : DataType.UINT8;
            return one(zt, shape(n.input(0)));
        }
        if (n.opType().equals("DequantizeLinear")) {
            return one(DataType.FLOAT, shape(n.input(0)));
        }
        return null;
    }

    private String inputTypes(Node n) {
        List<String> s = new ArrayList<>();
        for (String i : n.inputs()) {
            s.add(String.valueOf(type(i)));
        }
        return s.toString();
    }

    private TensorType type(String name) {
        return name.isEmpty() ? null : g.type(name);
    }

    Shape shape(String name) {
        TensorType t = type(name);
        return t == null ? null : t.shape();
    }

    DataType dtype(String name, DataType dflt) {
        TensorType t = type(name);
        return t == null ? dflt : t.dtype();
    }

    static List<TensorType> one(DataType t, Shape s) {
        List<TensorType> r = new ArrayList<>();
        r.add(new TensorType(t, s));
        return r;
    }

    /** The output types of {@code n} by its op's family (the families split as {@code graft.exec} splits the kernels). */
    private List<TensorType> infer(Op op, Node n) {
        String x = n.input(0);
        DataType xt = dtype(x, DataType.FLOAT);
        Shape xs = shape(x);
        return switch (op) {
            case CONV, CONV_TRANSPOSE, MAX_POOL, AVERAGE_POOL, GLOBAL_AVERAGE_POOL, GLOBAL_MAX_POOL -> SpatialShapes.infer(this, op, n, x, xt, xs);
            case GEMM, MAT_MUL -> LinearShapes.infer(this, op, n, x, xt, xs);
            case ADD, SUB, MUL, DIV, POW, MAX, MIN, SUM, MEAN, PRELU, RELU, LEAKY_RELU, ELU, SELU, THRESHOLDED_RELU, SIGMOID, HARD_SIGMOID,
                 TANH, SOFTPLUS, SOFTSIGN, EXP, LOG, ABS, NEG, SQRT, SOFTMAX, LOG_SOFTMAX, LRN, CLIP, IDENTITY, DROPOUT, BATCH_NORMALIZATION ->
                    ElementwiseShapes.infer(this, op, n, x, xt, xs);
            case FLATTEN, RESHAPE, TRANSPOSE, SQUEEZE, UNSQUEEZE, CONCAT, SPLIT, SLICE, PAD, GATHER -> ReshapingShapes.infer(this, op, n, x, xt, xs);
            case CONSTANT, CONSTANT_OF_SHAPE, SHAPE, CAST -> ConstantShapes.infer(this, op, n, x, xt, xs);
            default -> throw new IllegalStateException("no shape rule for " + op);
        };
    }

}
