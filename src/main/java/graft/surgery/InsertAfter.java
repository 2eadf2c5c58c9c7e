package graft.surgery;

import graft.ir.Graph;

/** {@code insert-after LAYER SPEC}: a new layer between LAYER and what read its output. */
public record InsertAfter(String layer, LayerSpec spec, Init init, long seed) implements Edit {
    /** The edit with a layer given by its 'graft inspect' number replaced by its name. */
    @Override
    public Edit resolved(Graph g) {
        return new InsertAfter(Layers.resolve(g, describe(), layer), spec, init, seed);
    }

    @Override
    public String describe() {
        return "insert-after " + layer + " " + spec + Fill.text(init, seed);
    }

    @Override
    public void check(Graph g) {
        Layers.require(g, describe(), layer);
        spec.checkInput(g.type(Layers.output(g, layer)), describe());
        if (spec.name() != null && !Layers.fresh(g, spec.name()).equals(spec.name())) {
            throw new EditException(describe(), "name '" + spec.name() + "' is already used");
        }
    }

    @Override
    public void rewire(Graph g) {
        String out = Layers.output(g, layer);
        String name = Layers.fresh(g, spec.baseName());
        Remove.bypass(g, out, name);
        int mark = g.nodes().size();
        spec.build(g, out, name, init, seed);
        Graphs.spliceAfter(g, mark, Graphs.lastIndexOfLayer(g, layer));
    }
}
