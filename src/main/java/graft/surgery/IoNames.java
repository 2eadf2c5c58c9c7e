package graft.surgery;

import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What rename-input and rename-output check before {@link Graph#renameValue} renames a value
 * everywhere (nothing left reading the old name, the disconnection onnx's own rename helpers
 * are known for).
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

    static List<String> names(List<Value> values) {
        List<String> r = new ArrayList<>();
        values.forEach(v -> r.add(v.name()));
        return r;
    }
}
