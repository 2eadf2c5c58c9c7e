package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.ir.Graph;
import java.util.List;

/**
 * The Keras class each source layer had, kept in the graph's metadata (key {@value #KEY}, JSON
 * {@code {layer: {"class_name": C, ...}}}) so that the Keras writer spells a layer as it was
 * read: the IR cannot tell a {@code ReLU} layer from {@code Activation('relu')}, a
 * SpatialDropout2D from a Dropout, or a GaussianNoise from nothing at all. The writer takes a
 * class only where the layer's nodes are that class's ops; otherwise it falls back to its
 * default spelling. Noise layers keep the one config value the IR has no place for (their
 * {@code stddev} or {@code rate}). The metadata travels through ONNX's metadata_props, so an
 * .h5 -> .onnx -> .h5 round trip keeps the classes too.
 */
final class LayerClasses {
    static final String KEY = "source.keras_layers";
    /** Config keys kept per class: what the IR cannot hold for it. */
    private static final List<String> KEPT = List.of("stddev", "rate");

    private final JsonNode root;

    private LayerClasses(JsonNode root) {
        this.root = root;
    }

    /** Records every layer of {@code cfg} in {@code g}'s metadata. */
    static void record(Graph g, KerasConfig cfg) {
        ObjectNode r = JsonTree.NODES.objectNode();
        for (KerasConfig.Layer l : cfg.layers()) {
            ObjectNode o = r.putObject(l.name());
            o.put("class_name", l.cls());
            KerasLayer kind = KerasLayer.of(l.cls());
            if (kind == KerasLayer.GAUSSIAN_NOISE || kind == KerasLayer.GAUSSIAN_DROPOUT || kind == KerasLayer.ALPHA_DROPOUT) {
                for (String k : KEPT) {
                    if (l.cfg().path(k).isNumber()) {
                        o.put(k, l.cfg().path(k).asDouble());
                    }
                }
            }
        }
        g.metadata().put(KEY, r.toString());
    }

    /** The recorded classes of {@code g} (none when it did not come from Keras or the record is unreadable). */
    static LayerClasses of(Graph g) {
        String json = g.metadata().get(KEY);
        if (json == null) {
            return new LayerClasses(JsonTree.NODES.objectNode());
        }
        try {
            return new LayerClasses(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json));
        } catch (java.io.IOException e) {
            return new LayerClasses(JsonTree.NODES.objectNode());
        }
    }

    /** The source class of {@code layer}, or "" when unknown. */
    String cls(String layer) {
        return root.path(layer).path("class_name").asText("");
    }

    /** A kept config value of {@code layer}, or NaN. */
    double value(String layer, String key) {
        JsonNode v = root.path(layer).path(key);
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }
}
