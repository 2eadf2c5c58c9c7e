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
    }

    @Override
    public void rewire(Graph g) {
        List<String> names = Layers.names(g);
        Layers.setOutput(g, Layers.output(g, names.get(names.size() - count - 1)));
    }
}
