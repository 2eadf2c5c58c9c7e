package graft.ir;

import java.util.List;

/**
 * Training state of one source layer: whether it is trainable, and per-parameter learning
 * rate and weight decay multipliers with Caffe semantics (lr_mult 0 freezes that parameter).
 */
public record LayerTraining(boolean trainable, List<Float> lrMult, List<Float> decayMult) {
    public LayerTraining {
        lrMult = List.copyOf(lrMult);
        decayMult = List.copyOf(decayMult);
    }

    public static final LayerTraining DEFAULT = new LayerTraining(true, List.of(), List.of());

    public static LayerTraining frozen() {
        return new LayerTraining(false, List.of(), List.of());
    }
}
