package graft.surgery;

import graft.ir.Graph;
import graft.ir.Node;
import java.util.List;
import java.util.Map;

/** Graph helpers edits share: shallow copies for trials, splicing new nodes into place. */
final class Graphs {
    private Graphs() {
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
