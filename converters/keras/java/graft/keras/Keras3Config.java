package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.error.UnsupportedModelException;
import graft.keras.KerasExporter.KLayer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The layers {@link KerasExporter} planned (Keras 2 configs), as Keras 3.15.1 serializes them in
 * a {@code .keras} config.json: each entry {@code module, class_name, config, registered_name,
 * [build_config,] name, inbound_nodes} with the class's config keys in Keras's order and its
 * defaults ({@link Keras3Defaults}, generated from real Keras 3.15.1), inbound nodes in the
 * {@code {args: [__keras_tensor__ ...], kwargs}} form. Layers are listed in the order Keras's
 * {@code map_graph} gives a Functional's {@code model.layers} when it loads the file (depth from
 * the outputs, then first traversal), because that order names the weight groups
 * ({@link Keras3Paths}). A class Keras 3 lacks (ThresholdedReLU, LocallyConnected2D) is refused
 * by name. Initializers, regularizers and constraints are written as Keras 3's defaults: they
 * shape training from scratch, not a loaded model's outputs, and graft's IR keeps none.
 */
final class Keras3Config {
    /** What Keras 3.15.1 wrote for each class ({@link Keras3Defaults}). */
    private static final JsonNode DEFAULTS;

    static {
        try {
            DEFAULTS = JsonTree.parse(Keras3Defaults.JSON);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Keras version whose format is written (metadata.json's keras_version). */
    static final String KERAS_VERSION = DEFAULTS.path("keras_version").asText();

    /** Config keys whose value is the layer's own, never Keras's default (the generator passed them). */
    private static final Map<String, Set<String>> REQUIRED = Map.ofEntries(
            Map.entry("InputLayer", Set.of("batch_shape")),
            Map.entry("Conv2D", Set.of("filters", "kernel_size")),
            Map.entry("Conv2DTranspose", Set.of("filters", "kernel_size")),
            Map.entry("SeparableConv2D", Set.of("filters", "kernel_size")),
            Map.entry("DepthwiseConv2D", Set.of("kernel_size")),
            Map.entry("Dense", Set.of("units")),
            Map.entry("Activation", Set.of("activation")),
            Map.entry("MaxPooling2D", Set.of("pool_size", "strides")),
            Map.entry("AveragePooling2D", Set.of("pool_size", "strides")),
            Map.entry("Reshape", Set.of("target_shape")),
            Map.entry("Permute", Set.of("dims")),
            Map.entry("Dropout", Set.of("rate")),
            Map.entry("SpatialDropout2D", Set.of("rate")),
            Map.entry("GaussianNoise", Set.of("stddev")),
            Map.entry("GaussianDropout", Set.of("rate")),
            Map.entry("AlphaDropout", Set.of("rate")));

    /** Keras 2 keys Keras 3 renamed, per class: Keras 3 key -> Keras 2 key. */
    private static final Map<String, Map<String, String>> RENAMED = Map.of(
            "InputLayer", Map.of("batch_shape", "batch_input_shape"),
            "LeakyReLU", Map.of("negative_slope", "alpha"));

    /** Whether Keras 3.15.1 has layer class {@code cls} (as far as graft writes it). */
    static boolean hasClass(String cls) {
        return !DEFAULTS.path("classes").path(cls).isMissingNode();
    }

    /** The config.json document, and the weight group under {@code layers/} of each layer in {@link #layers}. */
    final ObjectNode json;
    final List<KLayer> layers;
    final List<String> groups;
    final String modelName;

    private Keras3Config(ObjectNode json, List<KLayer> layers, List<String> groups, String modelName) {
        this.json = json;
        this.layers = layers;
        this.groups = groups;
        this.modelName = modelName;
    }

    /**
     * {@code model}: the Keras 2 model config {@link KerasExporter} planned (its name, input and
     * output layers); {@code planned}: its layers; {@code shapes}: each layer's Keras output shape.
     */
    static Keras3Config of(java.nio.file.Path target, ObjectNode model, List<KLayer> planned, Map<String, long[]> shapes) {
        return of(target, model, planned, shapes, null);
    }

    /**
     * As above; {@code chain} (the layers in call order, InputLayer first) when the model is
     * written as a Keras 3 {@code Sequential}, in the form Keras 3.15.1 saves one (read from a
     * real file, fixtures/keras/keras3/k3_sequential.keras): module {@code keras}, config
     * {@code name, trainable, dtype, layers, build_input_shape}, the InputLayer first among the
     * layers, entries without {@code name}/{@code inbound_nodes}, and no {@code input_layer}
     * group in the weights file ({@code Sequential.layers} has no InputLayer).
     */
    static Keras3Config of(java.nio.file.Path target, ObjectNode model, List<KLayer> planned, Map<String, long[]> shapes, List<KLayer> chain) {
        List<String> refused = new ArrayList<>();
        for (KLayer l : planned) {
            if (DEFAULTS.path("classes").path(l.cls()).isMissingNode()) {
                refused.add(l.name() + " (" + l.cls() + ")");
            }
        }
        if (!refused.isEmpty()) {
            throw new UnsupportedModelException("output '" + target + "': " + refused.size() + " layer"
                    + (refused.size() == 1 ? "" : "s") + " of classes Keras 3 does not have: " + graft.error.Refusals.list(refused, ", ")
                    + ". Write Keras 2 .h5 or ONNX instead", refused);
        }
        if (chain != null) {
            return sequential(model, chain, shapes);
        }
        List<String> ins = endpoints(model.path("config").path("input_layers"));
        List<String> outs = endpoints(model.path("config").path("output_layers"));
        List<KLayer> ordered = kerasOrder(target, planned, ins, outs);
        List<String> groups = Keras3Paths.unique(ordered.stream().map(KLayer::cls).toList());
        String name = model.path("config").path("name").asText("model");
        JsonNode m = DEFAULTS.path("model");
        ObjectNode root = JsonTree.NODES.objectNode();
        for (JsonNode k : m.path("keys")) {
            switch (k.asText()) {
                case "config" -> {
                    ObjectNode c = root.putObject("config");
                    c.put("name", name);
                    c.put("trainable", true);
                    ArrayNode ls = c.putArray("layers");
                    for (KLayer l : ordered) {
                        ls.add(entry(l, shapes));
                    }
                    c.set("input_layers", endpointsJson(ins));
                    c.set("output_layers", endpointsJson(outs));
                }
                default -> root.set(k.asText(), m.path(k.asText()).deepCopy());
            }
        }
        return new Keras3Config(root, ordered, groups, name);
    }

    private static Keras3Config sequential(ObjectNode model, List<KLayer> chain, Map<String, long[]> shapes) {
        String name = model.path("config").path("name").asText("sequential");
        List<KLayer> members = chain.subList(1, chain.size());
        List<String> groups = Keras3Paths.unique(members.stream().map(KLayer::cls).toList());
        JsonNode inputShape = shape(chain.get(0).name(), shapes);
        ObjectNode root = JsonTree.NODES.objectNode();
        root.put("module", "keras");
        root.put("class_name", "Sequential");
        ObjectNode c = root.putObject("config");
        c.put("name", name);
        c.put("trainable", true);
        c.set("dtype", DEFAULTS.path("classes").path("Dense").path("config").path("dtype").deepCopy());
        ArrayNode ls = c.putArray("layers");
        for (KLayer l : chain) {
            ObjectNode e = entry(l, shapes);
            e.remove("name");
            e.remove("inbound_nodes");
            ls.add(e);
        }
        c.set("build_input_shape", inputShape.deepCopy());
        root.putNull("registered_name");
        root.putObject("build_config").set("input_shape", inputShape.deepCopy());
        root.set("compile_config", DEFAULTS.path("model").path("compile_config").deepCopy());
        return new Keras3Config(root, members, groups, name);
    }

    private static List<String> endpoints(JsonNode list) {
        List<String> r = new ArrayList<>();
        for (JsonNode e : list) {
            r.add(e.path(0).asText());
        }
        return r;
    }

    /** One endpoint flat ([name, 0, 0]) as Keras writes a single-input model; several as a list of those. */
    private static ArrayNode endpointsJson(List<String> names) {
        ArrayNode r = JsonTree.NODES.arrayNode();
        if (names.size() == 1) {
            return r.add(names.get(0)).add(0).add(0);
        }
        names.forEach(n -> r.addArray().add(n).add(0).add(0));
        return r;
    }

    /**
     * The order of {@code model.layers} that Keras 3.15.1's {@code map_graph} (keras/src/ops/function.py)
     * computes when it rebuilds the model: a depth-first walk from each output through the
     * inputs in call order numbers the layers; a layer's depth is the longest path from it to an
     * output; layers sort by depth, deepest first, then by that number. Inputs reaching no output
     * come last at depth 0. A layer reaching no output is refused: Keras would drop it and its weights.
     */
    static List<KLayer> kerasOrder(java.nio.file.Path target, List<KLayer> planned, List<String> ins, List<String> outs) {
        Map<String, KLayer> byName = new HashMap<>();
        planned.forEach(l -> byName.put(l.name(), l));
        Map<String, Integer> index = new HashMap<>();
        List<String> finished = new ArrayList<>();
        Set<String> done = new HashSet<>();
        for (String o : outs) {
            visit(o, byName, index, finished, done);
        }
        Map<String, Integer> depth = new HashMap<>();
        for (int i = finished.size() - 1; i >= 0; i--) {
            String n = finished.get(i);
            int d = depth.computeIfAbsent(n, k -> 0);
            for (String p : byName.get(n).inbound()) {
                depth.merge(p, d + 1, Math::max);
            }
        }
        for (String in : ins) {
            if (!depth.containsKey(in)) {
                depth.put(in, 0);
                index.put(in, -1);
            }
        }
        List<String> unreachable = planned.stream().map(KLayer::name).filter(n -> !depth.containsKey(n)).toList();
        if (!unreachable.isEmpty()) {
            throw new UnsupportedModelException("output '" + target + "': layer" + (unreachable.size() == 1 ? " " : "s ") + graft.error.Refusals.list(unreachable, ", ")
                    + " reach no output; Keras 3 drops such layers and their weights when it loads the file. Remove them first", unreachable);
        }
        List<KLayer> r = new ArrayList<>(planned);
        r.sort(Comparator.<KLayer>comparingInt(l -> -depth.get(l.name())).thenComparingInt(l -> index.get(l.name())));
        return r;
    }

    /** {@code _build_map_helper}, iteratively: numbers a layer when first reached, finishes it after its inputs. */
    private static void visit(String start, Map<String, KLayer> byName, Map<String, Integer> index, List<String> finished, Set<String> done) {
        record Frame(String name, Iterator<String> inputs) {
        }
        java.util.ArrayDeque<Frame> stack = new java.util.ArrayDeque<>();
        if (done.contains(start)) {
            return;
        }
        index.putIfAbsent(start, index.size());
        stack.push(new Frame(start, byName.get(start).inbound().iterator()));
        while (!stack.isEmpty()) {
            Frame f = stack.peek();
            if (f.inputs().hasNext()) {
                String in = f.inputs().next();
                if (!done.contains(in)) {
                    index.putIfAbsent(in, index.size());
                    stack.push(new Frame(in, byName.get(in).inbound().iterator()));
                }
            } else {
                stack.pop();
                if (done.add(f.name())) {
                    finished.add(f.name());
                }
            }
        }
    }

    /** One layer's config.json entry. */
    private static ObjectNode entry(KLayer l, Map<String, long[]> shapes) {
        JsonNode t = DEFAULTS.path("classes").path(l.cls());
        ObjectNode e = JsonTree.NODES.objectNode();
        for (JsonNode k : t.path("keys")) {
            String key = k.asText();
            switch (key) {
                case "config" -> e.set("config", config(l, t.path("config")));
                case "build_config" -> e.putObject("build_config").set("input_shape", inputShapes(l, shapes));
                case "name" -> e.put("name", l.name());
                case "inbound_nodes" -> {
                    ArrayNode nodes = e.putArray("inbound_nodes");
                    if (!l.inbound().isEmpty()) {
                        ObjectNode call = nodes.addObject();
                        ArrayNode args = call.putArray("args");
                        if (l.inbound().size() == 1 && !merge(l.cls())) {
                            args.add(tensor(l.inbound().get(0), shapes));
                        } else {
                            ArrayNode list = args.addArray();
                            l.inbound().forEach(in -> list.add(tensor(in, shapes)));
                        }
                        call.set("kwargs", t.path("kwargs").deepCopy());
                    }
                }
                default -> e.set(key, t.path(key).deepCopy());
            }
        }
        return e;
    }

    private static boolean merge(String cls) {
        return List.of("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate").contains(cls);
    }

    private static JsonNode inputShapes(KLayer l, Map<String, long[]> shapes) {
        if (l.inbound().size() == 1 && !merge(l.cls())) {
            return shape(l.inbound().get(0), shapes);
        }
        ArrayNode r = JsonTree.NODES.arrayNode();
        l.inbound().forEach(in -> r.add(shape(in, shapes)));
        return r;
    }

    private static ObjectNode tensor(String layer, Map<String, long[]> shapes) {
        ObjectNode t = JsonTree.NODES.objectNode();
        t.put("class_name", "__keras_tensor__");
        ObjectNode c = t.putObject("config");
        c.set("shape", shape(layer, shapes));
        c.put("dtype", "float32");
        c.putArray("keras_history").add(layer).add(0).add(0);
        return t;
    }

    private static ArrayNode shape(String layer, Map<String, long[]> shapes) {
        long[] s = shapes.get(layer);
        if (s == null) {
            // Shape inference gives every value graft writes a shape; a layer without one is graft's bug.
            throw new IllegalStateException("Keras 3 writer: no shape for the output of layer '" + layer + "'");
        }
        ArrayNode r = JsonTree.NODES.arrayNode();
        for (long d : s) {
            if (d < 0) {
                r.addNull();
            } else {
                r.add(d);
            }
        }
        return r;
    }

    /**
     * The layer's Keras 3 config: every key of Keras 3.15.1's config for the class, in its order;
     * the layer's own value where the Keras 2 plan has it (under the Keras 3 name or the Keras 2
     * name it replaces), Keras 3's default otherwise. A planned value with no Keras 3 key is
     * graft's bug (it would be dropped), as is a required value the plan lacks.
     */
    private static ObjectNode config(KLayer l, JsonNode template) {
        ObjectNode k2 = l.config();
        Map<String, String> renamed = RENAMED.getOrDefault(l.cls(), Map.of());
        Set<String> used = new HashSet<>(List.of("name", "dtype", "trainable"));
        ObjectNode c = JsonTree.NODES.objectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = template.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String key = f.getKey();
            String from = renamed.getOrDefault(key, key);
            switch (key) {
                case "name" -> c.put("name", l.name());
                case "dtype" -> c.set("dtype", f.getValue().deepCopy());
                case "trainable" -> c.put("trainable", k2.path("trainable").asBoolean(true));
                default -> {
                    if (k2.has(from) && !trainingOnly(key)) {
                        c.set(key, k2.get(from).deepCopy());
                        used.add(from);
                    } else if (REQUIRED.getOrDefault(l.cls(), Set.of()).contains(key)) {
                        throw new IllegalStateException("Keras 3 writer: layer '" + l.name() + "' (" + l.cls() + ") was planned without '" + from + "'");
                    } else {
                        c.set(key, f.getValue().deepCopy());
                        used.add(from);
                    }
                }
            }
        }
        for (Iterator<String> it = k2.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            // An unset value (null, or InputLayer's sparse false) says nothing Keras 3 must be told:
            // SpatialDropout2D's noise_shape is fixed by the class in Keras 3 and absent from its config.
            boolean unset = k2.get(k).isNull() || k.equals("sparse") && !k2.get(k).asBoolean();
            if (!used.contains(k) && !trainingOnly(k) && !unset) {
                throw new IllegalStateException("Keras 3 writer: layer '" + l.name() + "' (" + l.cls() + ") has '" + k + "', which Keras 3's "
                        + l.cls() + " config does not have");
            }
        }
        return c;
    }

    /** Initializers, regularizers and constraints: Keras 3's defaults are written (see the class comment). */
    private static boolean trainingOnly(String key) {
        return key.endsWith("_initializer") || key.endsWith("_regularizer") || key.endsWith("_constraint");
    }
}
