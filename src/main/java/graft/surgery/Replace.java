package graft.surgery;

import graft.ir.Graph;
import graft.ir.Node;
import java.util.List;

/**
 * {@code replace LAYER SPEC}: LAYER gives way to a new layer reading the same input. The new
 * layer keeps LAYER's name unless the spec names it; its weights are new and it trains.
 */
public record Replace(String layer, LayerSpec spec, Init init, long seed) implements Edit {
    /** The edit with a layer given by its 'graft inspect' number replaced by its name. */
    @Override
    public Edit resolved(Graph g) {
        return new Replace(Layers.resolve(g, describe(), layer), spec, init, seed);
    }

    @Override
    public String describe() {
        return "replace " + layer + " " + spec + Fill.text(init, seed);
    }

    @Override
    public void check(Graph g) {
        Layers.require(g, describe(), layer);
        String in = Layers.input(g, layer);
        if (in == null) {
            throw new EditException(describe(), "layer '" + layer + "' has no data input");
        }
        Layers.requireOneInput(g, describe(), layer, "the new layer would read only the first and drop the rest");
        spec.checkInput(g.type(in), describe());
        if (spec.name() != null && !spec.name().equals(layer) && !Layers.fresh(g, spec.name()).equals(spec.name())) {
            throw new EditException(describe(), "name '" + spec.name() + "' is already used");
        }
    }

    @Override
    public void rewire(Graph g) {
        String in = Layers.input(g, layer);
        String out = Layers.output(g, layer);
        List<Node> old = Layers.nodes(g, layer);
        int at = g.nodes().indexOf(old.get(0)) - 1;
        g.nodes().removeAll(old);
        g.training().remove(layer);
        String name = spec.name() != null ? spec.name() : layer;
        Remove.bypass(g, out, name);
        int mark = g.nodes().size();
        spec.build(g, in, name, init, seed);
        Graphs.spliceAfter(g, mark, at);
    }
}
