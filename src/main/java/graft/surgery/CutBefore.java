package graft.surgery;

import graft.ir.Graph;

/** {@code cut-before LAYER}: keeps the network up to the layer before LAYER; LAYER's input becomes the output. */
public record CutBefore(String layer) implements Edit {
    /** The edit with a layer given by its 'graft inspect' number replaced by its name. */
    @Override
    public Edit resolved(Graph g) {
        return new CutBefore(Layers.resolve(g, describe(), layer));
    }

    @Override
    public String describe() {
        return "cut-before " + layer;
    }

    @Override
    public void check(Graph g) {
        Layers.singleOutput(g, describe());
        Layers.require(g, describe(), layer);
        String in = Layers.input(g, layer);
        if (in == null || g.inputs().stream().anyMatch(v -> v.name().equals(in))) {
            throw new EditException(describe(), "layer '" + layer + "' reads the model input; nothing would be left");
        }
        Layers.requireOneInput(g, describe(), layer, "cut-before can make only one of them the output");
    }

    @Override
    public void rewire(Graph g) {
        Layers.setOutput(g, Layers.input(g, layer));
    }
}
