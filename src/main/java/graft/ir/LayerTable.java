package graft.ir;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model as a user sees it in Keras {@code model.summary()}: one row per source layer,
 * with its ops, output type, parameter count and trainability. Surgery numbers layers the
 * same way, so {@code pop 3} and {@code freeze :15} mean what this table shows.
 */
public final class LayerTable {
    /** One layer: index, name, ops joined with '+', output type, parameters, trainable. */
    public record Row(int index, String layer, String ops, String output, long params, boolean trainable, LayerTraining training) {
    }

    private LayerTable() {
    }

    public static List<Row> of(Graph g) {
        Map<String, List<Node>> byLayer = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            byLayer.computeIfAbsent(n.layer(), k -> new ArrayList<>()).add(n);
        }
        List<Row> rows = new ArrayList<>();
        Set<String> counted = new java.util.HashSet<>();
        int i = 0;
        for (Map.Entry<String, List<Node>> e : byLayer.entrySet()) {
            if (e.getValue().stream().allMatch(n -> isShapePlumbing(g, n))) {
                continue;
            }
            Set<String> ops = new LinkedHashSet<>();
            long params = 0;
            for (Node n : e.getValue()) {
                ops.add(n.opType());
                for (String in : n.inputs()) {
                    Weight w = g.initializer(in);
                    if (w != null && isParameter(n, in) && counted.add(in)) {
                        params += w.elementCount();
                    }
                }
            }
            Node last = e.getValue().get(e.getValue().size() - 1);
            TensorType t = last.outputs().isEmpty() ? null : g.type(last.output(0));
            LayerTraining tr = g.trainingOf(e.getKey());
            rows.add(new Row(i++, e.getKey(), String.join("+", ops), t == null ? "?" : t.shape() == null ? "?" : t.shape().toString(),
                    params, tr.trainable(), tr));
        }
        return rows;
    }

    /**
     * Nodes that only compute shapes or constants (Constant, Shape, Gather on int64 ...):
     * exporters emit them for Flatten/Reshape; users do not think of them as layers.
     */
    static boolean isShapePlumbing(Graph g, Node n) {
        if (n.opType().equals("Constant") || n.opType().equals("ConstantOfShape")) {
            return true;
        }
        for (String o : n.outputs()) {
            TensorType t = g.type(o);
            if (t == null || t.dtype() != DataType.INT64) {
                return false;
            }
        }
        return !n.outputs().isEmpty();
    }

    /** A weight counts as a parameter when it sits in a weight slot of a catalogue op (not a shape or axes constant). */
    static boolean isParameter(Node n, String input) {
        Op op = n.op();
        if (op == null) {
            return true;
        }
        for (OpSchema.WeightSlot s : op.weightSlots()) {
            if (s.input() < n.inputs().size() && n.input(s.input()).equals(input)) {
                return true;
            }
        }
        return switch (op) {
            case ADD, SUB, MUL, DIV, MAT_MUL -> true;
            default -> false;
        };
    }
}
