package graft.validate;

import graft.ir.Attr;
import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.OpSchema;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Structural and weight differences between two graphs, layer by layer (layers as the IR names
 * them): graph input shapes changed, layers added (with their output shapes), removed, renamed
 * (an unmatched layer of each side whose weights are equal, or failing that the only one with the
 * same ops in the same place, between the same matched layers: re-initialised or resized in place),
 * ops and attributes changed, weights changed (max absolute difference and both L2 norms), and
 * trainability and lr/decay multiplier changes. Weights are compared straight from their buffers (memory-mapped for
 * ONNX): nothing is copied unless a layout transform is pending.
 */
public final class GraphDiff {
    /** One weight that differs: by shape, or by values (max |a - b| and the two L2 norms). */
    public record WeightChange(String layer, String weight, long[] shapeA, long[] shapeB, double maxAbs, double normA, double normB) {
    }

    /** Everything that differs. Empty lists mean "the same". */
    public record Result(List<String> added, Map<String, String> addedShapes, List<String> removed, Map<String, String> renamed,
                         List<String> changes, List<WeightChange> weights, List<String> training) {
        public boolean identical() {
            return added.isEmpty() && removed.isEmpty() && renamed.isEmpty() && changes.isEmpty() && weights.isEmpty() && training.isEmpty();
        }
    }

    private GraphDiff() {
    }

    /** A layer's nodes and its parameter weights, in graph order. */
    record Layer(String name, List<Node> nodes, List<Weight> weights) {
        String ops() {
            return String.join("+", nodes.stream().map(Node::opType).toList());
        }

        String signature() {
            StringBuilder b = new StringBuilder(ops());
            for (Weight w : weights) {
                b.append(' ').append(Arrays.toString(w.shape()));
            }
            return b.toString();
        }
    }

    static LinkedHashMap<String, Layer> layers(Graph g) {
        LinkedHashMap<String, Layer> r = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            if (n.op() == Op.CONSTANT || n.op() == Op.SHAPE || n.op() == Op.GATHER && isInt(g, n)) {
                continue;
            }
            Layer l = r.computeIfAbsent(n.layer(), k -> new Layer(k, new ArrayList<>(), new ArrayList<>()));
            l.nodes().add(n);
            for (int i = 0; i < n.inputs().size(); i++) {
                Weight w = g.initializer(n.input(i));
                if (w != null && isParameter(n, i) && !l.weights().contains(w)) {
                    l.weights().add(w);
                }
            }
        }
        return r;
    }

    private static boolean isInt(Graph g, Node n) {
        var t = g.type(n.output(0));
        return t != null && !t.dtype().isFloating();
    }

    private static boolean isParameter(Node n, int input) {
        Op op = n.op();
        if (op == null) {
            return true;
        }
        for (OpSchema.WeightSlot s : op.weightSlots()) {
            if (s.input() == input) {
                return true;
            }
        }
        return switch (op) {
            case ADD, SUB, MUL, DIV, MAT_MUL -> true;
            default -> false;
        };
    }

    public static Result of(Graph a, Graph b) {
        LinkedHashMap<String, Layer> la = layers(a);
        LinkedHashMap<String, Layer> lb = layers(b);
        List<String> onlyA = new ArrayList<>(la.keySet());
        onlyA.removeAll(lb.keySet());
        List<String> onlyB = new ArrayList<>(lb.keySet());
        onlyB.removeAll(la.keySet());
        Map<String, String> renamed = new LinkedHashMap<>();
        // first pass: identical weights; second: the one layer of the same ops between the same matched neighbours.
        // Weight shapes need not match (set-classes resizes a renamed layer); a new layer that merely looks like a
        // removed one elsewhere, or replaces one along with its neighbours (pop + attach-head), is not a rename.
        for (int pass = 0; pass < 2; pass++) {
            for (String x : new ArrayList<>(onlyA)) {
                Layer l = la.get(x);
                if (l.weights().isEmpty()) {
                    continue;
                }
                List<String> hits = new ArrayList<>();
                for (String y : onlyB) {
                    Layer m = lb.get(y);
                    if (pass == 0 ? l.signature().equals(m.signature()) && sameWeights(l, m)
                            : l.ops().equals(m.ops()) && samePlace(l, a, m, b, la, lb, renamed)) {
                        hits.add(y);
                    }
                }
                if (hits.size() == 1 || pass == 0 && !hits.isEmpty()) {
                    renamed.put(x, hits.get(0));
                    onlyA.remove(x);
                    onlyB.remove(hits.get(0));
                }
            }
        }
        List<String> changes = new ArrayList<>();
        for (Value in : a.inputs()) {
            b.inputs().stream().filter(v -> v.name().equals(in.name()) && !Objects.equals(v.type(), in.type())).findFirst()
                    .ifPresent(v -> changes.add("input " + in.name() + ": " + in.type() + " -> " + v.type()));
        }
        List<WeightChange> weights = new ArrayList<>();
        List<String> training = new ArrayList<>();
        for (Layer l : la.values()) {
            String other = lb.containsKey(l.name()) ? l.name() : renamed.get(l.name());
            if (other == null) {
                continue;
            }
            compareLayer(l, lb.get(other), a, b, changes, weights, training);
        }
        Map<String, String> addedShapes = new LinkedHashMap<>();
        for (String x : onlyB) {
            List<Node> nodes = lb.get(x).nodes();
            TensorType t = b.type(nodes.get(nodes.size() - 1).output(0));
            addedShapes.put(x, t == null || t.shape() == null ? "(?)" : t.shape().toString());
        }
        return new Result(onlyB, addedShapes, onlyA, renamed, changes, weights, training);
    }

    /** The layers (or graph inputs) feeding a layer's first node and those reading its last node's outputs. */
    private static List<String> neighbours(Layer l, Graph g, Map<String, Layer> layers) {
        List<String> r = new ArrayList<>();
        for (String v : l.nodes().get(0).inputs()) {
            Node p = g.producer(v);
            if (g.initializer(v) == null) {
                r.add(p == null ? "input " + v : layers.containsKey(p.layer()) ? p.layer() : "?");
            }
        }
        r.add("|");
        for (String v : l.nodes().get(l.nodes().size() - 1).outputs()) {
            g.consumers(v).stream().map(Node::layer).filter(k -> !k.equals(l.name())).map(k -> layers.containsKey(k) ? k : "?")
                    .forEach(r::add);
            g.outputs().stream().filter(o -> o.name().equals(v)).forEach(o -> r.add("output"));
        }
        return r;
    }

    /** Whether y sits where x sat: the same neighbours, A's mapped to B's names (kept or already renamed). */
    private static boolean samePlace(Layer x, Graph a, Layer y, Graph b, Map<String, Layer> la, Map<String, Layer> lb,
                                     Map<String, String> renamed) {
        List<String> nx = new ArrayList<>();
        for (String k : neighbours(x, a, la)) {
            nx.add(k.startsWith("input ") || k.equals("|") || k.equals("output") ? k
                    : lb.containsKey(k) ? k : renamed.getOrDefault(k, "?"));
        }
        List<String> ny = neighbours(y, b, lb);
        return !nx.contains("?") && nx.equals(ny);
    }

    private static boolean sameWeights(Layer x, Layer y) {
        for (int i = 0; i < x.weights().size(); i++) {
            if (x.weights().get(i).buffer().mismatch(y.weights().get(i).buffer()) != -1) {
                return false;
            }
        }
        return true;
    }

    private static void compareLayer(Layer x, Layer y, Graph a, Graph b, List<String> changes, List<WeightChange> weights,
                                     List<String> training) {
        String name = x.name().equals(y.name()) ? x.name() : x.name() + " -> " + y.name();
        if (!x.ops().equals(y.ops())) {
            changes.add(name + ": ops " + x.ops() + " -> " + y.ops());
        } else {
            for (int i = 0; i < x.nodes().size(); i++) {
                Map<String, Attr> ax = x.nodes().get(i).attrs();
                Map<String, Attr> ay = y.nodes().get(i).attrs();
                java.util.TreeSet<String> keys = new java.util.TreeSet<>(ax.keySet());
                keys.addAll(ay.keySet());
                for (String k : keys) {
                    Attr p = ax.get(k);
                    Attr q = ay.get(k);
                    if (!Objects.equals(p, q) && !(p != null && q != null && p.kind() == Attr.Kind.TENSOR)) {
                        changes.add(name + ": " + x.nodes().get(i).opType() + " " + k + " " + (p == null ? "(unset)" : p) + " -> "
                                + (q == null ? "(unset)" : q));
                    }
                }
            }
        }
        int n = Math.max(x.weights().size(), y.weights().size());
        for (int i = 0; i < n; i++) {
            Weight p = i < x.weights().size() ? x.weights().get(i) : null;
            Weight q = i < y.weights().size() ? y.weights().get(i) : null;
            String wn = p != null ? p.name() : q.name();
            if (p == null || q == null || !Arrays.equals(p.shape(), q.shape())) {
                weights.add(new WeightChange(name, wn, p == null ? null : p.shape(), q == null ? null : q.shape(), Double.NaN,
                        p == null ? Double.NaN : norm(p), q == null ? Double.NaN : norm(q)));
                continue;
            }
            if (p.dtype() == q.dtype() && p.buffer().mismatch(q.buffer()) == -1) {
                continue;
            }
            double[] d = delta(p, q);
            weights.add(new WeightChange(name, wn, p.shape(), q.shape(), d[0], d[1], d[2]));
        }
        LayerTraining tx = a.trainingOf(x.name());
        LayerTraining ty = b.trainingOf(y.name());
        if (tx.trainable() != ty.trainable()) {
            training.add(name + ": trainable " + tx.trainable() + " -> " + ty.trainable());
        }
        if (!tx.lrMult().equals(ty.lrMult())) {
            training.add(name + ": lr_mult " + tx.lrMult() + " -> " + ty.lrMult());
        }
        if (!tx.decayMult().equals(ty.decayMult())) {
            training.add(name + ": decay_mult " + tx.decayMult() + " -> " + ty.decayMult());
        }
    }

    /** {max |a - b|, ||a||, ||b||} streamed over both buffers in float64. */
    static double[] delta(Weight a, Weight b) {
        ByteBuffer x = a.buffer();
        ByteBuffer y = b.buffer();
        boolean floats = a.dtype() == graft.ir.DataType.FLOAT && b.dtype() == graft.ir.DataType.FLOAT;
        float[] fx = floats ? null : a.toFloats();
        float[] fy = floats ? null : b.toFloats();
        long n = a.elementCount();
        double max = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < n; i++) {
            double p = floats ? x.getFloat(i * 4) : fx[i];
            double q = floats ? y.getFloat(i * 4) : fy[i];
            max = Math.max(max, Math.abs(p - q));
            na += p * p;
            nb += q * q;
        }
        return new double[]{max, Math.sqrt(na), Math.sqrt(nb)};
    }

    static double norm(Weight w) {
        return delta(w, w)[1];
    }
}
