package graft.caffe;

import graft.caffe.proto.Caffe.FillerParameter;
import graft.caffe.proto.Caffe.LayerParameter;
import graft.error.MalformedModelException;
import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.TensorType;
import graft.ir.Weight;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The graph being built from a Caffe net: which IR value each Caffe blob name currently
 * stands for (in-place layers give a blob a new value), the caffemodel's blobs by layer,
 * and helpers to add nodes, constants and weights. Not thread-safe; one per import.
 */
final class ImportContext {
    final Path file;
    final Graph g;
    final Map<String, List<Weight>> blobs;
    final long seed;
    List<graft.caffe.proto.Caffe.LayerParameter> layers = List.of();
    private final Map<String, String> current = new java.util.HashMap<>();
    private final Set<String> values = new HashSet<>();
    private final Set<String> nodeNames = new HashSet<>();
    private boolean shapesStale = true;
    final Set<String> filled = new java.util.LinkedHashSet<>();
    /** Per layer, how many parameter blobs it has (Caffe's blob count, which lr_mult/decay_mult index). */
    final Map<String, Integer> paramBlobs = new java.util.HashMap<>();
    /** How many parameter blobs came from the caffemodel (0: the net has no weights of its own). */
    int fromModel;

    ImportContext(Path file, Graph g, Map<String, List<Weight>> blobs, long seed) {
        this.file = file;
        this.g = g;
        this.blobs = blobs;
        this.seed = seed;
    }

    /** Declares a graph-level value for a Caffe blob (an input). */
    void define(String blob, String value) {
        current.put(blob, value);
        values.add(value);
    }

    boolean known(String blob) {
        return current.containsKey(blob);
    }

    /** The IR value a layer's bottom {@code i} reads. */
    String bottom(LayerParameter p, int i) {
        if (i >= p.getBottomCount()) {
            throw new MalformedModelException(file, "layer '" + p.getName() + "' (" + p.getType() + ") needs bottom " + i
                    + " and has " + p.getBottomCount());
        }
        String v = current.get(p.getBottom(i));
        if (v == null) {
            throw new MalformedModelException(file, "layer '" + p.getName() + "' reads blob '" + p.getBottom(i)
                    + "', which no earlier layer produces");
        }
        return v;
    }

    /** A fresh value for a layer's top {@code i}; an in-place top gets a new name so the IR stays single-assignment. */
    String top(LayerParameter p, int i) {
        if (i >= p.getTopCount()) {
            throw new MalformedModelException(file, "layer '" + p.getName() + "' (" + p.getType() + ") needs top " + i);
        }
        String blob = p.getTop(i);
        String v = blob;
        if (values.contains(v)) {
            v = p.getName();
            int k = 1;
            while (values.contains(v)) {
                v = blob + "/" + p.getName() + (k++ == 1 ? "" : "_" + k);
            }
        }
        values.add(v);
        current.put(blob, v);
        return v;
    }

    /** A fresh intermediate value name inside one layer. */
    String temp(LayerParameter p, String what) {
        String v = p.getName() + "/" + what;
        int k = 2;
        while (values.contains(v)) {
            v = p.getName() + "/" + what + k++;
        }
        values.add(v);
        return v;
    }

    void alias(String blob, String value) {
        current.put(blob, value);
    }

    void add(Op op, LayerParameter p, String suffix, List<String> in, List<String> out, Map<String, Attr> attrs) {
        String name = suffix == null ? p.getName() : p.getName() + "/" + suffix;
        String unique = name;
        int k = 2;
        while (!nodeNames.add(unique)) {
            unique = name + "_" + k++;
        }
        g.nodes().add(Node.of(op, unique, p.getName(), in, out, attrs));
        shapesStale = true;
    }

    /** Attaches a format fact to the node added last (it survives Caffe to Caffe; other formats ignore it). */
    void tagLast(String key, String value) {
        int i = g.nodes().size() - 1;
        Node n = g.nodes().get(i);
        Map<String, byte[]> e = new java.util.LinkedHashMap<>(n.extras());
        e.put(key, value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        g.nodes().set(i, n.withExtras(e));
    }

    /** A float scalar or vector constant as a weight (not a parameter of any layer). */
    String constant(LayerParameter p, String what, long[] shape, float... v) {
        String name = temp(p, what);
        g.addInitializer(Weight.ofFloats(name, shape, v));
        return name;
    }

    String longs(LayerParameter p, String what, long... v) {
        String name = temp(p, what);
        g.addInitializer(Weight.ofLongs(name, new long[] {v.length}, v));
        return name;
    }

    /** The fixed shape of a value, or null when some dimension is unknown. */
    long[] shape(String value) {
        if (shapesStale) {
            ShapeInference.run(g);
            shapesStale = false;
        }
        TensorType t = g.type(value);
        if (t == null || t.shape() == null || !t.shape().isFixed()) {
            return null;
        }
        return t.shape().toArray();
    }

    int rank(String value) {
        if (shapesStale) {
            ShapeInference.run(g);
            shapesStale = false;
        }
        TensorType t = g.type(value);
        return t == null || t.shape() == null ? -1 : t.shape().rank();
    }

    Shape symbolicShape(String value) {
        shape(value);
        TensorType t = g.type(value);
        return t == null ? null : t.shape();
    }

    /**
     * Blob {@code i} of a layer as a weight named {@code name}, reshaped to {@code expected}
     * (legacy 4-D blobs such as (1, 1, out, in) hold the same values); from the filler when
     * the caffemodel has no blob for the layer. {@code expected} may be null when only the
     * blob can tell.
     */
    String param(LayerParameter p, int i, String role, long[] expected, FillerParameter filler) {
        String name = p.getName() + "/" + role;
        List<Weight> have = blobs.get(p.getName());
        Weight w;
        if (have != null && i < have.size()) {
            Weight b = have.get(i);
            long[] shape = b.shape();
            if (expected != null && !Arrays.equals(shape, expected)) {
                if (Shape.elementCount(shape) != Shape.elementCount(expected)) {
                    throw new MalformedModelException(file, "blob " + i + " of layer '" + p.getName() + "' has shape "
                            + Arrays.toString(shape) + ", the layer needs " + Arrays.toString(expected));
                }
                shape = expected;
            }
            w = new Weight(name, b.dtype(), shape, b.source());
            fromModel++;
            if (b.dtype() != graft.ir.DataType.FLOAT) {
                w = w.with(graft.ir.LayoutTransform.toFloat());
            }
        } else {
            if (expected == null) {
                throw new UnsupportedModelException("layer '" + p.getName() + "' (" + p.getType() + "): has no weights and its input size"
                        + " is unknown, so its " + role + " cannot be made from the filler. Give the caffemodel, or the input size"
                        + " with --data-shape CxHxW (option data-shape)");
            }
            w = Fillers.fill(name, expected, filler, seed, p.getName());
            filled.add(p.getName());
        }
        g.addInitializer(w);
        paramBlobs.merge(p.getName(), i + 1, Math::max);
        shapesStale = true;
        return name;
    }

    boolean hasBlob(LayerParameter p, int i) {
        List<Weight> have = blobs.get(p.getName());
        return have != null && i < have.size();
    }

    Weight blob(LayerParameter p, int i) {
        List<Weight> have = blobs.get(p.getName());
        return have != null && i < have.size() ? have.get(i) : null;
    }

    List<String> allValuesConsumed() {
        List<String> r = new ArrayList<>();
        for (Node n : g.nodes()) {
            r.addAll(n.inputs());
        }
        return r;
    }
}
