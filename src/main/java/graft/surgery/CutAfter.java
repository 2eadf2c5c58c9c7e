package graft.surgery;

import graft.ir.Graph;

/** {@code cut-after LAYER}: keeps the network up to and including LAYER, whose output becomes the model's. */
public record CutAfter(String layer) implements Edit {
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
