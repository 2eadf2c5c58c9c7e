package graft.surgery;

import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.ShapeInference;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code simplify}: constant folding and clean-up, what onnx-simplifier does for the models graft
 * meets. Folds every node whose inputs are all constants (or static shapes: the Shape of a
 * tensor whose dimensions are fixed, and the Gather/Unsqueeze/Concat/Cast over it) into an
 * initializer; a Reshape whose shape is computed from a symbolic batch gets a constant shape that
 * keeps the batch symbolic ({@code [0, K]} or {@code [-1, K]}); drops unused initializers and
 * inputs. Full mode ({@code --simplify}, the surgery edit) also removes Identity nodes and
 * inference-mode Dropout, merges consecutive Transposes and Reshapes, and deduplicates identical
 * constant initializers (not layers' weights).
 *
 * <p>Folded values are computed exactly: only ops whose float32 result is the correctly rounded
 * one when computed in float64 (data movement, + - * /, sqrt, min/max, relu, integer arithmetic)
 * are folded; transcendental ops over constants stay as nodes. {@link #simplify} returns what it
 * removed, one count per kind. The implicit mode (a convert to Keras or Caffe without
 * {@code --simplify}) only folds: Keras GaussianNoise, linear Activation and Dropout layers are
 * Identity/Dropout nodes, and a Keras or Caffe round trip keeps its layer list.
 */
public record Simplify(boolean full) implements Edit {

    @Override
    public String describe() {
        return "simplify";
    }

    @Override
    public void check(Graph g) {
        // nothing can stop it: a graph with nothing to fold is left as it was
    }

    @Override
    public void rewire(Graph g) {
        simplify(g, full);
    }

    /** What one run removed or changed: kind -> count, in the order first met. */
    public record Report(Map<String, Integer> counts) {
        public boolean isEmpty() {
            return counts.isEmpty();
        }

        /** One line per kind, e.g. {@code   Constant nodes folded: 4}. */
        public List<String> lines() {
            List<String> r = new ArrayList<>();
            counts.forEach((k, v) -> r.add(k + ": " + v));
            return r;
        }
    }

    /** Simplifies {@code g} in place (shapes re-inferred) and says what went. */
    public static Report simplify(Graph g, boolean full) {
        Map<String, Integer> before = opCounts(g);
        Set<String> initsBefore = new HashSet<>(g.initializers().keySet());
        ShapeInference.run(g);
        ConstantFolder folder = new ConstantFolder(g, full);
        // a Constant read only by a node not yet folded waits for the next pass (implicit mode)
        for (int last = -1; folder.made != last;) {
            last = folder.made;
            folder.run();
        }
        if (full) {
            GraphCleanup.removePassThrough(g);
            GraphCleanup.mergeTransposes(g);
            GraphCleanup.mergeReshapes(g);
        }
        g.removeUnreachable();
        int deduped = full ? GraphCleanup.dedupe(g) : 0;
        int inputs = GraphCleanup.dropInputs(g);
        ShapeInference.run(g);
        Map<String, Integer> after = opCounts(g);
        Map<String, Integer> nodes = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : before.entrySet()) {
            int gone = e.getValue() - after.getOrDefault(e.getKey(), 0);
            if (gone > 0) {
                nodes.put(e.getKey() + " nodes removed", gone);
            }
        }
        Map<String, Integer> r = new LinkedHashMap<>(nodes);
        int added = 0;
        int dropped = 0;
        for (String w : g.initializers().keySet()) {
            added += initsBefore.contains(w) ? 0 : 1;
        }
        for (String w : initsBefore) {
            dropped += g.initializers().containsKey(w) ? 0 : 1;
        }
        if (added > 0) {
            r.put("initializers made by folding", added);
        }
        if (deduped > 0) {
            r.put("duplicate initializers merged", deduped);
        }
        if (dropped - deduped > 0) {
            r.put("initializers dropped (unused, or folded into others)", dropped - deduped);
        }
        if (inputs > 0) {
            r.put("inputs dropped (unused, or initializers)", inputs);
        }
        return new Report(r);
    }

    private static Map<String, Integer> opCounts(Graph g) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            m.merge(n.opType(), 1, Integer::sum);
        }
        return m;
    }
}
