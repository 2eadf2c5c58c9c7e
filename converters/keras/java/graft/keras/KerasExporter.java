package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.error.UnsupportedModelException;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.LayoutTransform;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.Value;
import graft.ir.Weight;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes an IR graph as a Keras 2 full-model .h5 (channels_last): rebuilds Keras layers from
 * IR nodes (a Conv followed by an activation of the same source layer becomes one Conv2D with
 * that activation), converts kernels back (OIHW to HWIO, Dense rows after a Flatten from
 * C,H,W to H,W,C order), and refuses, by node name and all at once, what Keras cannot express.
 * The Keras model takes and gives NHWC tensors: an IR input in NCHW becomes an NHWC Keras
 * input. Option {@code explicit-padding}: express pads Keras's "same" cannot produce as a
 * ZeroPadding2D layer before a "valid" convolution or pooling.
 */
final class KerasExporter {
    /** How an IR value relates to its Keras tensor (rank 4: NCHW of Keras's NHWC, or the same axes). */
    record KTensor(String layer, boolean nchw, long[] flattenedChw) {
    }

    /** One Keras layer to write: class, name, config, inbound layers, weights in Keras layout. */
    record KLayer(String cls, String name, ObjectNode config, List<String> inbound, List<Weight> weights) {
    }

    private final Graph g;
    private final boolean explicitPadding;
    private final Map<String, KTensor> tensors = new HashMap<>();
    private final List<KLayer> layers = new ArrayList<>();
    private final List<String> refused = new ArrayList<>();
    private final java.util.Set<String> standIns = new java.util.HashSet<>();
    private final Set<String> used = new HashSet<>();
    private final Set<Node> fused = new HashSet<>();
    private final Map<String, String> nameOf = new HashMap<>();
    private final LayerClasses classes;
    /**
     * The source was saved by Keras under Theano (metadata {@code source.backend}): the file is
     * written with {@code backend: theano} and its convolution kernels flipped back, so they are
     * the source's bits and Keras (or any reader honouring the backend) flips them on loading.
     */
    private final boolean theano;
    private boolean groups;
    /** A Rescaling or Normalization is written: Keras 2.2.4 has neither (tf.keras 2.15's config form is written). */
    private boolean preprocessing;
    /** A global pooling is written with {@code keepdims} (tf.keras 2.6). */
    private boolean keepdims;
    /**
     * The target is a Keras 3 {@code .keras} file: no Theano kernels (Keras 3 has no Theano
     * backend), Keras 3's {@code hard_sigmoid} constants, and the layer's output shape recorded
     * for config.json's build_config and inbound tensors.
     */
    private final boolean keras3;
    /** Each written layer's output shape as Keras sees it (NHWC for an NCHW IR value; -1 for an unknown dim). */
    private final Map<String, long[]> shapes = new HashMap<>();

    private KerasExporter(Graph g, boolean explicitPadding, boolean keras3) {
        this.g = g;
        this.explicitPadding = explicitPadding;
        this.keras3 = keras3;
        this.classes = LayerClasses.of(g);
        this.theano = !keras3 && g.metadata().getOrDefault("source.backend", "").startsWith("theano");
    }

    static void write(Graph g, Path file, boolean force, List<Path> inputs, boolean explicitPadding) {
        graft.io.AtomicOutput.checkTarget(file, force, inputs);
        KerasExporter e = new KerasExporter(g, explicitPadding, false);
        ObjectNode config = e.plan();
        List<KLayer> chain = e.sequentialChain(config);
        if (chain != null) {
            config = sequentialConfig(config, chain);
        }
        KerasH5Writer.write(file, config, e.layers, force, inputs, multipliers(g), e.backend(), e.kerasVersion());
    }

    /** Writes {@code g} as a Keras 3 {@code .keras} zip ({@link Keras3Writer}), the same layers as the .h5 path plans. */
    static void writeKeras3(Graph g, Path file, boolean force, List<Path> inputs, boolean explicitPadding) {
        graft.io.AtomicOutput.checkTarget(file, force, inputs);
        KerasExporter e = new KerasExporter(g, explicitPadding, true);
        ObjectNode config = e.plan();
        Keras3Config k3 = Keras3Config.of(file, config, e.layers, e.shapes, e.sequentialChain(config));
        graft.io.Timing.mark("keras3 write: planned");
        Keras3Writer.write(file, k3, force, inputs);
    }

    /**
     * The layers in call order when the source was a Keras {@code Sequential} and the graph is
     * still one: one InputLayer first, each later layer reading only the one before it, the last
     * one the only output. Then the model is written back as a Sequential, so that Keras's
     * {@code model.layers} (which has no InputLayer row in a Sequential) keeps the indices the
     * user's freeze ranges count with. Null otherwise (written as a functional Model).
     */
    List<KLayer> sequentialChain(ObjectNode functional) {
        if (!"Sequential".equals(g.metadata().get("source.keras_class")) || layers.size() < 2) {
            return null;
        }
        JsonNode ins = functional.path("config").path("input_layers");
        JsonNode outs = functional.path("config").path("output_layers");
        KLayer first = layers.get(0);
        if (ins.size() != 1 || outs.size() != 1 || !first.cls().equals("InputLayer") || !first.inbound().isEmpty()
                || !ins.path(0).path(0).asText().equals(first.name())
                || !outs.path(0).path(0).asText().equals(layers.get(layers.size() - 1).name())) {
            return null;
        }
        for (int i = 1; i < layers.size(); i++) {
            if (!layers.get(i).inbound().equals(List.of(layers.get(i - 1).name()))) {
                return null;
            }
        }
        return layers;
    }

    /**
     * Keras 2.2.4's Sequential config: {@code {name, layers}}, each layer {@code {class_name,
     * config}}, no InputLayer entry; the input's {@code batch_input_shape} and {@code dtype} sit in
     * the first layer's config (as in the corpus's Keras 2.3.1 Sequential files).
     */
    private static ObjectNode sequentialConfig(ObjectNode functional, List<KLayer> chain) {
        ObjectNode input = chain.get(0).config();
        ArrayNode ls = JsonTree.NODES.arrayNode();
        for (int i = 1; i < chain.size(); i++) {
            KLayer l = chain.get(i);
            ObjectNode c = l.config().deepCopy();
            if (i == 1) {
                ObjectNode first = JsonTree.NODES.objectNode();
                first.set("name", c.get("name"));
                first.set("trainable", c.get("trainable"));
                first.set("batch_input_shape", input.get("batch_input_shape"));
                first.set("dtype", input.has("dtype") ? input.get("dtype") : JsonTree.NODES.textNode("float32"));
                c.fields().forEachRemaining(f -> {
                    if (!first.has(f.getKey())) {
                        first.set(f.getKey(), f.getValue());
                    }
                });
                c = first;
            }
            ObjectNode o = ls.addObject();
            o.put("class_name", l.cls());
            o.set("config", c);
        }
        ObjectNode root = JsonTree.NODES.objectNode();
        root.put("class_name", "Sequential");
        ObjectNode c = root.putObject("config");
        c.set("name", functional.path("config").path("name"));
        c.set("layers", ls);
        root.set("keras_version", functional.get("keras_version"));
        root.set("backend", functional.get("backend"));
        return root;
    }

    /**
     * Root attribute {@value #MULTIPLIERS}: the layers' lr_mult/decay_mult (Keras has none; it
     * reads only its own attributes and ignores this one), so graft reads them back; null when
     * no layer has any. Trainability itself is Keras's {@code trainable}.
     */
    static final String MULTIPLIERS = "graft_multipliers";

    private static String multipliers(Graph g) {
        ObjectNode r = JsonTree.NODES.objectNode();
        g.training().forEach((layer, t) -> {
            if (!t.lrMult().isEmpty() || !t.decayMult().isEmpty()) {
                ObjectNode l = r.putObject(layer);
                t.lrMult().forEach(l.putArray("lr_mult")::add);
                t.decayMult().forEach(l.putArray("decay_mult")::add);
            }
        });
        return r.isEmpty() ? null : r.toString();
    }

    private ObjectNode plan() {
        ShapeInference.run(g);
        ArrayNode inLayers = JsonTree.NODES.arrayNode();
        for (Value v : g.inputs()) {
            if (g.type(v.name()) == null || g.type(v.name()).shape() == null) {
                // found by fuzzing: an ONNX input declared without a type read fine and crashed here
                throw new graft.error.UnsupportedModelException("model '" + g.name() + "': input '" + v.name()
                        + "' has no declared type or shape, which a Keras InputLayer needs (batch_input_shape)");
            }
            Shape s = g.type(v.name()).shape();
            List<Node> cons = g.consumers(v.name());
            // A Keras source's input keeps its own axes (a channels_first model stays channels_first);
            // another source's NCHW input becomes the NHWC input Keras models take.
            boolean fromKeras = g.metadata().containsKey("source.keras_class");
            boolean kerasLayout = s.rank() == 4 && (fromKeras || !cons.isEmpty() && cons.stream().allMatch(n -> isTranspose(n, 0, 3, 1, 2)));
            String name = layerName(v.name(), v.name());
            ObjectNode c = cfg(name, v.name());
            ArrayNode shape = c.putArray("batch_input_shape");
            int[] order = s.rank() == 4 && !kerasLayout ? new int[] {0, 2, 3, 1} : identity(s.rank());
            for (int i : order) {
                Dim d = s.dim(i);
                if (d.isFixed() && i > 0) {
                    shape.add(d.value());
                } else {
                    shape.addNull();
                }
            }
            c.put("dtype", "float32");
            c.put("sparse", false);
            layers.add(new KLayer("InputLayer", name, c, List.of(), List.of()));
            tensors.put(v.name(), new KTensor(name, s.rank() == 4 && !kerasLayout, null));
            shapes.put(name, kerasShape(s, s.rank() == 4 && !kerasLayout));
            inLayers.addArray().add(name).add(0).add(0);
        }
        for (Node n : g.nodes()) {
            if (!fused.contains(n)) {
                node(n);
            }
        }
        ArrayNode outLayers = JsonTree.NODES.arrayNode();
        for (Value v : g.outputs()) {
            KTensor t = tensors.get(v.name());
            if (t != null) {
                outLayers.addArray().add(t.layer()).add(0).add(0);
            }
        }
        if (keras3) {
            // Listed with the nodes refused above, so one refusal names everything a Keras 3 file cannot hold.
            for (KLayer l : layers) {
                if (!Keras3Config.hasClass(l.cls())) {
                    refused.add(l.name() + " (" + l.cls() + ": Keras 3 has no such layer)");
                }
            }
        }
        if (!refused.isEmpty()) {
            throw new UnsupportedModelException("graph '" + g.name() + "': " + refused.size() + " node" + (refused.size() == 1 ? "" : "s")
                    + " Keras " + (keras3 ? "3 " : "") + "cannot express: " + graft.error.Refusals.list(refused, ", ") + ". Convert to ONNX instead, or edit these layers out", refused);
        }
        ArrayNode ls = JsonTree.NODES.arrayNode();
        for (KLayer l : layers) {
            ObjectNode o = ls.addObject();
            o.put("name", l.name());
            o.put("class_name", l.cls());
            o.set("config", l.config());
            ArrayNode nodes = o.putArray("inbound_nodes");
            if (!l.inbound().isEmpty()) {
                ArrayNode call = nodes.addArray();
                for (String in : l.inbound()) {
                    call.addArray().add(in).add(0).add(0).addObject();
                }
            }
        }
        ObjectNode root = JsonTree.NODES.objectNode();
        root.put("class_name", "Model");
        ObjectNode c = root.putObject("config");
        c.put("name", g.name() == null || g.name().isEmpty() ? "model" : g.name());
        c.set("layers", ls);
        c.set("input_layers", inLayers);
        c.set("output_layers", outLayers);
        root.put("keras_version", kerasVersion());
        root.put("backend", backend());
        return root;
    }

    private static int[] identity(int r) {
        int[] a = new int[r];
        for (int i = 0; i < r; i++) {
            a[i] = i;
        }
        return a;
    }

    private static boolean isTranspose(Node n, long... perm) {
        return n.op() == Op.TRANSPOSE && Arrays.equals(n.intsAttr("perm", new long[0]), perm);
    }

    /** A Keras-legal, unique layer name for a source layer (ONNX node names carry '/' and ':'). */
    private String layerName(String layer, String fallback) {
        String base = (layer == null || layer.isEmpty() ? fallback : layer).replaceAll("[^A-Za-z0-9_.\\-]", "_").replaceAll("^[^A-Za-z0-9]+", "");
        if (base.isEmpty()) {
            base = "layer";
        }
        String n = base;
        for (int i = 1; !used.add(n); i++) {
            n = base + "_" + i;
        }
        return n;
    }

    private ObjectNode cfg(String name, String layer) {
        ObjectNode c = JsonTree.NODES.objectNode();
        c.put("name", name);
        c.put("trainable", g.trainingOf(layer).trainable());
        c.put("dtype", "float32");
        return c;
    }



    private String name(Node n) {
        return nameOf.computeIfAbsent(n.layer() + "#" + n.name(), k -> layerName(n.layer(), n.name()));
    }

    private void refuse(Node n, String why) {
        refused.add(n.name() + " (" + n.opType() + ": " + why + ")");
        standIn(n);
    }

    /**
     * Stand-ins for a refused node's outputs, in its first input's layout, so the nodes after
     * it are still judged and one refusal lists every node Keras cannot express, not the first.
     * Nothing is written once a node is refused, so a stand-in never reaches a file.
     */
    private void standIn(Node n) {
        KTensor in = n.inputs().isEmpty() ? null : tensors.get(n.input(0));
        for (String o : n.outputs()) {
            if (!o.isEmpty()) {
                tensors.putIfAbsent(o, new KTensor(n.name(), in == null || in.nchw(), null));
                standIns.add(o);
            }
        }
    }

    private void node(Node n) {
        Op op = n.op();
        if (op == null) {
            refuse(n, "not a catalogue op");
            return;
        }
        boolean afterRefused = false;
        for (int i = 0; i < n.inputs().size(); i++) {
            String v = n.input(i);
            if (!v.isEmpty() && g.initializer(v) == null && tensors.get(v) == null) {
                return; // its producer was refused; that refusal already names the cause
            }
            afterRefused |= standIns.contains(v);
        }
        if (!afterRefused) {
            LayerWriter.emit(this, n, op);
            return;
        }
        // Judged on a stand-in: only its own refusal counts; nothing it writes is kept.
        try {
            LayerWriter.emit(this, n, op);
        } catch (RuntimeException e) {
            // A stand-in lacks what a real tensor knows (a Flatten's CHW): the export is refused
            // already, and this node's own fitness cannot be judged on it.
        }
        standIn(n);
    }

    // ---- accessors for LayerWriter ---------------------------------------------------------

    /**
     * The Keras version the written file declares: the oldest whose layers take every config key
     * written. 2.2.4; 2.4.0 (tf.keras 2.3) when a Conv2D has groups; 2.6.0 when a global pooling
     * keeps its dimensions; 2.15.0 when a Rescaling or Normalization is written.
     */
    String kerasVersion() {
        return preprocessing ? KerasH5Writer.KERAS_VERSION_PREPROCESSING : keepdims ? KerasH5Writer.KERAS_VERSION_KEEPDIMS
                : groups ? KerasH5Writer.KERAS_VERSION_GROUPS : KerasH5Writer.KERAS_VERSION;
    }

    void needsKeepdims() {
        keepdims = true;
    }

    void needsGroups() {
        groups = true;
    }

    void needsPreprocessing() {
        preprocessing = true;
    }

    String backend() {
        return theano ? "theano" : "tensorflow";
    }

    /** A Conv2D/Conv2DTranspose kernel (IR OIHW / (in, out, kh, kw)) as the written backend stores it. */
    Weight convKernel(Weight w) {
        return hwio(theano ? w.with(LayoutTransform.flipSpatial()) : w);
    }

    /** The source Keras class of {@code layer} ("" when unknown). */
    String sourceClass(String layer) {
        return classes.cls(layer);
    }

    LayerClasses classes() {
        return classes;
    }

    Graph graph() {
        return g;
    }

    boolean explicitPadding() {
        return explicitPadding;
    }

    KTensor tensor(String value) {
        return tensors.get(value);
    }

    void alias(String value, String layer, boolean nchw, long[] chw) {
        tensors.put(value, new KTensor(layer, nchw, chw));
    }

    String newName(Node n) {
        return name(n);
    }

    String freshName(String base) {
        return layerName(base, base);
    }

    ObjectNode config(String name, Node n) {
        return cfg(name, n.layer());
    }

    void add(KLayer l, String outValue, boolean nchw, long[] chw) {
        graft.ir.TensorType t = g.type(outValue);
        add(l, outValue, nchw, chw, t == null || t.shape() == null ? null : kerasShape(t.shape(), nchw));
    }

    /** {@link #add(KLayer, String, boolean, long[])} for an output the IR has no value for: its Keras shape given. */
    void add(KLayer l, String outValue, boolean nchw, long[] chw, long[] kerasShape) {
        layers.add(l);
        tensors.put(outValue, new KTensor(l.name(), nchw, chw));
        if (kerasShape != null) {
            shapes.put(l.name(), kerasShape);
        }
    }

    /** The Keras shape of {@code layer}'s output, or null when unknown. */
    long[] kerasShapeOf(String layer) {
        return shapes.get(layer);
    }

    /** Whether the file written is a Keras 3 .keras zip. */
    boolean keras3() {
        return keras3;
    }

    /** An IR shape as Keras's tensor shape: NCHW as NHWC when {@code nchw}; -1 for the batch and every unknown dim. */
    private static long[] kerasShape(Shape s, boolean nchw) {
        int[] order = nchw && s.rank() == 4 ? new int[] {0, 2, 3, 1} : identity(s.rank());
        long[] r = new long[s.rank()];
        for (int i = 0; i < r.length; i++) {
            Dim d = s.dim(order[i]);
            r[i] = order[i] > 0 && d.isFixed() ? d.value() : -1;
        }
        return r;
    }

    void markFused(Node n) {
        fused.add(n);
    }

    void refuseNode(Node n, String why) {
        refuse(n, why);
    }

    /** The weight as Keras stores it: OIHW conv kernels to HWIO. */
    static Weight hwio(Weight w) {
        return w.with(LayoutTransform.transpose(w.shape(), 2, 3, 1, 0));
    }

}
