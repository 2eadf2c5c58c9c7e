package graft.surgery;

import graft.ir.Attr;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A new layer, as written in an edit: {@code dense 256 relu}, {@code conv 32 3 relu stride=2 pad=valid},
 * {@code maxpool 2}, {@code avgpool 2 stride=2}, {@code flatten}, {@code global-avg},
 * {@code global-max}, {@code dropout 0.5}, or an activation ({@code relu}, {@code sigmoid},
 * {@code softmax}, {@code tanh}); any of them may end in {@code name=NAME}. Default names follow
 * Keras ({@code dense}, {@code dense_1}, {@code conv2d} ...). Weights are made with the given
 * {@link Init}, biases start at zero.
 */
public record LayerSpec(String kind, long size, long kernel, String activation, long stride, boolean same, double rate, String name) {
    private static final List<String> ACTIVATIONS = List.of("relu", "sigmoid", "softmax", "tanh", "linear");

    /** Parses the words of one spec; the message of the exception says what is wrong. */
    public static LayerSpec parse(String text) {
        List<String> w = new ArrayList<>(List.of(text.trim().split("\\s+")));
        if (w.isEmpty() || w.get(0).isEmpty()) {
            throw new IllegalArgumentException("empty layer spec");
        }
        String name = null;
        long stride = -1;
        boolean same = true;
        for (int i = w.size() - 1; i >= 1; i--) {
            String t = w.get(i);
            if (t.startsWith("name=")) {
                name = t.substring(5);
            } else if (t.startsWith("stride=")) {
                stride = positive(t.substring(7), "stride");
            } else if (t.equals("pad=same") || t.equals("pad=valid")) {
                same = t.equals("pad=same");
            } else {
                continue;
            }
            w.remove(i);
        }
        String kind = w.get(0).toLowerCase(Locale.ROOT);
        String act;
        switch (kind) {
            case "dense" -> {
                need(w, 2, 3, "dense UNITS [ACTIVATION]");
                act = w.size() == 3 ? activation(w.get(2)) : null;
                return new LayerSpec(kind, positive(w.get(1), "units"), 0, act, 1, true, 0, name);
            }
            case "conv" -> {
                need(w, 3, 4, "conv FILTERS KERNEL [ACTIVATION] [stride=S] [pad=same|valid]");
                act = w.size() == 4 ? activation(w.get(3)) : null;
                return new LayerSpec(kind, positive(w.get(1), "filters"), positive(w.get(2), "kernel"), act,
                        stride < 0 ? 1 : stride, same, 0, name);
            }
            case "maxpool", "avgpool" -> {
                need(w, 2, 2, kind + " SIZE [stride=S]");
                long k = positive(w.get(1), "pool size");
                return new LayerSpec(kind, 0, k, null, stride < 0 ? k : stride, false, 0, name);
            }
            case "flatten", "global-avg", "global-max" -> {
                need(w, 1, 1, kind);
                return new LayerSpec(kind, 0, 0, null, 1, true, 0, name);
            }
            case "dropout" -> {
                need(w, 2, 2, "dropout RATE");
                double r;
                try {
                    r = Double.parseDouble(w.get(1));
                } catch (NumberFormatException e) {
                    r = -1;
                }
                if (!(r >= 0 && r < 1)) {
                    throw new IllegalArgumentException("dropout rate '" + w.get(1) + "' is not in [0, 1)");
                }
                return new LayerSpec(kind, 0, 0, null, 1, true, r, name);
            }
            default -> {
                if (ACTIVATIONS.contains(kind)) {
                    need(w, 1, 1, kind);
                    return new LayerSpec("activation", 0, 0, kind, 1, true, 0, name);
                }
                throw new IllegalArgumentException("unknown layer kind '" + w.get(0)
                        + "'; known: dense, conv, maxpool, avgpool, flatten, global-avg, global-max, dropout, relu, sigmoid, softmax, tanh");
            }
        }
    }

    private static void need(List<String> w, int lo, int hi, String usage) {
        if (w.size() < lo || w.size() > hi) {
            throw new IllegalArgumentException("'" + String.join(" ", w) + "' does not read as '" + usage + "'");
        }
    }

    private static long positive(String s, String what) {
        try {
            long v = Long.parseLong(s);
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(what + " '" + s + "' is not a positive integer");
    }

    private static String activation(String s) {
        String a = s.toLowerCase(Locale.ROOT);
        if (!ACTIVATIONS.contains(a)) {
            throw new IllegalArgumentException("unknown activation '" + s + "'; known: " + String.join(", ", ACTIVATIONS));
        }
        return a.equals("linear") ? null : a;
    }

    /** The Keras-style base name for a layer of this kind. */
    String baseName() {
        if (name != null) {
            return name;
        }
        return switch (kind) {
            case "conv" -> "conv2d";
            case "maxpool" -> "max_pooling2d";
            case "avgpool" -> "average_pooling2d";
            case "global-avg" -> "global_average_pooling2d";
            case "global-max" -> "global_max_pooling2d";
            default -> kind;
        };
    }

    /** What the spec needs of its input, checked before any edit changes the graph. */
    void checkInput(TensorType in, String edit) {
        Shape s = in == null ? null : in.shape();
        int rank = s == null ? -1 : s.rank();
        boolean spatial = switch (kind) {
            case "conv", "maxpool", "avgpool", "global-avg", "global-max" -> true;
            default -> false;
        };
        if (spatial && rank != 4) {
            throw new EditException(edit, "'" + this + "' needs an (N, C, H, W) input; it would get " + (s == null ? "an unknown shape" : s));
        }
        if (kind.equals("dense") && (rank != 2 || !s.dim(1).isFixed())) {
            throw new EditException(edit, "'" + this + "' needs a flat (N, features) input; it would get " + (s == null ? "an unknown shape" : s)
                    + ". Put flatten or global-avg before it");
        }
        if (kind.equals("conv") && !s.dim(1).isFixed()) {
            throw new EditException(edit, "'" + this + "' needs a known channel count; it would get " + s);
        }
    }

    /**
     * Appends this layer's nodes and weights to {@code g}, reading {@code input}; returns the value
     * it produces. {@code layer} must be fresh (see {@link Layers#fresh}).
     */
    String build(Graph g, String input, String layer, Init given, long seed) {
        Init init = Fill.orDefault(given);
        Shape in = g.type(input).shape();
        List<Node> nodes = g.nodes();
        switch (kind) {
            case "dense" -> {
                long features = in.dim(1).value();
                String w = layer + "_W";
                String b = layer + "_b";
                g.addInitializer(init.make(w, new long[] {size, features}, Init.seed(seed, w)));
                g.addInitializer(Init.ZEROS.make(b, new long[] {size}, 0));
                String out = activation == null ? layer : layer + "_preact";
                nodes.add(Node.of(Op.GEMM, layer, layer, List.of(input, w, b), List.of(out), Map.of("transB", Attr.of(1L))));
                return activate(g, out, layer);
            }
            case "conv" -> {
                long channels = in.dim(1).value();
                String w = layer + "_W";
                String b = layer + "_b";
                g.addInitializer(init.make(w, new long[] {size, channels, kernel, kernel}, Init.seed(seed, w)));
                g.addInitializer(Init.ZEROS.make(b, new long[] {size}, 0));
                long lo = same ? (kernel - 1) / 2 : 0;
                long hi = same ? kernel - 1 - lo : 0;
                String out = activation == null ? layer : layer + "_preact";
                nodes.add(Node.of(Op.CONV, layer, layer, List.of(input, w, b), List.of(out),
                        Map.of("kernel_shape", Attr.ints(kernel, kernel), "strides", Attr.ints(stride, stride),
                                "pads", Attr.ints(lo, lo, hi, hi))));
                return activate(g, out, layer);
            }
            case "maxpool", "avgpool" -> {
                nodes.add(Node.of(kind.equals("maxpool") ? Op.MAX_POOL : Op.AVERAGE_POOL, layer, layer, List.of(input), List.of(layer),
                        Map.of("kernel_shape", Attr.ints(kernel, kernel), "strides", Attr.ints(stride, stride))));
                return layer;
            }
            case "flatten" -> {
                String x = input;
                if (in.rank() == 4 && KerasLayout.nhwcModel(g)) {
                    // Keras flattens its NHWC tensor in H,W,C order: the same features in the same order
                    x = layer + "_nhwc";
                    nodes.add(Node.of(Op.TRANSPOSE, x, layer, List.of(input), List.of(x), Map.of("perm", Attr.ints(0, 2, 3, 1))));
                }
                nodes.add(Node.of(Op.FLATTEN, layer, layer, List.of(x), List.of(layer), Map.of("axis", Attr.of(1L))));
                return layer;
            }
            case "global-avg", "global-max" -> {
                nodes.add(Node.of(kind.equals("global-avg") ? Op.GLOBAL_AVERAGE_POOL : Op.GLOBAL_MAX_POOL, layer, layer, List.of(input),
                        List.of(layer + "_pool"), Map.of()));
                nodes.add(Node.of(Op.FLATTEN, layer + "_flatten", layer, List.of(layer + "_pool"), List.of(layer), Map.of("axis", Attr.of(1L))));
                return layer;
            }
            case "dropout" -> {
                String r = layer + "_ratio";
                g.addInitializer(Weight.ofFloats(r, new long[0], new float[] {(float) rate}));
                nodes.add(Node.of(Op.DROPOUT, layer, layer, List.of(input, r), List.of(layer), Map.of()));
                return layer;
            }
            default -> {
                return activate(g, input, layer, layer);
            }
        }
    }

    private String activate(Graph g, String x, String layer) {
        return activation == null ? x : activate(g, x, layer, layer + "_" + activation);
    }

    private String activate(Graph g, String x, String layer, String nodeName) {
        Op op = switch (activation) {
            case "relu" -> Op.RELU;
            case "sigmoid" -> Op.SIGMOID;
            case "tanh" -> Op.TANH;
            default -> Op.SOFTMAX;
        };
        Map<String, Attr> attrs = op == Op.SOFTMAX ? Map.of("axis", Attr.of(1L)) : Map.of();
        g.nodes().add(Node.of(op, nodeName, layer, List.of(x), List.of(layer), attrs));
        return layer;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(kind.equals("activation") ? activation : kind);
        switch (kind) {
            case "dense" -> b.append(' ').append(size);
            case "conv" -> b.append(' ').append(size).append(' ').append(kernel);
            case "maxpool", "avgpool" -> b.append(' ').append(kernel);
            case "dropout" -> b.append(' ').append(Num.text(rate));
            default -> {
            }
        }
        if (activation != null && !kind.equals("activation")) {
            b.append(' ').append(activation);
        }
        if (kind.equals("conv") && stride != 1 || (kind.equals("maxpool") || kind.equals("avgpool")) && stride != kernel) {
            b.append(" stride=").append(stride);
        }
        if (kind.equals("conv") && !same) {
            b.append(" pad=valid");
        }
        if (name != null) {
            b.append(" name=").append(name);
        }
        return b.toString();
    }
}
