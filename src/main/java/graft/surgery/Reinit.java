package graft.surgery;

import graft.ir.Op;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.OpSchema;
import graft.ir.Weight;

/**
 * {@code reinit LAYER --init he|glorot|gaussian:STD|zeros [--seed S]}: the layer's kernel starts
 * again from the filler, its bias from zero (Caffe's and Keras's default bias filler); a
 * BatchNormalization's scale, bias, mean and variance from 1, 0, 0 and 1.
 */
public record Reinit(String layer, Init init, long seed) implements Edit {
    /** The edit with a layer given by its 'graft inspect' number replaced by its name. */
    @Override
    public Edit resolved(Graph g) {
        return new Reinit(Layers.resolve(g, describe(), layer), init, seed);
    }

    /**
     * The re-initialisation {@code graft finetune --reinit} uses: He normal for a layer whose
     * output goes through a Relu, else Glorot uniform (the Keras default), seeded.
     */
    public static Reinit forLayer(Graph g, String ref, long seed) {
        // resolved first: a layer given by its 'graft inspect' number must get the filler its name would
        String layer = Layers.resolve(g, "reinit " + ref, ref);
        boolean relu = false;
        for (Node n : Layers.nodes(g, layer)) {
            relu |= g.consumers(n.output(0)).stream().anyMatch(c -> c.op() == Op.RELU);
        }
        return new Reinit(layer, relu ? Init.HE : Init.GLOROT, seed);
    }

    @Override
    public String describe() {
        return "reinit " + layer + Fill.text(init, seed);
    }

    @Override
    public void check(Graph g) {
        Layers.require(g, describe(), layer);
        if (Layers.weighted(g, layer) == null) {
            throw new EditException(describe(), "layer '" + layer + "' has no weights to re-initialise");
        }
    }

    @Override
    public void rewire(Graph g) {
        fill(g, layer, Fill.orDefault(init), seed);
    }

    /** Replaces every kernel and bias of the layer's weighted nodes with fresh values. */
    static void fill(Graph g, String layer, Init init, long seed) {
        for (Node n : Layers.nodes(g, layer)) {
            if (n.op() == null) {
                continue;
            }
            for (OpSchema.WeightSlot s : n.op().weightSlots()) {
                Weight w = g.initializer(n.input(s.input()));
                if (w == null) {
                    continue;
                }
                if (n.op() == graft.ir.Op.BATCH_NORMALIZATION) {
                    // Every role back to its Keras/Caffe start: gamma 1, beta 0, mean 0, variance 1.
                    float v = s.role().equals("scale") || s.role().equals("var") ? 1f : 0f;
                    float[] a = new float[Math.toIntExact(w.elementCount())];
                    java.util.Arrays.fill(a, v);
                    g.addInitializer(Weight.ofFloats(w.name(), w.shape(), a));
                } else if (s.role().equals("bias")) {
                    g.addInitializer(Init.ZEROS.make(w.name(), w.shape(), 0));
                } else if (s.role().equals("kernel")) {
                    boolean inOut = n.op() == Op.GEMM && n.intAttr("transB") == 0;
                    long[] shape = w.shape();
                    long[] gen = inOut ? new long[] {shape[1], shape[0]} : shape;
                    Weight f = init.make(w.name(), gen, Init.seed(seed, w.name()));
                    g.addInitializer(inOut ? f.with(graft.ir.LayoutTransform.transpose(gen, 1, 0)) : f);
                }
            }
        }
    }
}
