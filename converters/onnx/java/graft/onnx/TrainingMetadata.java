package graft.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.ir.Graph;
import graft.ir.LayerTraining;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Per-layer trainability and lr/decay multipliers travel in ONNX as one metadata_props entry,
 * {@code graft.training}: a JSON object {layer: {trainable, lr_mult: [...], decay_mult: [...]}}.
 */
final class TrainingMetadata {
    static final String KEY = "graft.training";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingMetadata() {
    }

    static void read(Graph g) {
        String text = g.metadata().remove(KEY);
        if (text == null || text.isBlank()) {
            return;
        }
        try {
            JsonNode root = JSON.readTree(text);
            Iterator<Map.Entry<String, JsonNode>> it = root.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                g.training().put(e.getKey(), new LayerTraining(v.path("trainable").asBoolean(true),
                        floats(v.path("lr_mult")), floats(v.path("decay_mult"))));
            }
        } catch (java.io.IOException e) {
            // A damaged training entry must not make the model unreadable; it is dropped.
            g.metadata().put(KEY + ".unreadable", text);
        }
    }

    static String write(Graph g) {
        if (g.training().isEmpty()) {
            return null;
        }
        ObjectNode root = JSON.createObjectNode();
        for (Map.Entry<String, LayerTraining> e : g.training().entrySet()) {
            ObjectNode o = root.putObject(e.getKey());
            o.put("trainable", e.getValue().trainable());
            ArrayNode lr = o.putArray("lr_mult");
            e.getValue().lrMult().forEach(lr::add);
            ArrayNode dm = o.putArray("decay_mult");
            e.getValue().decayMult().forEach(dm::add);
        }
        return root.toString();
    }

    private static List<Float> floats(JsonNode a) {
        List<Float> r = new ArrayList<>();
        if (a.isArray()) {
            for (JsonNode x : a) {
                r.add((float) x.asDouble());
            }
        }
        return r;
    }
}
