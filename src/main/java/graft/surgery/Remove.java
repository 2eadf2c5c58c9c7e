package graft.surgery;

import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.ListIterator;

/** {@code remove LAYER}: takes one layer out and connects what read its output to its input. */
public record Remove(String layer) implements Edit {
    /** The edit with a layer given by its 'graft inspect' number replaced by its name. */
    @Override
    public Edit resolved(Graph g) {
        return new Remove(Layers.resolve(g, describe(), layer));
    }

    @Override
    public String describe() {
        return "remove " + layer;
    }

    @Override
    public void check(Graph g) {
        Layers.require(g, describe(), layer);
        if (Layers.input(g, layer) == null) {
            throw new EditException(describe(), "layer '" + layer + "' has no data input to connect its readers to");
        }
        Layers.requireOneInput(g, describe(), layer, "remove would connect its readers to one of them and drop the rest");
        Layers.requireOneReader(g, describe(), layer, "remove takes out only a layer with one reader");
    }

    @Override
    public void rewire(Graph g) {
        bypass(g, Layers.output(g, layer), Layers.input(g, layer));
    }

    /** Makes every reader of {@code from} (and the graph outputs) read {@code to} instead. */
    static void bypass(Graph g, String from, String to) {
        for (ListIterator<Node> it = g.nodes().listIterator(); it.hasNext();) {
            Node n = it.next();
            if (n.inputs().contains(from)) {
                List<String> in = new ArrayList<>(n.inputs());
                in.replaceAll(s -> s.equals(from) ? to : s);
                it.set(n.withInputs(in));
            }
        }
        for (ListIterator<Value> it = g.outputs().listIterator(); it.hasNext();) {
            if (it.next().name().equals(from)) {
                it.set(new Value(to, g.type(to)));
            }
        }
    }
}
