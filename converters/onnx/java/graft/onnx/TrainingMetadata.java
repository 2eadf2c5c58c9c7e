package graft.onnx;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import graft.ir.Graph;
import graft.ir.LayerTraining;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-layer trainability and lr/decay multipliers travel in ONNX as one metadata_props entry,
 * {@code graft.training}: a JSON object {layer: {trainable, lr_mult: [...], decay_mult: [...]}}.
 */
final class TrainingMetadata {
    static final String KEY = "graft.training";

    private TrainingMetadata() {
    }

    static void read(Graph g) {
        String text = g.metadata().remove(KEY);
        if (text == null || text.isBlank()) {
            return;
        }
        // Gathered aside first: a damaged entry must change nothing, as if it were absent.
        Map<String, LayerTraining> read = new LinkedHashMap<>();
        try (JsonParser p = MetadataJson.parser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String layer = p.currentName();
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    p.skipChildren();
                    read.put(layer, new LayerTraining(true, List.of(), List.of()));
                    continue;
                }
                read.put(layer, layer(p));
            }
        } catch (IOException e) {
            // A damaged training entry must not make the model unreadable; it is dropped.
            g.metadata().put(KEY + ".unreadable", text);
            return;
        }
        g.training().putAll(read);
    }

    /** One layer's object; the parser is on its START_OBJECT and is left on its END_OBJECT. */
    private static LayerTraining layer(JsonParser p) throws IOException {
        boolean trainable = true;
        List<Float> lr = List.of();
        List<Float> decay = List.of();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            switch (field) {
                case "trainable" -> {
                    trainable = v != JsonToken.VALUE_FALSE;
                    p.skipChildren();
                }
                case "lr_mult" -> lr = floats(p, v);
                case "decay_mult" -> decay = floats(p, v);
                default -> p.skipChildren();
            }
        }
        return new LayerTraining(trainable, lr, decay);
    }

    private static List<Float> floats(JsonParser p, JsonToken start) throws IOException {
        List<Float> r = new ArrayList<>();
        if (start != JsonToken.START_ARRAY) {
            p.skipChildren();
            return r;
        }
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                r.add((float) p.getDoubleValue());
            } else {
                p.skipChildren();
                r.add(0f);
            }
        }
        return r;
    }

    static String write(Graph g) {
        if (g.training().isEmpty()) {
            return null;
        }
        return MetadataJson.write(j -> {
            j.writeStartObject();
            for (Map.Entry<String, LayerTraining> e : g.training().entrySet()) {
                j.writeObjectFieldStart(e.getKey());
                j.writeBooleanField("trainable", e.getValue().trainable());
                j.writeArrayFieldStart("lr_mult");
                for (Float f : e.getValue().lrMult()) {
                    j.writeNumber(f);
                }
                j.writeEndArray();
                j.writeArrayFieldStart("decay_mult");
                for (Float f : e.getValue().decayMult()) {
                    j.writeNumber(f);
                }
                j.writeEndArray();
                j.writeEndObject();
            }
            j.writeEndObject();
        });
    }
}
