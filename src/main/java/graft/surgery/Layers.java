package graft.surgery;

import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.OpSchema;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Layers as {@link LayerTable} shows them: lookup by name or index, the nodes of a layer, the
 * value that enters it and the value that leaves it, the nearest names for an unknown one, and
 * fresh names. Stateless; every method reads the graph as it is now.
 */
final class Layers {
    private Layers() {
    }

    /** Layer names in table order (shape-only plumbing layers are not counted, as in the table). */
    static List<String> names(Graph g) {
        List<String> r = new ArrayList<>();
        for (LayerTable.Row row : LayerTable.of(g)) {
            r.add(row.layer());
        }
        return r;
    }

    /** The layers of {@code layers} that hold parameters, in the same order. */
    static List<String> withWeights(Graph g, List<String> layers) {
        Set<String> weighted = new HashSet<>();
        for (LayerTable.Row row : LayerTable.of(g)) {
            if (row.params() > 0) {
                weighted.add(row.layer());
            }
        }
        return layers.stream().filter(weighted::contains).toList();
    }

    /**
     * The layer {@code ref} names: a layer's name, else a number as 'graft inspect' shows it
     * (negative counts from the end); throws naming the nearest layers or the table's range.
     */
    static String resolve(Graph g, String edit, String ref) {
        List<String> all = names(g);
        return all.get(position(all, ref, edit));
    }

    /** The row of {@code ref} (a name first, else a number) in {@code all}. */
    static int position(List<String> all, String ref, String edit) {
        int i = all.indexOf(ref);
        if (i >= 0) {
            return i;
        }
        if (ref.matches("-?\\d{1,9}")) {
            int n = Integer.parseInt(ref);
            int k = n < 0 ? n + all.size() : n;
            if (k < 0 || k >= all.size()) {
                throw new EditException(edit, "layer " + n + " is outside the table's 0.." + (all.size() - 1) + " ('graft inspect' numbers)");
            }
            return k;
        }
        throw new EditException(edit, "no layer '" + ref + "'" + nearest(all, ref));
    }

    /** Throws naming the three nearest layers when {@code layer} is not one of the graph's. */
    static void require(Graph g, String edit, String layer) {
        List<String> all = names(g);
        if (!all.contains(layer)) {
            throw new EditException(edit, "no layer '" + layer + "'" + nearest(all, layer));
        }
    }

    static String nearest(List<String> all, String name) {
        List<String> best = new ArrayList<>(all);
        best.sort(Comparator.comparingInt((String s) -> distance(s, name)).thenComparing(s -> s));
        return best.isEmpty() ? "; the model has no layers" : "; nearest: " + String.join(", ", best.subList(0, Math.min(3, best.size())));
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    static List<Node> nodes(Graph g, String layer) {
        List<Node> r = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.layer().equals(layer)) {
                r.add(n);
            }
        }
        return r;
    }

    /** The value the layer hands on: the first output of its last node (an input layer without nodes: the input). */
    static String output(Graph g, String layer) {
        List<Node> ns = nodes(g, layer);
        return ns.isEmpty() ? layer : ns.get(ns.size() - 1).output(0);
    }

    /** The data value entering the layer: the first input from outside it that is not a weight. */
    static String input(Graph g, String layer) {
        Set<String> inside = new HashSet<>();
        for (Node n : nodes(g, layer)) {
            for (String in : n.inputs()) {
                if (!in.isEmpty() && !inside.contains(in) && g.initializer(in) == null && !isPlumbing(g, in)) {
                    return in;
                }
            }
            inside.addAll(n.outputs());
        }
        return null;
    }

    /** Every data value entering the layer from outside it (weights and shape plumbing left out), in order. */
    static List<String> inputs(Graph g, String layer) {
        List<String> r = new ArrayList<>();
        Set<String> inside = new HashSet<>();
        for (Node n : nodes(g, layer)) {
            for (String in : n.inputs()) {
                if (!in.isEmpty() && !inside.contains(in) && !r.contains(in) && g.initializer(in) == null && !isPlumbing(g, in)) {
                    r.add(in);
                }
            }
            inside.addAll(n.outputs());
        }
        return r;
    }

    /** The layers that produce {@code values} (a graph input names itself), in the same order. */
    static List<String> producers(Graph g, List<String> values) {
        List<String> r = new ArrayList<>();
        for (String v : values) {
            Node p = g.producer(v);
            r.add(p == null ? v : p.layer());
        }
        return r;
    }

    /** The other layers that read the layer's output, in graph order, and "the model output" when it is one. */
    static List<String> readers(Graph g, String layer) {
        String out = output(g, layer);
        List<String> r = new ArrayList<>();
        for (Node n : g.consumers(out)) {
            if (!n.layer().equals(layer) && !r.contains(n.layer())) {
                r.add(n.layer());
            }
        }
        if (g.outputs().stream().anyMatch(v -> v.name().equals(out))) {
            r.add("the model output");
        }
        return r;
    }

    /**
     * Throws when the layer joins branches (reads more than one layer): an edit that hands its
     * readers one input, or keeps one input, would silently drop the others.
     */
    static void requireOneInput(Graph g, String edit, String layer, String why) {
        List<String> in = inputs(g, layer);
        if (in.size() > 1) {
            throw new EditException(edit, "layer '" + layer + "' (" + opTypes(g, layer) + ") joins " + in.size() + " branches ("
                    + String.join(", ", producers(g, in)) + "); " + why);
        }
    }

    /** Throws when the layer's output is read by more than one layer (it starts branches). */
    static void requireOneReader(Graph g, String edit, String layer, String why) {
        List<String> r = readers(g, layer);
        if (r.size() > 1) {
            throw new EditException(edit, "layer '" + layer + "' starts a branch: its output is read by " + r.size() + " ("
                    + String.join(", ", r) + "); " + why);
        }
    }

    private static String opTypes(Graph g, String layer) {
        return String.join("+", nodes(g, layer).stream().map(Node::opType).toList());
    }

    private static boolean isPlumbing(Graph g, String value) {
        Node p = g.producer(value);
        return p != null && (p.op() == Op.CONSTANT || p.op() == Op.SHAPE);
    }

    /** The single graph output, or an error naming how many there are. */
    static String singleOutput(Graph g, String edit) {
        if (g.outputs().size() != 1) {
            throw new EditException(edit, "the model has " + g.outputs().size() + " outputs; this edit needs exactly one");
        }
        return g.outputs().get(0).name();
    }

    static void setOutput(Graph g, String value) {
        g.outputs().clear();
        g.outputs().add(new Value(value, g.type(value)));
    }

    /** The catalogue op of the layer's weighted node (Conv, Gemm ...), or null. */
    static Node weighted(Graph g, String layer) {
        for (Node n : nodes(g, layer)) {
            Op op = n.op();
            if (op != null && !op.weightSlots().isEmpty()) {
                for (OpSchema.WeightSlot s : op.weightSlots()) {
                    if (g.initializer(n.input(s.input())) != null) {
                        return n;
                    }
                }
            }
        }
        return null;
    }

    /** {@code base}, or {@code base_1}, {@code base_2} ... whichever no layer, node, value or weight uses yet. */
    static String fresh(Graph g, String base) {
        Set<String> used = new HashSet<>(g.layers());
        for (Node n : g.nodes()) {
            used.add(n.name());
            used.addAll(n.outputs());
        }
        used.addAll(g.initializers().keySet());
        g.inputs().forEach(v -> used.add(v.name()));
        if (!usedWithSuffixes(used, base)) {
            return base;
        }
        for (int i = 1;; i++) {
            if (!usedWithSuffixes(used, base + "_" + i)) {
                return base + "_" + i;
            }
        }
    }

    /** A layer name claims its derived names (name_W, name_relu ...) too. */
    private static boolean usedWithSuffixes(Set<String> used, String name) {
        for (String u : used) {
            if (u.equals(name) || u.startsWith(name + "_") && !u.substring(name.length() + 1).matches("\\d+.*")) {
                return true;
            }
        }
        return false;
    }
}
