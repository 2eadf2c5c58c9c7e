package graft.surgery;

import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.ir.Value;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.ListIterator;
import java.util.Map;

/**
 * {@code rename LAYER NEW}: with Caffe's semantics, where weights are matched by layer name, a
 * renamed layer starts from its filler ({@code --init}, Glorot by default; bias zero), as fc8 ->
 * fc8_flickr does. {@code --keep-weights} renames without re-initialising. The layer's nodes,
 * weights and the values named after it are renamed too; its training state moves with it.
 */
public record Rename(String layer, String newName, boolean keepWeights, Init init, long seed) implements Edit {
    /** The edit with a layer given by its 'graft inspect' number replaced by its name. */
    @Override
    public Edit resolved(Graph g) {
        return new Rename(Layers.resolve(g, describe(), layer), newName, keepWeights, init, seed);
    }

    @Override
    public String describe() {
        return "rename " + layer + " " + newName + (keepWeights ? " --keep-weights" : "") + Fill.text(init, seed);
    }

    @Override
    public void check(Graph g) {
        Layers.require(g, describe(), layer);
        if (!newName.matches("[A-Za-z0-9_./:-]+")) {
            throw new EditException(describe(), "new name '" + newName + "' may hold letters, digits and _ . / : - only");
        }
        if (!Layers.fresh(g, newName).equals(newName)) {
            throw new EditException(describe(), "name '" + newName + "' is already used in the model");
        }
    }

    private String map(String name) {
        if (name.equals(layer)) {
            return newName;
        }
        return name.startsWith(layer + "_") || name.startsWith(layer + "/") ? newName + name.substring(layer.length()) : name;
    }

    @Override
    public void rewire(Graph g) {
        Map<String, String> values = new HashMap<>();
        for (Node n : Layers.nodes(g, layer)) {
            for (String o : n.outputs()) {
                values.put(o, map(o));
            }
            for (String in : n.inputs()) {
                if (g.initializer(in) != null) {
                    values.put(in, map(in));
                }
            }
        }
        values.entrySet().removeIf(e -> e.getKey().equals(e.getValue()));
        for (var e : values.entrySet()) {
            Weight w = g.initializers().remove(e.getKey());
            if (w != null) {
                g.addInitializer(w.renamed(e.getValue()));
            }
        }
        for (ListIterator<Node> it = g.nodes().listIterator(); it.hasNext();) {
            Node n = it.next();
            List<String> in = new ArrayList<>(n.inputs());
            in.replaceAll(s -> values.getOrDefault(s, s));
            List<String> out = new ArrayList<>(n.outputs());
            out.replaceAll(s -> values.getOrDefault(s, s));
            Node m = n.withInputs(in).withOutputs(out);
            if (n.layer().equals(layer)) {
                m = m.withName(map(n.name()), newName);
            }
            it.set(m);
        }
        for (ListIterator<Value> it = g.outputs().listIterator(); it.hasNext();) {
            Value v = it.next();
            if (values.containsKey(v.name())) {
                it.set(new Value(values.get(v.name()), v.type()));
            }
        }
        LayerTraining t = g.training().remove(layer);
        if (t != null) {
            g.training().put(newName, t);
        }
        if (!keepWeights) {
            Reinit.fill(g, newName, Fill.orDefault(init), seed);
        }
    }
}
