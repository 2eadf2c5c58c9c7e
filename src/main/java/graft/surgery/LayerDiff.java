package graft.surgery;

import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.ir.Node;
import graft.ir.Weight;
import graft.ir.TensorType;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The layer table before and after surgery, in one listing with the differences marked:
 * {@code +} a new layer, {@code -} a removed one (shown where it was), {@code ~} a layer whose
 * ops, output shape, parameter count or training state changed (its old values on the next
 * line), {@code *} a layer that looks the same but holds new weights (reinit, rename), blank for a layer left as it was. Inputs, outputs and totals are compared the same way.
 * What {@code graft surgery --dry-run} prints; the golden tests compare it exactly.
 */
public final class LayerDiff {
    private LayerDiff() {
    }

    public static String of(Graph before, Graph after) {
        List<LayerTable.Row> a = LayerTable.of(before);
        List<LayerTable.Row> b = LayerTable.of(after);
        Map<String, LayerTable.Row> old = new HashMap<>();
        a.forEach(r -> old.put(r.layer(), r));
        Map<String, LayerTable.Row> now = new HashMap<>();
        b.forEach(r -> now.put(r.layer(), r));
        // Removed layers are shown after the last surviving layer that preceded them.
        Map<String, List<LayerTable.Row>> removedAfter = new LinkedHashMap<>();
        String anchor = "";
        for (LayerTable.Row r : a) {
            if (now.containsKey(r.layer())) {
                anchor = r.layer();
            } else {
                removedAfter.computeIfAbsent(anchor, k -> new ArrayList<>()).add(r);
            }
        }
        List<String[]> lines = new ArrayList<>();
        removedAfter.getOrDefault("", List.of()).forEach(r -> lines.add(cells("-", r)));
        for (LayerTable.Row r : b) {
            LayerTable.Row o = old.get(r.layer());
            if (o == null) {
                lines.add(cells("+", r));
            } else if (same(o, r)) {
                lines.add(cells(sameWeights(before, after, r.layer()) ? " " : "*", r));
            } else {
                lines.add(cells("~", r));
                String[] was = cells(" ", o);
                was[1] = "";
                was[2] = "  was";
                lines.add(was);
            }
            removedAfter.getOrDefault(r.layer(), List.of()).forEach(x -> lines.add(cells("-", x)));
        }
        String[] head = {" ", "#", "Layer", "Op(s)", "Output shape", "Param #", "Trainable"};
        int[] w = new int[head.length];
        for (String[] l : concat(head, lines)) {
            for (int i = 0; i < l.length; i++) {
                w[i] = Math.max(w[i], l[i].length());
            }
        }
        StringBuilder s = new StringBuilder();
        s.append(values("input ", before.inputs(), before, after.inputs(), after));
        s.append(values("output", before.outputs(), before, after.outputs(), after));
        String rule = "-".repeat(w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + 12);
        s.append(rule).append('\n').append(row(head, w)).append(rule.replace('-', '=')).append('\n');
        lines.forEach(l -> s.append(row(l, w)));
        s.append(rule).append('\n');
        s.append(total("Total params", sum(a, false), sum(b, false)));
        s.append(total("Trainable params", sum(a, true), sum(b, true)));
        s.append(String.format(Locale.ROOT, "Layers: %d -> %d (%d added, %d removed, %d changed, %d with new weights)%n", a.size(), b.size(),
                lines.stream().filter(l -> l[0].equals("+")).count(), lines.stream().filter(l -> l[0].equals("-")).count(),
                lines.stream().filter(l -> l[0].equals("~")).count(), lines.stream().filter(l -> l[0].equals("*")).count()));
        s.append("Marks: + added, - removed, ~ changed (old values below), * same shape with new weights\n");
        return s.toString();
    }

    private static List<String[]> concat(String[] head, List<String[]> rest) {
        List<String[]> r = new ArrayList<>();
        r.add(head);
        r.addAll(rest);
        return r;
    }

    /** True when the layer reads the very same weight handles in both graphs (surgery copies share them). */
    private static boolean sameWeights(Graph a, Graph b, String layer) {
        List<Weight> x = weights(a, layer);
        List<Weight> y = weights(b, layer);
        if (x.size() != y.size()) {
            return false;
        }
        for (int i = 0; i < x.size(); i++) {
            if (x.get(i) != y.get(i)) {
                return false;
            }
        }
        return true;
    }

    private static List<Weight> weights(Graph g, String layer) {
        List<Weight> r = new ArrayList<>();
        for (Node n : Layers.nodes(g, layer)) {
            for (String in : n.inputs()) {
                Weight w = g.initializer(in);
                if (w != null) {
                    r.add(w);
                }
            }
        }
        return r;
    }

    private static boolean same(LayerTable.Row o, LayerTable.Row r) {
        return o.ops().equals(r.ops()) && o.output().equals(r.output()) && o.params() == r.params() && o.training().equals(r.training());
    }

    private static String[] cells(String mark, LayerTable.Row r) {
        return new String[] {mark, Integer.toString(r.index()), r.layer(), r.ops(), r.output(),
                String.format(Locale.ROOT, "%,d", r.params()), train(r)};
    }

    static String train(LayerTable.Row r) {
        String t = r.params() == 0 ? "" : r.trainable() ? "yes" : "no";
        if (!r.training().lrMult().isEmpty()) {
            t += " lr_mult " + r.training().lrMult().stream().map(Num::text).collect(Collectors.joining("/"));
        }
        if (!r.training().decayMult().isEmpty()) {
            t += " decay_mult " + r.training().decayMult().stream().map(Num::text).collect(Collectors.joining("/"));
        }
        return t.trim();
    }

    private static String row(String[] c, int[] w) {
        String s = String.format(Locale.ROOT, "%-" + w[0] + "s %" + w[1] + "s  %-" + w[2] + "s  %-" + w[3] + "s  %-" + w[4] + "s  %"
                + w[5] + "s  %s", (Object[]) c);
        return s.stripTrailing() + "\n";
    }

    private static long sum(List<LayerTable.Row> rows, boolean trainableOnly) {
        return rows.stream().mapToLong(r -> trainableOnly ? r.trainableParams() : r.params()).sum();
    }

    private static String total(String what, long a, long b) {
        return String.format(Locale.ROOT, "%s: %,d%s%n", what, a, a == b ? " (unchanged)" : " -> " + String.format(Locale.ROOT, "%,d", b));
    }

    private static String values(String what, List<Value> va, Graph a, List<Value> vb, Graph b) {
        String x = describe(va, a);
        String y = describe(vb, b);
        return what + ": " + x + (x.equals(y) ? "" : " -> " + y) + "\n";
    }

    private static String describe(List<Value> vs, Graph g) {
        List<String> r = new ArrayList<>();
        for (Value v : vs) {
            TensorType t = g.type(v.name()) != null ? g.type(v.name()) : v.type();
            r.add(v.name() + " " + (t == null ? "?" : t.toString()));
        }
        return String.join(", ", r);
    }
}
