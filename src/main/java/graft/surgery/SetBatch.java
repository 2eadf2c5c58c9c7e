package graft.surgery;

import graft.ir.Op;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.TensorType;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code set-batch N|dynamic}: the first dimension of every graph input becomes N (or the symbol
 * {@code N}), and every shape is inferred again. Refused when a layer fixes the batch itself (a
 * Reshape to [1, K] written by an exporter that knew only batch 1): the output would not follow
 * the new batch, so the model would fail, or worse, at any other size. The layer is named.
 */
public record SetBatch(String size) implements Edit {
    @Override
    public String describe() {
        return "set-batch " + size;
    }

    @Override
    public boolean namesGraphValues() {
        return true;
    }

    Dim batch() {
        if (size.equalsIgnoreCase("dynamic")) {
            return Dim.sym("N");
        }
        try {
            long v = Long.parseLong(size);
            if (v > 0) {
                return Dim.of(v);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new EditException(describe(), "'" + size + "' is neither a positive batch size nor 'dynamic'");
    }

    @Override
    public void check(Graph g) {
        batch();
        for (Value in : g.inputs()) {
            TensorType t = type(g, in);
            if (t == null || t.shape() == null || t.shape().rank() == 0) {
                throw new EditException(describe(), "input '" + in.name() + "' has no known rank, so no batch dimension");
            }
        }
    }

    private static TensorType type(Graph g, Value v) {
        return g.type(v.name()) != null ? g.type(v.name()) : v.type();
    }

    @Override
    public void rewire(Graph g) {
        Dim b = batch();
        for (int i = 0; i < g.inputs().size(); i++) {
            Value in = g.inputs().get(i);
            TensorType old = type(g, in);
            List<Dim> dims = new ArrayList<>(old.shape().dims());
            dims.set(0, b);
            TensorType t = new TensorType(old.dtype(), new Shape(dims));
            g.inputs().set(i, new Value(in.name(), t));
            g.types().put(in.name(), t);
        }
        java.util.Set<String> inputs = new java.util.HashSet<>(IoNames.names(g.inputs()));
        g.types().keySet().removeIf(k -> !inputs.contains(k) && g.initializer(k) == null);
        try {
            ShapeInference.run(g);
        } catch (graft.error.InvalidGraphException e) {
            throw new EditException(describe(), culprit(g, b) + " does not take batch " + b + ": " + e.problems().get(0));
        }
        for (Value out : g.outputs()) {
            TensorType t = g.type(out.name());
            if (t == null || t.shape() == null || t.shape().rank() == 0 || t.shape().dim(0).equals(b)) {
                continue;
            }
            throw new EditException(describe(), "output '" + out.name() + "' has first dimension " + t.shape().dim(0) + ", not the new batch " + b
                    + ": " + culprit(g, b) + " fixes the batch");
        }
    }

    /** The first node that reads a value with the new batch and makes one without it. */
    private static String culprit(Graph g, Dim b) {
        for (Node n : g.nodes()) {
            boolean reads = false;
            for (String in : n.inputs()) {
                TensorType t = in.isEmpty() || g.initializer(in) != null ? null : g.type(in);
                reads |= t != null && t.shape() != null && t.shape().rank() > 0 && t.shape().dim(0).equals(b);
            }
            if (!reads || n.op() == Op.SHAPE) {
                continue;
            }
            for (String o : n.outputs()) {
                TensorType t = g.type(o);
                if (t != null && t.shape() != null && t.shape().rank() > 0 && !t.shape().dim(0).equals(b)) {
                    return "layer '" + n.layer() + "' (" + n.opType() + ")";
                }
            }
        }
        return "a layer";
    }
}
