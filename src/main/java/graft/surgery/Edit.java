package graft.surgery;

import graft.error.InvalidGraphException;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.Node;
import graft.ir.ShapeInference;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * One edit of a model. {@link #check} tests every precondition and throws
 * {@link EditException} without touching the graph; {@link #rewire} changes it. {@link #apply}
 * runs both, then removes what became unreachable, re-infers shapes, validates, and appends
 * {@link #describe()} to the model's provenance. Implementations are immutable values.
 */
public interface Edit {
    /** One line, the same grammar as {@code --edit}: {@code pop 3}, {@code freeze :15}. */
    String describe();

    /** Throws {@link EditException} when the edit cannot be applied to {@code g}; changes nothing. */
    void check(Graph g);

    /** Changes the graph; called only after {@link #check} passed. */
    void rewire(Graph g);

    /**
     * This edit with every layer it names resolved against {@code g}: a number is the row
     * 'graft inspect' shows (negative counts from the end), a name stays itself.
     */
    default Edit resolved(Graph g) {
        return this;
    }

    /**
     * True for edits that name the graph's own inputs and outputs (rename-input, rename-output,
     * set-batch): they see the model as it is, not the NCHW view other edits get.
     */
    default boolean namesGraphValues() {
        return false;
    }

    /** check, rewire, clean up, re-infer, validate, record. */
    default void apply(Graph g) {
        // An NHWC model's output Transpose is layout, not a layer: edits see the NCHW activation.
        KerasLayout.Stripped nhwc = namesGraphValues() ? KerasLayout.Stripped.NONE : KerasLayout.strip(g);
        Edit e;
        try {
            e = resolved(g);
        } catch (RuntimeException ex) {
            KerasLayout.restore(g, nhwc);
            throw ex;
        }
        e.applyResolved(g, nhwc);
    }

    private void applyResolved(Graph g, KerasLayout.Stripped nhwc) {
        try {
            check(g);
        } catch (RuntimeException e) {
            KerasLayout.restore(g, nhwc);
            throw e;
        }
        rewire(g);
        g.removeUnreachable();
        try {
            ShapeInference.run(g);
            KerasLayout.restore(g, nhwc);
            ShapeInference.run(g);
            GraphValidator.check(g);
        } catch (InvalidGraphException e) {
            throw new EditException(describe(), offender(g, e) + "no longer fits: " + e.problems().get(0));
        }
        List<Value> outs = new ArrayList<>();
        for (Value v : g.outputs()) {
            outs.add(new Value(v.name(), g.type(v.name()) != null ? g.type(v.name()) : v.type()));
        }
        g.outputs().clear();
        g.outputs().addAll(outs);
        g.addProvenance(describe());
    }

    /** "layer 'fc1' (Gemm) " for the node of the first problem that names one, so the user sees the layer. */
    private static String offender(Graph g, InvalidGraphException e) {
        for (InvalidGraphException.Problem p : e.structured()) {
            if (p.node() == null) {
                continue;
            }
            for (Node n : g.nodes()) {
                if (n.name().equals(p.node())) {
                    return "layer '" + n.layer() + "' (" + n.opType() + ") ";
                }
            }
        }
        return "the model ";
    }
}
