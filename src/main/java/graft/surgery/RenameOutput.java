package graft.surgery;

import graft.ir.Graph;

/**
 * {@code rename-output OLD NEW}: the graph output OLD is called NEW; the node that makes it
 * writes NEW, and every node that also reads it (an exposed intermediate value) reads NEW.
 */
public record RenameOutput(String from, String to) implements Edit {
    @Override
    public String describe() {
        return "rename-output " + from + " " + to;
    }

    @Override
    public boolean namesGraphValues() {
        return true;
    }

    @Override
    public void check(Graph g) {
        if (g.outputs().stream().noneMatch(v -> v.name().equals(from))) {
            throw new EditException(describe(), "'" + from + "' is not an output of the model; its outputs: " + String.join(", ", IoNames.names(g.outputs())));
        }
        if (g.inputs().stream().anyMatch(v -> v.name().equals(from))) {
            throw new EditException(describe(), "'" + from + "' is the model's input as well; rename it with rename-input");
        }
        IoNames.checkNewName(g, describe(), to);
    }

    @Override
    public void rewire(Graph g) {
        g.renameValue(from, to);
    }
}
