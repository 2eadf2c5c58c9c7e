package graft.surgery;

import graft.ir.Graph;
import java.util.List;

/** {@code pop N}: removes the last N layers; the new output is what the layer before them gives. */
public record Pop(int count) implements Edit {
    @Override
    public String describe() {
        return "pop " + count;
    }

    @Override
    public void check(Graph g) {
        Layers.singleOutput(g, describe());
        int n = Layers.names(g).size();
        if (count < 1 || count >= n) {
            throw new EditException(describe(), "the model has " + n + " layers; pop takes 1 to " + (n - 1));
        }
        // In a DAG the layer left last may be one branch of a popped join: the other branch's
        // layers before it would go too, and pop would remove more than it says.
        List<String> names = Layers.names(g);
        String last = names.get(n - count - 1);
        Graph cut = g.copy();
        Layers.setOutput(cut, Layers.output(cut, last));
        cut.removeUnreachable();
        List<String> kept = Layers.names(cut);
        List<String> lost = names.subList(0, n - count).stream().filter(l -> !kept.contains(l)).toList();
        if (!lost.isEmpty()) {
            throw new EditException(describe(), "the layer left last, '" + last + "', is one branch of a popped join: "
                    + lost.size() + " layer(s) before it (" + String.join(", ", lost) + ") would go too. 'cut-after " + last
                    + "' keeps only what it needs, if that is meant");
        }
    }

    @Override
    public void rewire(Graph g) {
        List<String> names = Layers.names(g);
        Layers.setOutput(g, Layers.output(g, names.get(names.size() - count - 1)));
    }
}
