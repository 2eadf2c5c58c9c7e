package graft.ir;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model in the IR: inputs, outputs, nodes in topological order, weights by name, inferred
 * value types, and the model-level facts that travel with it (opsets, metadata such as
 * provenance and preprocessing, per-layer training state).
 *
 * <p>Mutable and not thread-safe: importers build it, edits change it, then
 * {@link ShapeInference#run(Graph)} and {@link GraphValidator#check(Graph)} re-establish the
 * invariants. {@code extras} holds bytes a format keeps for a faithful round trip.
 */
public final class Graph {
    private String name;
    private final List<Value> inputs = new ArrayList<>();
    private final List<Value> outputs = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final LinkedHashMap<String, Weight> initializers = new LinkedHashMap<>();
    private final Map<String, TensorType> types = new HashMap<>();
    private final LinkedHashMap<String, Long> opsets = new LinkedHashMap<>();
    private final LinkedHashMap<String, String> metadata = new LinkedHashMap<>();
    private final LinkedHashMap<String, LayerTraining> training = new LinkedHashMap<>();
    private final LinkedHashMap<String, byte[]> extras = new LinkedHashMap<>();
    private final LinkedHashMap<String, java.util.concurrent.Future<String>> deferred = new LinkedHashMap<>();

    public Graph(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public List<Value> inputs() {
        return inputs;
    }

    public List<Value> outputs() {
        return outputs;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public LinkedHashMap<String, Weight> initializers() {
        return initializers;
    }

    public Weight initializer(String name) {
        return initializers.get(name);
    }

    public void addInitializer(Weight w) {
        initializers.put(w.name(), w);
    }

    /** Inferred or declared types by value name (inputs, outputs, intermediates, weights). */
    public Map<String, TensorType> types() {
        return types;
    }

    public TensorType type(String value) {
        TensorType t = types.get(value);
        if (t == null) {
            Weight w = initializers.get(value);
            if (w != null) {
                return new TensorType(w.dtype(), Shape.of(w.shape()));
            }
        }
        return t;
    }

    /** Opset versions by domain ("" for the default ONNX domain) of the source model. */
    public LinkedHashMap<String, Long> opsets() {
        return opsets;
    }

    /** Free-form key/value metadata: provenance ({@code graft.*}), preprocessing, source facts. */
    public LinkedHashMap<String, String> metadata() {
        return metadata;
    }

    /** Training state by source layer name; a layer missing here is trainable with multipliers 1. */
    public LinkedHashMap<String, LayerTraining> training() {
        return training;
    }

    public LayerTraining trainingOf(String layer) {
        return training.getOrDefault(layer, LayerTraining.DEFAULT);
    }

    public LinkedHashMap<String, byte[]> extras() {
        return extras;
    }

    /**
     * Metadata whose value is still being computed (the source file's SHA-256, hashed on the
     * second core while the model is converted). Writers call {@link #resolvedMetadata()} as
     * late as they can.
     */
    public void putDeferredMetadata(String key, java.util.concurrent.Future<String> value) {
        deferred.put(key, value);
    }

    /** {@link #metadata()} with every deferred entry waited for and merged in. */
    public LinkedHashMap<String, String> resolvedMetadata() {
        for (var e : deferred.entrySet()) {
            try {
                metadata.put(e.getKey(), e.getValue().get());
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while computing metadata '" + e.getKey() + "'", ex);
            } catch (java.util.concurrent.ExecutionException ex) {
                throw new IllegalStateException("metadata '" + e.getKey() + "' failed: " + ex.getCause(), ex.getCause());
            }
        }
        deferred.clear();
        return metadata;
    }

    /** The node producing a value, or null for inputs and weights. */
    public Node producer(String value) {
        for (Node n : nodes) {
            if (n.outputs().contains(value)) {
                return n;
            }
        }
        return null;
    }

    /** Nodes consuming a value, in graph order. */
    public List<Node> consumers(String value) {
        List<Node> r = new ArrayList<>();
        for (Node n : nodes) {
            if (n.inputs().contains(value)) {
                r.add(n);
            }
        }
        return r;
    }

    /** Source layer names in graph order, each once. */
    public List<String> layers() {
        LinkedHashMap<String, Boolean> seen = new LinkedHashMap<>();
        for (Node n : nodes) {
            seen.putIfAbsent(n.layer(), Boolean.TRUE);
        }
        return new ArrayList<>(seen.keySet());
    }

    /**
     * A copy that shares the immutable parts (nodes, weight handles, training records, extras'
     * bytes) and owns its lists and maps: editing the copy never changes the original. Waits for
     * deferred metadata (the source hash) so the copy carries it.
     */
    public Graph copy() {
        Graph c = new Graph(name);
        c.inputs.addAll(inputs);
        c.outputs.addAll(outputs);
        c.nodes.addAll(nodes);
        c.initializers.putAll(initializers);
        c.types.putAll(types);
        c.opsets.putAll(opsets);
        c.metadata.putAll(resolvedMetadata());
        c.training.putAll(training);
        c.extras.putAll(extras);
        return c;
    }

    /**
     * Renames one value everywhere it is named: the node that makes it, every node that reads it,
     * the graph's inputs and outputs and its declared type. Nothing is left reading the old name.
     */
    public void renameValue(String from, String to) {
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (!n.inputs().contains(from) && !n.outputs().contains(from)) {
                continue;
            }
            List<String> in = new ArrayList<>(n.inputs());
            in.replaceAll(s -> s.equals(from) ? to : s);
            List<String> out = new ArrayList<>(n.outputs());
            out.replaceAll(s -> s.equals(from) ? to : s);
            nodes.set(i, n.withInputs(in).withOutputs(out));
        }
        for (List<Value> vs : List.of(inputs, outputs)) {
            for (int i = 0; i < vs.size(); i++) {
                if (vs.get(i).name().equals(from)) {
                    vs.set(i, new Value(to, vs.get(i).type()));
                }
            }
        }
        TensorType t = types.remove(from);
        if (t != null) {
            types.put(to, t);
        }
    }

    /** Appends a provenance line (an edit, a conversion) to the model's metadata. */
    public void addProvenance(String line) {
        String prev = metadata.get("graft.edits");
        metadata.put("graft.edits", prev == null || prev.isEmpty() ? line : prev + "\n" + line);
    }

    /**
     * Removes nodes whose outputs no graph output needs, and weights nobody uses. Called by
     * every edit after rewiring.
     */
    public void removeUnreachable() {
        Set<String> needed = new HashSet<>();
        for (Value v : outputs) {
            needed.add(v.name());
        }
        List<Node> kept = new ArrayList<>();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            boolean use = n.outputs().stream().anyMatch(needed::contains);
            if (use) {
                kept.add(0, n);
                needed.addAll(n.inputs());
            }
        }
        nodes.clear();
        nodes.addAll(kept);
        initializers.keySet().removeIf(k -> !needed.contains(k));
        Set<String> stillLayers = new HashSet<>(layers());
        training.keySet().removeIf(k -> !stillLayers.contains(k));
    }

    /** Total element count of all weights (what Keras calls the parameter count). */
    public long parameterCount() {
        long n = 0;
        for (Weight w : initializers.values()) {
            n += w.elementCount();
        }
        return n;
    }
}
