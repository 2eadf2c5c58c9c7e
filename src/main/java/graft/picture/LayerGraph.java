package graft.picture;

import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.ir.Node;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model as boxes and arrows: one box per row of {@link LayerTable#of}, and an edge A -> B when a
 * node of layer B reads a value produced by a node of layer A. Nodes that belong to no row (shape
 * plumbing, a Sequential model's input transpose) are looked through: their inputs' layers feed B.
 */
public record LayerGraph(List<Box> boxes, List<Edge> edges) {
    /** Status of a box or an edge in a diff picture; {@code SAME} in a plain one. */
    public enum Status {
        SAME, CHANGED, RENAMED, ADDED, REMOVED;

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One layer. {@code key} identifies it in edges (the name in model A for a diff), {@code title} is what the
     * box shows first ("old -> new" for a rename), {@code training} is empty or names a trainability change,
     * {@code details} holds the table row and diff lines shown on click.
     */
    public record Box(String key, String title, String ops, String shape, boolean frozen, Status status, String training,
                      Map<String, Object> details) {
    }

    public record Edge(String from, String to, Status status) {
    }

    /** The layer graph of one model. */
    public static LayerGraph of(Graph g) {
        List<LayerTable.Row> rows = LayerTable.of(g);
        List<Box> boxes = new ArrayList<>();
        for (LayerTable.Row r : rows) {
            boxes.add(new Box(r.layer(), r.layer(), r.ops(), r.output(), isFrozen(r), Status.SAME, "", details(r)));
        }
        List<Edge> edges = new ArrayList<>();
        for (String[] e : layerEdges(g, rows)) {
            edges.add(new Edge(e[0], e[1], Status.SAME));
        }
        return new LayerGraph(boxes, edges);
    }

    /** Frozen as the table shows it: a layer with parameters that does not train. */
    static boolean isFrozen(LayerTable.Row r) {
        return r.params() > 0 && !r.trainable();
    }

    /** The table row as the side panel shows it: the fields of {@code inspect --json}'s layers. */
    static Map<String, Object> details(LayerTable.Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("index", r.index());
        m.put("name", r.layer());
        m.put("ops", r.ops());
        m.put("output_shape", r.output());
        m.put("params", r.params());
        m.put("trainable_params", r.trainableParams());
        m.put("trainable", r.trainable());
        m.put("lr_mult", r.training().lrMult().isEmpty() ? "(default)" : r.training().lrMult().toString());
        m.put("decay_mult", r.training().decayMult().isEmpty() ? "(default)" : r.training().decayMult().toString());
        return m;
    }

    /** Distinct layer-to-layer edges {from, to}, in graph order. */
    static List<String[]> layerEdges(Graph g, List<LayerTable.Row> rows) {
        Set<String> layers = new LinkedHashSet<>();
        rows.forEach(r -> layers.add(r.layer()));
        Map<String, Set<String>> memo = new HashMap<>();
        Set<String> seen = new LinkedHashSet<>();
        List<String[]> r = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!layers.contains(n.layer())) {
                continue;
            }
            for (String v : n.inputs()) {
                for (String from : sources(g, v, layers, memo, new java.util.HashSet<>())) {
                    if (!from.equals(n.layer()) && seen.add(from + "\u0000" + n.layer())) {
                        r.add(new String[] {from, n.layer()});
                    }
                }
            }
        }
        return r;
    }

    /** The table layers whose outputs reach value {@code v}, looking through nodes that have no row. */
    private static Set<String> sources(Graph g, String v, Set<String> layers, Map<String, Set<String>> memo, Set<String> visiting) {
        Set<String> known = memo.get(v);
        if (known != null) {
            return known;
        }
        Set<String> r = new LinkedHashSet<>();
        Node p = g.producer(v);
        if (p == null) {
            if (layers.contains(v)) {
                r.add(v); // a Keras functional model's InputLayer row is named after its input value
            }
        } else if (layers.contains(p.layer())) {
            r.add(p.layer());
        } else if (visiting.add(v)) {
            for (String in : p.inputs()) {
                r.addAll(sources(g, in, layers, memo, visiting));
            }
        }
        memo.put(v, r);
        return r;
    }
}
