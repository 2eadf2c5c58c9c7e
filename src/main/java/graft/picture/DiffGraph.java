package graft.picture;

import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.validate.GraphDiff;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The union of two models' layer graphs, each box marked as {@link GraphDiff} reports it: removed (only in A),
 * added (only in B), renamed (one box, both names), changed (ops, attributes or weights), or the same; a
 * trainability or multiplier change is kept beside the status. Edges present in one model only are marked
 * removed or added. Layers are keyed by their name in A; an added layer by its name in B.
 */
public final class DiffGraph {
    private DiffGraph() {
    }

    public static LayerGraph of(Graph a, Graph b, GraphDiff.Result d) {
        Map<String, String> toA = new LinkedHashMap<>();
        d.renamed().forEach((x, y) -> toA.put(y, x));
        List<LayerTable.Row> ra = LayerTable.of(a);
        List<LayerTable.Row> rb = LayerTable.of(b);
        Map<String, LayerTable.Row> byB = new LinkedHashMap<>();
        rb.forEach(r -> byB.put(r.layer(), r));
        Set<String> inA = new LinkedHashSet<>();
        ra.forEach(r -> inA.add(r.layer()));

        List<LayerGraph.Box> boxes = new ArrayList<>();
        for (LayerTable.Row r : ra) {
            String bName = d.renamed().getOrDefault(r.layer(), r.layer());
            LayerTable.Row other = d.removed().contains(r.layer()) ? null : byB.get(bName);
            LayerGraph.Status s;
            if (other == null) {
                s = LayerGraph.Status.REMOVED;
            } else if (!bName.equals(r.layer())) {
                s = LayerGraph.Status.RENAMED;
            } else {
                s = changed(d, r.layer(), bName) ? LayerGraph.Status.CHANGED : LayerGraph.Status.SAME;
            }
            LayerTable.Row shown = other == null ? r : other;
            String title = s == LayerGraph.Status.RENAMED ? r.layer() + " \u2192 " + bName : r.layer();
            Map<String, Object> det = LayerGraph.details(shown);
            List<String> lines = lines(d, r.layer(), bName);
            det.put("status", s.key());
            det.put("diff", lines);
            boxes.add(new LayerGraph.Box(r.layer(), title, shown.ops(), shown.output(), LayerGraph.isFrozen(shown), s,
                    training(d, r.layer(), bName), det));
        }
        for (LayerTable.Row r : rb) {
            if (toA.containsKey(r.layer()) && inA.contains(toA.get(r.layer())) || inA.contains(r.layer()) && !d.added().contains(r.layer())) {
                continue;
            }
            Map<String, Object> det = LayerGraph.details(r);
            det.put("status", LayerGraph.Status.ADDED.key());
            det.put("diff", List.of("added " + r.layer() + " " + r.output()));
            boxes.add(new LayerGraph.Box(key(r.layer(), inA), r.layer(), r.ops(), r.output(), LayerGraph.isFrozen(r),
                    LayerGraph.Status.ADDED, "", det));
        }

        Map<String, LayerGraph.Edge> edges = new LinkedHashMap<>();
        for (String[] e : LayerGraph.layerEdges(a, ra)) {
            edges.put(e[0] + "\u0000" + e[1], new LayerGraph.Edge(e[0], e[1], LayerGraph.Status.REMOVED));
        }
        for (String[] e : LayerGraph.layerEdges(b, rb)) {
            String f = unionKey(e[0], toA, inA, d);
            String t = unionKey(e[1], toA, inA, d);
            String k = f + "\u0000" + t;
            edges.put(k, new LayerGraph.Edge(f, t, edges.containsKey(k) ? LayerGraph.Status.SAME : LayerGraph.Status.ADDED));
        }
        return new LayerGraph(boxes, new ArrayList<>(edges.values()));
    }

    /** An added layer whose name A also uses (a removed layer of the same name) gets a distinct key. */
    private static String key(String bName, Set<String> inA) {
        return inA.contains(bName) ? bName + " (new)" : bName;
    }

    private static String unionKey(String bName, Map<String, String> toA, Set<String> inA, GraphDiff.Result d) {
        if (toA.containsKey(bName) && inA.contains(toA.get(bName))) {
            return toA.get(bName);
        }
        return d.added().contains(bName) ? key(bName, inA) : bName;
    }

    /** The diff's own subject for a layer: "name" or "a -> b" for a renamed one. */
    private static String subject(String a, String b) {
        return a.equals(b) ? a : a + " -> " + b;
    }

    /** Ops, attributes or weights differ (the diff's "changed" and "weights" lists). */
    private static boolean changed(GraphDiff.Result d, String a, String b) {
        String p = subject(a, b) + ": ";
        return d.changes().stream().anyMatch(c -> c.startsWith(p))
                || d.weights().stream().anyMatch(w -> w.layer().equals(subject(a, b)));
    }

    /** "frozen", "unfrozen", "multipliers" or "" from the diff's training lines. */
    private static String training(GraphDiff.Result d, String a, String b) {
        String p = subject(a, b) + ": ";
        String r = "";
        for (String t : d.training()) {
            if (t.startsWith(p)) {
                String rest = t.substring(p.length());
                if (rest.equals("trainable true -> false")) {
                    return "frozen";
                }
                if (rest.equals("trainable false -> true")) {
                    return "unfrozen";
                }
                r = "multipliers";
            }
        }
        return r;
    }

    private static List<String> lines(GraphDiff.Result d, String a, String b) {
        String s = subject(a, b);
        List<String> r = new ArrayList<>();
        d.changes().stream().filter(c -> c.startsWith(s + ": ")).forEach(r::add);
        d.weights().stream().filter(w -> w.layer().equals(s)).forEach(w -> r.add(s + ": weights " + w.weight()
                + (Double.isNaN(w.maxAbs()) ? " reshaped" : String.format(java.util.Locale.ROOT, " max abs diff %.3e", w.maxAbs()))));
        d.training().stream().filter(c -> c.startsWith(s + ": ")).forEach(r::add);
        return r;
    }
}
