package graft.surgery;

import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.TensorType;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.ListIterator;
import java.util.Set;

/**
 * Renaming one value of the graph everywhere it is named: the node that makes it, every node
 * that reads it, the graph's inputs and outputs and its declared type. Nothing is left reading
 * the old name (the disconnection onnx's own rename helpers are known for).
 */
final class IoNames {
    private IoNames() {
    }

    /** Every value name in use: graph inputs, node outputs, weights. */
    static Set<String> values(Graph g) {
        Set<String> used = new HashSet<>();
        g.inputs().forEach(v -> used.add(v.name()));
        for (Node n : g.nodes()) {
            used.addAll(n.outputs());
        }
        used.addAll(g.initializers().keySet());
        return used;
    }

    static void checkNewName(Graph g, String edit, String name) {
        if (!name.matches("[A-Za-z0-9_./:-]+")) {
            throw new EditException(edit, "new name '" + name + "' may hold letters, digits and _ . / : - only");
        }
        if (values(g).contains(name)) {
            throw new EditException(edit, "name '" + name + "' is already a value of the model");
        }
    }

    static void rename(Graph g, String from, String to) {
        for (ListIterator<Node> it = g.nodes().listIterator(); it.hasNext();) {
            Node n = it.next();
            if (!n.inputs().contains(from) && !n.outputs().contains(from)) {
                continue;
            }
            List<String> in = new ArrayList<>(n.inputs());
            in.replaceAll(s -> s.equals(from) ? to : s);
            List<String> out = new ArrayList<>(n.outputs());
            out.replaceAll(s -> s.equals(from) ? to : s);
            it.set(n.withInputs(in).withOutputs(out));
        }
        rename(g.inputs(), from, to);
        rename(g.outputs(), from, to);
        TensorType t = g.types().remove(from);
        if (t != null) {
            g.types().put(to, t);
        }
    }

    private static void rename(List<Value> values, String from, String to) {
        for (ListIterator<Value> it = values.listIterator(); it.hasNext();) {
            Value v = it.next();
            if (v.name().equals(from)) {
                it.set(new Value(to, v.type()));
            }
        }
    }

    static List<String> names(List<Value> values) {
        List<String> r = new ArrayList<>();
        values.forEach(v -> r.add(v.name()));
        return r;
    }
}
