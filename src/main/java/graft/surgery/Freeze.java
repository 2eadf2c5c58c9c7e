package graft.surgery;

import graft.ir.Graph;
import graft.ir.LayerTraining;

/**
 * {@code freeze RANGE}: the layers stop training (Keras {@code trainable=False}); multipliers are
 * kept. Only layers with weights carry training state; the others in the range are passed over.
 */
public record Freeze(LayerRange range) implements Edit {
    @Override
    public String describe() {
        return "freeze " + range;
    }

    @Override
    public void check(Graph g) {
        range.resolve(g, describe());
    }

    @Override
    public void rewire(Graph g) {
        for (String l : Layers.withWeights(g, range.resolve(g, describe()))) {
            LayerTraining t = g.trainingOf(l);
            g.training().put(l, new LayerTraining(false, t.lrMult(), t.decayMult()));
        }
    }
}
