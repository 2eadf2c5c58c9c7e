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
 *
 * <p>Numbering ({@link #numbering}): for a Keras source the rows are Keras's {@code model.layers}:
 * a functional model's InputLayers come first (row 0 for one input), a Sequential model has no
 * input row (its first layer is 0; the input's layout Transpose is not shown). Other sources
 * have no input row. Parameters are counted as Keras counts them: a BatchNormalization's moving
 * mean and variance are non-trainable, a frozen layer's weights are non-trainable, and weights
 * the importer made up (gamma/beta of a Keras BatchNormalization with scale/center off, listed
 * in the metadata key {@link #CONSTANTS}) are not parameters.
 */
public final class LayerTable {
    /** Metadata key: comma-separated initializer names that are fixed constants, not parameters. */
    public static final String CONSTANTS = "graft.constants";
    /**
     * Metadata key: comma-separated initializer names that are parameters but never train, like a
     * BatchNormalization's moving statistics (a Keras Normalization's mean and divisor).
     */
    public static final String FIXED = "graft.fixed";
    /**
     * Metadata key: comma-separated {@code layer=count} parameters that the source counts but the
     * graph does not carry (a Keras Normalization's int64 {@code count}, which plays no part in
     * inference); counted in their layer's row as non-trainable, so the totals are the source's.
     */
    public static final String UNCARRIED = "graft.uncarried";

    /** Appends {@code item} to the comma-separated list under metadata {@code key}. */
    public static void note(Graph g, String key, String item) {
        String prev = g.metadata().get(key);
        g.metadata().put(key, prev == null || prev.isEmpty() ? item : prev + "," + item);
    }

    /** The {@code layer=count} entries under {@link #UNCARRIED}, summed per layer. */
    static Map<String, Long> uncarried(Graph g) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String e : g.metadata().getOrDefault(UNCARRIED, "").split(",")) {
            int eq = e.lastIndexOf('=');
            if (eq > 0) {
                try {
                    m.merge(e.substring(0, eq), Long.parseLong(e.substring(eq + 1)), Long::sum);
                } catch (NumberFormatException ignored) {
                    // an unreadable entry counts nothing
                }
            }
        }
        return m;
    }

    /**
     * One layer: index, name, ops joined with '+', output type, parameters, those of them that never
     * train (moving statistics), trainable.
     */
    public record Row(int index, String layer, String ops, String output, long params, long fixed, boolean trainable,
            LayerTraining training) {
        /** Parameters an optimizer updates: none for a frozen layer, else all but the fixed ones. */
        public long trainableParams() {
            return trainable ? params - fixed : 0;
        }

        public long nonTrainableParams() {
            return params - trainableParams();
        }
    }

    /** How rows are numbered: Keras functional, Keras Sequential, or graft's own (no input row). */
    public enum Numbering {
        KERAS_FUNCTIONAL("keras-functional", "Keras functional model.layers (the InputLayer is 0)"),
        KERAS_SEQUENTIAL("keras-sequential", "Keras Sequential model.layers (no InputLayer row; the first layer is 0)"),
        GRAFT("graft", "graft rows (no input row; the first layer is 0)");

        public final String key;
        public final String text;

        Numbering(String key, String text) {
            this.key = key;
            this.text = text;
        }
    }

    private LayerTable() {
    }

    public static Numbering numbering(Graph g) {
        String cls = g.metadata().get("source.keras_class");
        if (cls == null) {
            return Numbering.GRAFT;
        }
        return cls.equals("Sequential") ? Numbering.KERAS_SEQUENTIAL : Numbering.KERAS_FUNCTIONAL;
    }

    /** The initializers listed under {@link #CONSTANTS}: made up by an importer, not parameters. */
    public static Set<String> constants(Graph g) {
        return new java.util.HashSet<>(List.of(g.metadata().getOrDefault(CONSTANTS, "").split(",")));
    }

    /** The total parameter count as inspect and Keras give it (the rows' sum). */
    public static long totalParams(Graph g) {
        return totals(g).params();
    }

    /** How many rows inspect shows (shape plumbing is not a layer) and their parameters: what commands report. */
    public record Totals(int layers, long params) {
    }

    public static Totals totals(Graph g) {
        List<Row> rows = of(g);
        return new Totals(rows.size(), rows.stream().mapToLong(Row::params).sum());
    }

    public static List<Row> of(Graph g) {
        Numbering numbering = numbering(g);
        Set<String> inputs = new LinkedHashSet<>();
        g.inputs().forEach(v -> inputs.add(v.name()));
        Map<String, List<Node>> byLayer = new LinkedHashMap<>();
        if (numbering == Numbering.KERAS_FUNCTIONAL) {
            for (String in : inputs) {
                byLayer.put(in, new ArrayList<>());
            }
        }
        for (Node n : g.nodes()) {
            if (numbering == Numbering.KERAS_SEQUENTIAL && inputs.contains(n.layer())) {
                continue;
            }
            byLayer.computeIfAbsent(n.layer(), k -> new ArrayList<>()).add(n);
        }
        Set<String> constants = constants(g);
        Set<String> fixedWeights = new java.util.HashSet<>(List.of(g.metadata().getOrDefault(FIXED, "").split(",")));
        Map<String, Long> uncarried = uncarried(g);
        List<Row> rows = new ArrayList<>();
        Set<String> counted = new java.util.HashSet<>();
        int i = 0;
        for (Map.Entry<String, List<Node>> e : byLayer.entrySet()) {
            LayerTraining tr = g.trainingOf(e.getKey());
            if (e.getValue().isEmpty()) {
                TensorType t = g.type(e.getKey());
                rows.add(new Row(i++, e.getKey(), "Input", t == null || t.shape() == null ? "?" : t.shape().toString(), 0, 0, tr.trainable(), tr));
                continue;
            }
            if (e.getValue().stream().allMatch(n -> isShapePlumbing(g, n))) {
                continue;
            }
            Set<String> ops = new LinkedHashSet<>();
            long params = 0;
            long fixed = 0;
            for (Node n : e.getValue()) {
                ops.add(n.opType());
                for (int k = 0; k < n.inputs().size(); k++) {
                    String in = n.input(k);
                    Weight w = g.initializer(in);
                    if (w != null && !constants.contains(in) && isParameter(n, in) && counted.add(in)) {
                        params += w.elementCount();
                        if (n.op() == Op.BATCH_NORMALIZATION && k >= 3 || fixedWeights.contains(in)) {
                            fixed += w.elementCount();
                        }
                    }
                }
            }
            long extra = uncarried.getOrDefault(e.getKey(), 0L);
            params += extra;
            fixed += extra;
            Node last = e.getValue().get(e.getValue().size() - 1);
            TensorType t = last.outputs().isEmpty() ? null : g.type(last.output(0));
            rows.add(new Row(i++, e.getKey(), String.join("+", ops), t == null ? "?" : t.shape() == null ? "?" : t.shape().toString(),
                    params, fixed, tr.trainable(), tr));
        }
        return rows;
    }

    /**
     * Nodes that only compute shapes or constants (Constant, Shape, Gather on int64 ...):
     * exporters emit them for Flatten/Reshape; users do not think of them as layers.
     */
    static boolean isShapePlumbing(Graph g, Node n) {
        if (n.op() == Op.CONSTANT || n.op() == Op.CONSTANT_OF_SHAPE) {
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
