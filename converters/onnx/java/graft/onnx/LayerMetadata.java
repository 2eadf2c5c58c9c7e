package graft.onnx;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import graft.ir.Graph;
import graft.ir.Node;
import java.util.HashMap;
import java.util.List;
import java.util.ListIterator;
import java.util.Map;

/**
 * Which source layer each node belongs to, for nodes whose layer is not their own name (a Keras
 * Conv2D with a fused ReLU is two ONNX nodes but one layer). Travels as one metadata_props entry,
 * {@code graft.layers}: a JSON object {node name: layer name}. Without it every ONNX node is its
 * own layer, which is what a plain ONNX file means.
 */
final class LayerMetadata {
    static final String KEY = "graft.layers";

    private LayerMetadata() {
    }

    /** Applies and removes the entry; a damaged entry is kept aside and changes nothing. */
    static void read(Graph g) {
        String text = g.metadata().remove(KEY);
        if (text == null || text.isBlank()) {
            return;
        }
        Map<String, String> layers = new HashMap<>();
        try (JsonParser p = MetadataJson.parser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return; // not an object: no node names a layer
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String node = p.currentName();
                JsonToken v = p.nextToken();
                if (v == JsonToken.VALUE_STRING) {
                    layers.put(node, p.getText());
                } else {
                    layers.remove(node);
                    p.skipChildren();
                }
            }
        } catch (java.io.IOException e) {
            g.metadata().put(KEY + ".unreadable", text);
            return;
        }
        List<Node> nodes = g.nodes();
        for (ListIterator<Node> it = nodes.listIterator(); it.hasNext();) {
            Node n = it.next();
            String layer = layers.get(n.name());
            if (layer != null && !layer.isEmpty()) {
                it.set(n.withName(n.name(), layer));
            }
        }
    }

    /** The entry for a graph, or null when every node is its own layer. */
    static String write(Graph g) {
        boolean any = false;
        for (Node n : g.nodes()) {
            any |= !n.layer().equals(n.name());
        }
        if (!any) {
            return null;
        }
        return MetadataJson.write(j -> {
            j.writeStartObject();
            for (Node n : g.nodes()) {
                if (!n.layer().equals(n.name())) {
                    j.writeStringField(n.name(), n.layer());
                }
            }
            j.writeEndObject();
        });
    }
}
