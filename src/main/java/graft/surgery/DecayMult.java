package graft.surgery;

import graft.ir.Graph;
import graft.ir.LayerTraining;
import java.util.List;

/** {@code decay-mult LAYER W B}: Caffe's per-parameter weight-decay multipliers (weights, bias). */
public record DecayMult(String layer, float weights, float bias) implements Edit {
    /** The edit with a layer given by its 'graft inspect' number replaced by its name. */
    @Override
    public Edit resolved(Graph g) {
        return new DecayMult(Layers.resolve(g, describe(), layer), weights, bias);
    }

    @Override
    public String describe() {
        return "decay-mult " + layer + " " + Num.text(weights) + " " + Num.text(bias);
    }

    @Override
    public void check(Graph g) {
        Layers.require(g, describe(), layer);
        Num.requireMultipliers(describe(), weights, bias);
    }

    @Override
    public void rewire(Graph g) {
        LayerTraining t = g.trainingOf(layer);
        g.training().put(layer, new LayerTraining(t.trainable(), t.lrMult(), List.of(weights, bias)));
    }
}
