package graft.surgery;

import graft.ir.Graph;
import graft.ir.LayerTraining;
import java.util.List;

/**
 * {@code lr-mult LAYER W B}: Caffe's per-parameter learning-rate multipliers (weights, bias).
 * 0 for both freezes the layer, as in Caffe; any other value leaves it trainable.
 */
public record LrMult(String layer, float weights, float bias) implements Edit {
    /** The edit with a layer given by its 'graft inspect' number replaced by its name. */
    @Override
    public Edit resolved(Graph g) {
        return new LrMult(Layers.resolve(g, describe(), layer), weights, bias);
    }

    @Override
    public String describe() {
        return "lr-mult " + layer + " " + Num.text(weights) + " " + Num.text(bias);
    }

    @Override
    public void check(Graph g) {
        Layers.require(g, describe(), layer);
        Num.requireMultipliers(describe(), weights, bias);
    }

    @Override
    public void rewire(Graph g) {
        LayerTraining t = g.trainingOf(layer);
        g.training().put(layer, new LayerTraining(weights != 0 || bias != 0, List.of(weights, bias), t.decayMult()));
    }
}
