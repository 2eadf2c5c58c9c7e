package graft.surgery;

import graft.ir.Graph;

/**
 * {@code rename-input OLD NEW}: the graph input OLD is called NEW, and every node that read it
 * reads NEW. Weights, layers and outputs are untouched; a model fed by name
 * ({@code run --input NEW=x.npy}) takes the new name.
 */
public record RenameInput(String from, String to) implements Edit {
    @Override
    public String describe() {
        return "rename-input " + from + " " + to;
    }

    /** Names are the graph's own, seen before any layout view: an NHWC model's input is renamed as it is. */
    @Override
    public boolean namesGraphValues() {
        return true;
    }

    @Override
    public void check(Graph g) {
        if (g.inputs().stream().noneMatch(v -> v.name().equals(from))) {
            throw new EditException(describe(), "'" + from + "' is not an input of the model; its inputs: " + String.join(", ", IoNames.names(g.inputs())));
        }
        IoNames.checkNewName(g, describe(), to);
    }

    @Override
    public void rewire(Graph g) {
        g.renameValue(from, to);
    }
}
