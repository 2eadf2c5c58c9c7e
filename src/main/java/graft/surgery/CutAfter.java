package graft.surgery;

import graft.ir.Graph;

/** {@code cut-after LAYER}: keeps the network up to and including LAYER, whose output becomes the model's. */
public record CutAfter(String layer) implements Edit {
    /** The edit with a layer given by its 'graft inspect' number replaced by its name. */
    @Override
    public Edit resolved(Graph g) {
        return new CutAfter(Layers.resolve(g, describe(), layer));
    }

    @Override
    public String describe() {
        return "cut-after " + layer;
    }

    @Override
    public void check(Graph g) {
        Layers.singleOutput(g, describe());
        Layers.require(g, describe(), layer);
    }

    @Override
    public void rewire(Graph g) {
        Layers.setOutput(g, Layers.output(g, layer));
    }
}
