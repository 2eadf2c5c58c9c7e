package graft.validate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders a {@link GraphDiff.Result} as a table for people or as JSON for machines. */
public final class DiffReport {
    private DiffReport() {
    }

    public static String table(String a, String b, GraphDiff.Result r) {
        StringBuilder s = new StringBuilder("diff " + a + " -> " + b + "\n");
        if (r.identical()) {
            return s.append("no differences: same layers, attributes, weights and training state\n").toString();
        }
        r.removed().forEach(l -> s.append("removed   ").append(l).append('\n'));
        r.added().forEach(l -> s.append("added     ").append(l).append(' ').append(r.addedShapes().get(l)).append('\n'));
        r.renamed().forEach((x, y) -> s.append("renamed   ").append(x).append(" -> ").append(y).append('\n'));
        r.changes().forEach(c -> s.append("changed   ").append(c).append('\n'));
        for (GraphDiff.WeightChange w : r.weights()) {
            s.append("weights   ").append(w.layer()).append(' ').append(w.weight()).append(": ");
            if (Double.isNaN(w.maxAbs())) {
                s.append("shape ").append(shape(w.shapeA())).append(" -> ").append(shape(w.shapeB()));
            } else {
                s.append(String.format(Locale.ROOT, "max abs diff %.3e, norm %.6g -> %.6g", w.maxAbs(), w.normA(), w.normB()));
            }
            s.append('\n');
        }
        r.training().forEach(t -> s.append("training  ").append(t).append('\n'));
        return s.toString();
    }

    private static String shape(long[] s) {
        return s == null ? "(absent)" : Report.shape(s);
    }

    public static String json(String a, String b, GraphDiff.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", a);
        m.put("b", b);
        m.put("identical", r.identical());
        m.put("added", r.added());
        m.put("added_shapes", r.addedShapes());
        m.put("removed", r.removed());
        m.put("renamed", r.renamed());
        m.put("changed", r.changes());
        List<Map<String, Object>> ws = new ArrayList<>();
        for (GraphDiff.WeightChange w : r.weights()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("layer", w.layer());
            x.put("weight", w.weight());
            x.put("shape_a", w.shapeA());
            x.put("shape_b", w.shapeB());
            x.put("max_abs_diff", Double.isNaN(w.maxAbs()) ? null : w.maxAbs());
            x.put("norm_a", Double.isNaN(w.normA()) ? null : w.normA());
            x.put("norm_b", Double.isNaN(w.normB()) ? null : w.normB());
            ws.add(x);
        }
        m.put("weights", ws);
        m.put("training", r.training());
        return Report.write(m);
    }
}
