package graft.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.ir.Graph;
import graft.ir.Node;
import java.util.List;
import java.util.ListIterator;

/**
 * Which source layer each node belongs to, for nodes whose layer is not their own name (a Keras
 * Conv2D with a fused ReLU is two ONNX nodes but one layer). Travels as one metadata_props entry,
 * {@code graft.layers}: a JSON object {node name: layer name}. Without it every ONNX node is its
 * own layer, which is what a plain ONNX file means.
 */
final class LayerMetadata {
    static final String KEY = "graft.layers";
    private static final ObjectMapper JSON = new ObjectMapper();

    private LayerMetadata() {
    }

    /** Applies and removes the entry; a damaged entry is kept aside and changes nothing. */
    static void read(Graph g) {
        String text = g.metadata().remove(KEY);
        if (text == null || text.isBlank()) {
            return;
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (java.io.IOException e) {
            g.metadata().put(KEY + ".unreadable", text);
            return;
        }
        List<Node> nodes = g.nodes();
        for (ListIterator<Node> it = nodes.listIterator(); it.hasNext();) {
            Node n = it.next();
            JsonNode layer = root.get(n.name());
            if (layer != null && layer.isTextual() && !layer.asText().isEmpty()) {
                it.set(n.withName(n.name(), layer.asText()));
            }
        }
    }

    /** The entry for a graph, or null when every node is its own layer. */
    static String write(Graph g) {
        ObjectNode root = JSON.createObjectNode();
        for (Node n : g.nodes()) {
            if (!n.layer().equals(n.name())) {
                root.put(n.name(), n.layer());
            }
        }
        return root.isEmpty() ? null : root.toString();
    }
}
