package graft.surgery;

import graft.ir.Graph;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code expose LAYER...}: each layer's output becomes one more graph output, after the existing
 * ones, without cutting anything (for debugging and feature extraction). An NHWC (Keras) model
 * gets its 4-D activations in NHWC, as Keras's own model with that output would give them.
 */
public record Expose(List<String> layers) implements Edit {
    public Expose {
        layers = List.copyOf(layers);
    }

    @Override
    public Edit resolved(Graph g) {
        List<String> r = new ArrayList<>();
        for (String l : layers) {
            r.add(Layers.resolve(g, describe(), l));
        }
        return new Expose(r);
    }

    @Override
    public String describe() {
        return "expose " + String.join(" ", layers);
    }

    @Override
    public void check(Graph g) {
        if (layers.isEmpty()) {
            throw new EditException(describe(), "names no layer");
        }
        List<String> seen = new ArrayList<>();
        for (String l : layers) {
            Layers.require(g, describe(), l);
            String v = Layers.output(g, l);
            if (g.inputs().stream().anyMatch(x -> x.name().equals(v))) {
                throw new EditException(describe(), "layer '" + l + "' is the model's input");
            }
            if (g.outputs().stream().anyMatch(x -> x.name().equals(v)) || seen.contains(v)) {
                throw new EditException(describe(), "layer '" + l + "' is already an output of the model");
            }
            seen.add(v);
        }
    }

    @Override
    public void rewire(Graph g) {
        for (String l : layers) {
            String v = Layers.output(g, l);
            g.outputs().add(new Value(v, g.type(v)));
        }
    }
}
