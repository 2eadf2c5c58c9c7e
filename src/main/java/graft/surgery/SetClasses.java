package graft.surgery;

import graft.ir.Op;
import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.ir.LayoutTransform;
import graft.ir.Node;
import graft.ir.Weight;
import java.util.List;

/**
 * {@code set-classes K}: the final classifier (the last layer with weights: a Dense/Gemm or a 1x1 Conv) gets K outputs
 * and new weights ({@code --init}, Glorot by default; bias zeros). What follows it (softmax)
 * stays.
 */
public record SetClasses(long classes, Init init, long seed) implements Edit {
    @Override
    public String describe() {
        return "set-classes " + classes + Fill.text(init, seed);
    }

    @Override
    public void check(Graph g) {
        if (classes < 1) {
            throw new EditException(describe(), "the number of classes must be at least 1");
        }
        classifier(g);
    }

    /** The last layer with weights, when it is a Dense (Gemm) or a 1x1 convolution (SqueezeNet-style). */
    Node classifier(Graph g) {
        List<LayerTable.Row> rows = LayerTable.of(g);
        for (int i = rows.size() - 1; i >= 0; i--) {
            Node n = weighted(g, rows.get(i).layer());
            if (n == null) {
                continue;
            }
            long[] w = shape(g, n.input(1));
            if (w == null) {
                throw new EditException(describe(), "the kernel of '" + n.layer() + "' (" + n.opType() + ") has no known fixed shape");
            }
            if (n.op() == Op.GEMM && w.length == 2 || n.op() == Op.CONV && w.length == 4 && w[2] == 1 && w[3] == 1) {
                return n;
            }
            throw new EditException(describe(), "the last layer with weights, '" + n.layer() + "' (" + n.opType()
                    + "), is not a classifier (a Dense or 1x1 convolution); attach a head first");
        }
        throw new EditException(describe(), "the model has no layer with weights to act as the classifier");
    }

    /**
     * The layer's weighted node: a stored kernel or bias (see {@link Layers#weighted}), or a
     * kernel computed from constants alone (a ConstantOfShape, as in the ONNX zoo's "light" models).
     */
    private static Node weighted(Graph g, String layer) {
        Node n = Layers.weighted(g, layer);
        if (n != null) {
            return n;
        }
        for (Node m : Layers.nodes(g, layer)) {
            if (m.op() != null && !m.op().weightSlots().isEmpty() && m.inputs().size() > 1 && isConstant(g, m.input(1))) {
                return m;
            }
        }
        return null;
    }

    /** A stored weight, or a value computed from nothing but stored weights and constants. */
    private static boolean isConstant(Graph g, String value) {
        if (g.initializer(value) != null) {
            return true;
        }
        Node p = g.producer(value);
        if (p == null || !(p.op() == Op.CONSTANT || p.op() == Op.CONSTANT_OF_SHAPE)) {
            return false;
        }
        return p.inputs().stream().allMatch(in -> in.isEmpty() || isConstant(g, in));
    }

    /** The shape of a stored or constant-computed weight (null when unknown or not fixed). */
    private static long[] shape(Graph g, String value) {
        Weight w = g.initializer(value);
        if (w != null) {
            return w.shape();
        }
        graft.ir.TensorType t = g.type(value);
        if (t == null || t.shape() == null) {
            return null;
        }
        long[] s = new long[t.shape().rank()];
        for (int i = 0; i < s.length; i++) {
            if (!t.shape().dim(i).isFixed()) {
                return null;
            }
            s[i] = t.shape().dim(i).value();
        }
        return s;
    }

    private static void replaceProducer(Graph g, String value) {
        Node p = g.producer(value);
        if (p != null) {
            g.nodes().remove(p);
        }
        g.types().remove(value);
    }

    @Override
    public void rewire(Graph g) {
        Node n = classifier(g);
        long[] shape = shape(g, n.input(1));
        boolean outFirst = n.op() != Op.GEMM || n.intAttr("transB") == 1;
        long[] s = shape.clone();
        s[outFirst ? 0 : 1] = classes;
        Init i = Fill.orDefault(init);
        long[] fans = s.clone();
        if (!outFirst) {
            fans = new long[] {s[1], s[0]};
        }
        String kernel = n.input(1);
        Weight fresh = i.make(kernel, fans, Init.seed(seed, kernel));
        if (!outFirst) {
            fresh = fresh.with(LayoutTransform.transpose(fans, 1, 0));
        }
        // A computed kernel's producer becomes unreachable and is removed; the stored one replaces it.
        replaceProducer(g, kernel);
        g.addInitializer(fresh);
        if (n.inputs().size() > 2 && !n.input(2).isEmpty() && isConstant(g, n.input(2))) {
            replaceProducer(g, n.input(2));
            g.addInitializer(Init.ZEROS.make(n.input(2), new long[] {classes}, 0));
        }
    }
}
