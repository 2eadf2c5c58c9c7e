package graft.surgery;

import graft.ir.Graph;
import graft.ir.ShapeInference;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code attach-head SPEC, SPEC, ...}: new layers after the model's output, in order, for
 * example {@code flatten, dense 256 relu, dropout 0.5, dense 1 sigmoid} or
 * {@code global-avg, dense 1024 relu, dense 128 relu, dense 5 softmax}.
 */
public record AttachHead(List<LayerSpec> layers, Init init, long seed) implements Edit {
    public AttachHead {
        layers = List.copyOf(layers);
    }

    @Override
    public String describe() {
        return "attach-head " + layers.stream().map(LayerSpec::toString).collect(Collectors.joining(", ")) + Fill.text(init, seed);
    }

    /** Builds the head on a copy: each layer's input shape is known only once the one before it exists. */
    @Override
    public void check(Graph g) {
        Layers.singleOutput(g, describe());
        if (layers.isEmpty()) {
            throw new EditException(describe(), "a head needs at least one layer");
        }
        try {
            rewire(g.copy());
        } catch (graft.error.InvalidGraphException e) {
            throw new EditException(describe(), "the head does not fit: " + e.problems().get(0));
        }
    }

    @Override
    public void rewire(Graph g) {
        String x = Layers.singleOutput(g, describe());
        for (LayerSpec s : layers) {
            if (s.name() != null && !Layers.fresh(g, s.name()).equals(s.name())) {
                throw new EditException(describe(), "name '" + s.name() + "' is already used");
            }
            s.checkInput(g.type(x), describe());
            x = s.build(g, x, Layers.fresh(g, s.baseName()), init, seed);
            ShapeInference.run(g);
        }
        Layers.setOutput(g, x);
    }
}
