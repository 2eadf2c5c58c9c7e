package graft.surgery;

import graft.ir.Graph;
import graft.ir.Node;
import java.util.List;
import java.util.Map;

/** Graph helpers edits share: shallow copies for trials, splicing new nodes into place. */
final class Graphs {
    private Graphs() {
    }

    /**
     * A copy that shares the immutable parts (nodes, weight handles, training records, extras'
     * bytes) and owns its lists and maps: editing the copy never changes the original. Waits for
     * deferred metadata (the source hash) so the copy carries it.
     */
    static Graph copy(Graph g) {
        Graph c = new Graph(g.name());
        c.inputs().addAll(g.inputs());
        c.outputs().addAll(g.outputs());
        c.nodes().addAll(g.nodes());
        c.initializers().putAll(g.initializers());
        c.types().putAll(g.types());
        c.opsets().putAll(g.opsets());
        c.metadata().putAll(g.resolvedMetadata());
        c.training().putAll(g.training());
        for (Map.Entry<String, byte[]> e : g.extras().entrySet()) {
            c.extras().put(e.getKey(), e.getValue());
        }
        return c;
    }

    /** Moves the nodes appended since {@code mark} to just after position {@code after} (topological order). */
    static void spliceAfter(Graph g, int mark, int after) {
        List<Node> all = g.nodes();
        List<Node> added = List.copyOf(all.subList(mark, all.size()));
        all.subList(mark, all.size()).clear();
        all.addAll(after + 1, added);
    }

    static int lastIndexOfLayer(Graph g, String layer) {
        for (int i = g.nodes().size() - 1; i >= 0; i--) {
            if (g.nodes().get(i).layer().equals(layer)) {
                return i;
            }
        }
        return -1;
    }
}
