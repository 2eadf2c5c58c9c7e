package graft.surgery;

import graft.ir.Graph;
import java.util.ArrayList;
import java.util.List;

/**
 * The fluent Java form of a recipe:
 * <pre>{@code
 * Graph tuned = Surgery.on(vgg16).pop(3).attachHead("dense 1024 relu", "dense 128 relu", "dense 5 softmax")
 *         .freeze("..block4_pool").apply();
 * }</pre>
 * Edits are collected, then {@link #apply()} runs them in order on a copy of the graph (weights
 * are shared, not copied): if any edit fails, the exception names it and the original graph is
 * unchanged. Not thread-safe; a builder may be applied more than once.
 */
public final class Surgery {
    private final Graph graph;
    private final List<Edit> edits = new ArrayList<>();

    private Surgery(Graph graph) {
        this.graph = graph;
    }

    public static Surgery on(Graph graph) {
        return new Surgery(graph);
    }

    public Surgery edit(Edit e) {
        edits.add(e);
        return this;
    }

    /** An edit in the {@code --edit} grammar, e.g. {@code "lr-mult fc8_flickr 10 20"}. */
    public Surgery edit(String line) {
        try {
            return edit(EditParser.parse(line));
        } catch (IllegalArgumentException e) {
            throw new EditException(line, e.getMessage());
        }
    }

    public Surgery pop(int n) {
        return edit(new Pop(n));
    }

    public Surgery cutAfter(String layer) {
        return edit(new CutAfter(layer));
    }

    public Surgery cutBefore(String layer) {
        return edit(new CutBefore(layer));
    }

    public Surgery remove(String layer) {
        return edit(new Remove(layer));
    }

    public Surgery insertAfter(String layer, String spec) {
        return edit(new InsertAfter(layer, LayerSpec.parse(spec), null, 0));
    }

    public Surgery replace(String layer, String spec) {
        return edit(new Replace(layer, LayerSpec.parse(spec), null, 0));
    }

    /** Head layers in order, each a spec: {@code "flatten"}, {@code "dense 256 relu"}, {@code "dropout 0.5"}. */
    public Surgery attachHead(String... specs) {
        List<LayerSpec> s = new ArrayList<>();
        for (String x : specs) {
            s.add(LayerSpec.parse(x));
        }
        return edit(new AttachHead(s, null, 0));
    }

    public Surgery setClasses(int k) {
        return edit(new SetClasses(k, null, 0));
    }

    public Surgery rename(String layer, String newName) {
        return edit(new Rename(layer, newName, false, null, 0));
    }

    public Surgery reinit(String layer, String init, long seed) {
        return edit(new Reinit(layer, Init.parse(init), seed));
    }

    public Surgery setInputShape(String shape) {
        return edit(new SetInputShape(shape));
    }

    /** {@code set-batch}: a positive size, or "dynamic". */
    public Surgery setBatch(String size) {
        return edit(new SetBatch(size));
    }

    public Surgery renameInput(String from, String to) {
        return edit(new RenameInput(from, to));
    }

    public Surgery renameOutput(String from, String to) {
        return edit(new RenameOutput(from, to));
    }

    public Surgery expose(String... layers) {
        return edit(new Expose(List.of(layers)));
    }

    public Surgery replaceConvPair(String a, String b, int kernel, String mode) {
        return edit(new ReplaceConvPair(a, b, kernel, mode, null, 0));
    }

    public Surgery freeze(String range) {
        return edit(new Freeze(new LayerRange(range)));
    }

    public Surgery unfreeze(String range) {
        return edit(new Unfreeze(new LayerRange(range)));
    }

    public Surgery lrMult(String layer, float weights, float bias) {
        return edit(new LrMult(layer, weights, bias));
    }

    public Surgery decayMult(String layer, float weights, float bias) {
        return edit(new DecayMult(layer, weights, bias));
    }

    public Surgery foldBatchNorm() {
        return edit(new FoldBatchNorm());
    }

    public List<Edit> edits() {
        return List.copyOf(edits);
    }

    /** Runs every edit, in order, on a copy; returns the edited copy. The original is never changed. */
    public Graph apply() {
        Graph g = graph.copy();
        for (Edit e : edits) {
            e.apply(g);
        }
        return g;
    }
}
