package graft.surgery;

import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.ir.LayoutTransform;
import graft.ir.Node;
import graft.ir.Weight;
import java.util.List;

/**
 * {@code set-classes K}: the final classifier (the last layer with weights: a Dense/Gemm or a 1x1 Conv) gets K outputs
 * and new weights ({@code --init}, Glorot by default; bias zeros). What follows it (softmax)
 * stays.
 */
public record SetClasses(long classes, Init init, long seed) implements Edit {
    @Override
    public String describe() {
        return "set-classes " + classes + Fill.text(init, seed);
    }

    @Override
    public void check(Graph g) {
        if (classes < 1) {
            throw new EditException(describe(), "the number of classes must be at least 1");
        }
        classifier(g);
    }

    /** The last layer with weights, when it is a Dense (Gemm) or a 1x1 convolution (SqueezeNet-style). */
    Node classifier(Graph g) {
        List<LayerTable.Row> rows = LayerTable.of(g);
        for (int i = rows.size() - 1; i >= 0; i--) {
            Node n = Layers.weighted(g, rows.get(i).layer());
            if (n == null) {
                continue;
            }
            long[] w = g.initializer(n.input(1)).shape();
            if (n.opType().equals("Gemm") && w.length == 2 || n.opType().equals("Conv") && w.length == 4 && w[2] == 1 && w[3] == 1) {
                return n;
            }
            throw new EditException(describe(), "the last layer with weights, '" + n.layer() + "' (" + n.opType()
                    + "), is not a classifier (a Dense or 1x1 convolution); attach a head first");
        }
        throw new EditException(describe(), "the model has no layer with weights to act as the classifier");
    }

    @Override
    public void rewire(Graph g) {
        Node n = classifier(g);
        Weight w = g.initializer(n.input(1));
        long[] shape = w.shape();
        boolean outFirst = !n.opType().equals("Gemm") || n.intAttr("transB", 0) == 1;
        long[] s = shape.clone();
        s[outFirst ? 0 : 1] = classes;
        Init i = Fill.orDefault(init);
        long[] fans = s.clone();
        if (!outFirst) {
            fans = new long[] {s[1], s[0]};
        }
        Weight fresh = i.make(w.name(), fans, Init.seed(seed, w.name()));
        if (!outFirst) {
            fresh = fresh.with(LayoutTransform.transpose(fans, 1, 0));
        }
        g.addInitializer(fresh);
        if (n.inputs().size() > 2 && g.initializer(n.input(2)) != null) {
            g.addInitializer(Init.ZEROS.make(n.input(2), new long[] {classes}, 0));
        }
    }
}
