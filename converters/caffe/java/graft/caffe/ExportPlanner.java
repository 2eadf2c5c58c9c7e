package graft.caffe;

import graft.caffe.proto.Caffe.BlobShape;
import graft.caffe.proto.Caffe.LayerParameter;
import graft.caffe.proto.Caffe.ParamSpec;
import graft.error.UnsupportedModelException;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides which Caffe layers express an IR graph: one layer per node, with fusions where Caffe
 * says in one layer what ONNX says in two (Flatten + Gemm is an InnerProduct, Pad + AveragePool
 * a padded Pooling, Mul + Add by constants a Scale with bias), elementwise activations written in
 * place, and shape-only nodes dropped. Every node Caffe cannot express exactly is collected and
 * refused at once, by name. {@link LayerWriter} builds the individual layers.
 */
final class ExportPlanner {
    /** A blob to write: its Caffe shape and the weight holding its float32 values. */
    record Blob(long[] shape, Weight weight) {
    }

    /** One Caffe layer: its definition (without blobs) and its blobs in Caffe's order. */
    record Layer(LayerParameter def, List<Blob> blobs) {
    }

    final Graph g;
    final List<Layer> layers = new ArrayList<>();
    final List<String> problems = new ArrayList<>();
    final Set<String> fused = new HashSet<>();
    private final Map<String, String> blobOf = new HashMap<>();
    private final Map<String, List<Node>> consumers = new HashMap<>();
    private final Set<String> layerNames = new HashSet<>();
    private final Set<String> outputs = new HashSet<>();

    private ExportPlanner(Graph g) {
        this.g = g;
    }

    static List<Layer> plan(Graph g) {
        ExportPlanner p = new ExportPlanner(g);
        p.run();
        if (!p.problems.isEmpty()) {
            throw new UnsupportedModelException("model '" + g.name() + "' cannot be written as Caffe: "
                    + graft.error.Refusals.list(p.problems, "; "), p.problems);
        }
        return p.layers;
    }

    private void run() {
        Set<Node> needed = needed();
        for (Node n : g.nodes()) {
            if (!needed.contains(n)) {
                continue;
            }
            for (String in : n.inputs()) {
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
        }
        g.outputs().forEach(v -> outputs.add(v.name()));
        for (Value v : g.outputs()) {
            // a Caffe net's outputs are the blobs no layer reads: an output other layers read
            // (an exposed intermediate value) would silently stop being one
            List<Node> readers = consumers.get(v.name());
            if (readers != null && !readers.isEmpty()) {
                problems.add("output '" + v.name() + "' is also read by layer '" + readers.get(0).layer()
                        + "'; a Caffe net's outputs are the blobs no layer reads (expose it in an ONNX or Keras file)");
            }
        }
        for (Value v : g.inputs()) {
            inputLayer(v);
        }
        LayerWriter w = new LayerWriter(this);
        w.findFusions(needed);
        for (Node n : g.nodes()) {
            if (needed.contains(n) && !fused.contains(n.name())) {
                if (n.op() == null) {
                    problems.add(n.opType() + " '" + n.name() + "' is an op graft carries opaquely; Caffe has no layer for it");
                } else {
                    w.write(n, n.op());
                }
            }
        }
    }

    /** Nodes the outputs depend on through data (not shape) inputs; what only computes shapes is dropped. */
    private Set<Node> needed() {
        Map<String, Node> producer = new HashMap<>();
        for (Node n : g.nodes()) {
            for (String o : n.outputs()) {
                producer.put(o, n);
            }
        }
        Set<Node> r = new HashSet<>();
        List<String> work = new ArrayList<>();
        g.outputs().forEach(v -> work.add(v.name()));
        while (!work.isEmpty()) {
            Node n = producer.get(work.remove(work.size() - 1));
            if (n == null || !r.add(n)) {
                continue;
            }
            Op op = n.op();
            int data = op == null ? n.inputs().size() : switch (op) {
                case RESHAPE, SPLIT, PAD, DROPOUT, SQUEEZE, UNSQUEEZE, SLICE, CLIP -> 1;
                default -> n.inputs().size();
            };
            for (int i = 0; i < Math.min(data, n.inputs().size()); i++) {
                work.add(n.input(i));
            }
        }
        return r;
    }

    private void inputLayer(Value v) {
        TensorType t = g.type(v.name()) != null ? g.type(v.name()) : v.type();
        if (t == null || t.shape() == null) {
            problems.add("input '" + v.name() + "' has no known shape; a Caffe Input layer needs one");
            return;
        }
        BlobShape.Builder s = BlobShape.newBuilder();
        for (int i = 0; i < t.shape().rank(); i++) {
            Dim d = t.shape().dim(i);
            if (d.isFixed()) {
                s.addDim(d.value());
            } else if (i == 0) {
                s.addDim(1);
            } else {
                problems.add("input '" + v.name() + "' has the symbolic size " + d + " at axis " + i + "; Caffe needs a fixed input size");
                return;
            }
        }
        LayerParameter.Builder b = LayerParameter.newBuilder().setName(uniqueLayerName(v.name())).setType("Input").addTop(v.name());
        b.getInputParamBuilder().addShape(s);
        blobOf.put(v.name(), v.name());
        layers.add(new Layer(b.build(), List.of()));
    }

    // --- helpers for LayerWriter ---

    String bottom(String value) {
        return blobOf.getOrDefault(value, value);
    }

    /** The blob a node's output {@code i} is written to: its own name. */
    String top(Node n, int i) {
        String o = n.output(i);
        blobOf.put(o, o);
        return o;
    }

    /** In place when the input is nothing else's: a ReLU after a Convolution writes the Convolution's blob. */
    String topInPlace(Node n) {
        String x = n.input(0);
        boolean own = consumers.getOrDefault(x, List.of()).size() == 1 && !outputs.contains(x) && !isGraphInput(x);
        if (!own) {
            return top(n, 0);
        }
        String b = bottom(x);
        blobOf.put(n.output(0), b);
        return b;
    }

    void alias(String value, String to) {
        blobOf.put(value, bottom(to));
    }

    boolean isGraphInput(String v) {
        return g.inputs().stream().anyMatch(i -> i.name().equals(v));
    }

    List<Node> consumersOf(String v) {
        return consumers.getOrDefault(v, List.of());
    }

    boolean isOutput(String v) {
        return outputs.contains(v);
    }

    String uniqueLayerName(String base) {
        String n = base;
        int k = 2;
        while (!layerNames.add(n)) {
            n = base + "_" + k++;
        }
        return n;
    }

    String layerName(Node n) {
        return uniqueLayerName(layerNames.contains(n.layer()) ? n.name() : n.layer());
    }

    long[] shape(String v) {
        TensorType t = g.type(v);
        if (t == null || t.shape() == null || !t.shape().isFixed()) {
            return null;
        }
        return t.shape().toArray();
    }

    /** The dimensions of a value, -1 where symbolic (a batch size N); null when even the rank is unknown. */
    long[] dims(String v) {
        TensorType t = g.type(v);
        if (t == null || t.shape() == null) {
            return null;
        }
        long[] r = new long[t.shape().rank()];
        for (int i = 0; i < r.length; i++) {
            Dim d = t.shape().dim(i);
            r[i] = d.isFixed() ? d.value() : -1;
        }
        return r;
    }

    int rank(String v) {
        TensorType t = g.type(v);
        return t == null || t.shape() == null ? -1 : t.shape().rank();
    }

    /** A weight as float32, the only type Caffe's data field holds. */
    Weight floats(Weight w) {
        if (w.dtype() == DataType.FLOAT) {
            return w;
        }
        return Weight.ofFloats(w.name(), w.shape(), w.toFloats());
    }

    /**
     * lr_mult/decay_mult of the node's source layer for its {@code count} blobs, as
     * Graph.training() records them: a frozen layer writes lr_mult 0 for every blob (its
     * recorded multipliers apply only while it trains; Caffe has no other way to say frozen),
     * decay_mult as recorded; an unlisted blob gets Caffe's default 1.
     */
    void params(LayerParameter.Builder b, Node n, int count) {
        params(b, n.layer(), count);
    }

    void params(LayerParameter.Builder b, String layer, int count) {
        LayerTraining t = g.training().get(layer);
        if (t == null || count == 0) {
            return;
        }
        for (int i = 0; i < count; i++) {
            ParamSpec.Builder p = ParamSpec.newBuilder();
            p.setLrMult(!t.trainable() ? 0f : i < t.lrMult().size() ? t.lrMult().get(i) : 1f);
            p.setDecayMult(i < t.decayMult().size() ? t.decayMult().get(i) : 1f);
            b.addParam(p);
        }
    }

    void refuse(Node n, String why) {
        problems.add(n.opType() + " '" + n.name() + "': " + why);
    }
}
