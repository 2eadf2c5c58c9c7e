package graft.surgery;

import graft.ir.Graph;
import graft.ir.LayerTraining;

/** {@code unfreeze RANGE}: the layers train again; lr multipliers of 0 are raised to 1, others kept. */
public record Unfreeze(LayerRange range) implements Edit {
    @Override
    public String describe() {
        return "unfreeze " + range;
    }

    @Override
    public void check(Graph g) {
        range.resolve(g, describe());
    }

    @Override
    public void rewire(Graph g) {
        for (String l : Layers.withWeights(g, range.resolve(g, describe()))) {
            LayerTraining t = g.trainingOf(l);
            var lr = t.lrMult().stream().map(m -> m == 0f ? 1f : m).toList();
            LayerTraining u = new LayerTraining(true, lr, t.decayMult());
            if (u.equals(LayerTraining.DEFAULT)) {
                g.training().remove(l);
            } else {
                g.training().put(l, u);
            }
        }
    }
}
