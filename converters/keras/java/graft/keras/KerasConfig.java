package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.error.MalformedModelException;
import graft.error.UnsupportedModelException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A Keras architecture (model_config / config.json) as a flat list of layers with their
 * inbound layers: Sequential models as a list (Keras 2.1) or {name, layers} (later), functional
 * models with inbound_nodes in the Keras 2 list form or the Keras 3 {args, kwargs} form.
 * Keras 1 class and argument names are rewritten to their Keras 2 equivalents here, so the
 * layer mapping sees one vocabulary. Immutable after parsing.
 */
record KerasConfig(String name, String className, List<Layer> layers, List<String> inputs, List<String> outputs) {

    /** One layer: Keras class, name, (normalised) config and the layers whose outputs it reads. */
    record Layer(String cls, String name, JsonNode cfg, List<String> inbound) {
        boolean trainable() {
            return cfg.path("trainable").asBoolean(true);
        }
    }

    static KerasConfig parse(Path file, JsonNode root) {
        String cls = root.path("class_name").asText("");
        JsonNode cfg = root.path("config");
        if (cls.isEmpty() && root.has("layers")) {
            cls = "Sequential";
            cfg = root;
        }
        return switch (cls) {
            case "Sequential" -> sequential(file, cfg);
            case "Model", "Functional" -> functional(file, cfg, cls);
            default -> throw new UnsupportedModelException("model '" + file + "' (model_config): top-level class '" + cls
                    + "' is not a Keras Sequential or functional model. graft reads Sequential, Model and Functional", List.of(cls));
        };
    }

    private static KerasConfig sequential(Path file, JsonNode cfg) {
        JsonNode list = cfg.isArray() ? cfg : cfg.path("layers");
        String name = cfg.isArray() ? "sequential" : cfg.path("name").asText("sequential");
        if (!list.isArray() || list.isEmpty()) {
            throw new MalformedModelException(file, "Sequential model_config has no layers");
        }
        List<Layer> layers = new ArrayList<>();
        String prev = null;
        for (JsonNode l : list) {
            String lcls = l.path("class_name").asText("");
            JsonNode lc = normalise(lcls, l.path("config"));
            String lname = lc.path("name").asText("");
            if (lname.isEmpty()) {
                throw new MalformedModelException(file, "a " + lcls + " layer of the Sequential model has no name");
            }
            if (prev == null && !canonical(lcls).equals("InputLayer")) {
                JsonNode shape = batchShape(lc);
                if (shape == null) {
                    throw new MalformedModelException(file, "first layer '" + lname + "' declares no input shape (batch_input_shape)");
                }
                ObjectNode in = KerasSource.JSON.createObjectNode();
                in.put("name", lname + "_input");
                in.set("batch_input_shape", shape);
                layers.add(new Layer("InputLayer", lname + "_input", in, List.of()));
                prev = lname + "_input";
            }
            layers.add(new Layer(canonical(lcls), lname, lc, prev == null ? List.of() : List.of(prev)));
            prev = lname;
        }
        return new KerasConfig(name, "Sequential", layers, List.of(layers.get(0).name()), List.of(prev));
    }

    private static KerasConfig functional(Path file, JsonNode cfg, String cls) {
        List<Layer> layers = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode l : cfg.path("layers")) {
            String lcls = l.path("class_name").asText("");
            JsonNode lc = normalise(lcls, l.path("config"));
            String lname = l.path("name").asText(lc.path("name").asText(""));
            List<String> inbound = new ArrayList<>();
            JsonNode nodes = l.path("inbound_nodes");
            if (nodes.size() > 1) {
                throw new UnsupportedModelException("layer '" + lname + "' (" + lcls + ") is called " + nodes.size()
                        + " times (a shared layer). graft converts layers used once", List.of(lname + " (" + lcls + ")"));
            }
            for (JsonNode call : nodes) {
                collectRefs(file, lname, call, inbound);
            }
            if (!names.add(lname)) {
                throw new MalformedModelException(file, "layer name '" + lname + "' is used twice in model_config");
            }
            layers.add(new Layer(canonical(lcls), lname, lc, inbound));
        }
        return new KerasConfig(cfg.path("name").asText("model"), cls, layers, refs(cfg.path("input_layers")), refs(cfg.path("output_layers")));
    }

    /** Keras 2: [[name, node, tensor, kwargs], ...]; Keras 3: {args: [{config: {keras_history: [...]}}], kwargs}. */
    private static void collectRefs(Path file, String layer, JsonNode call, List<String> out) {
        if (call.isObject()) {
            findHistories(call.path("args"), out);
            return;
        }
        for (JsonNode ref : call) {
            if (ref.isArray() && ref.size() >= 3 && ref.get(0).isTextual()) {
                if (ref.get(1).asInt() != 0 || ref.get(2).asInt() != 0) {
                    throw new UnsupportedModelException("layer '" + layer + "' reads output " + ref.get(2).asInt() + " of call " + ref.get(1).asInt()
                            + " of '" + ref.get(0).asText() + "' (a shared or multi-output layer). graft converts single-use, single-output layers",
                            List.of(layer));
                }
                out.add(ref.get(0).asText());
            } else {
                throw new MalformedModelException(file, "inbound node of layer '" + layer + "' is not [name, node, tensor]");
            }
        }
    }

    private static void findHistories(JsonNode n, List<String> out) {
        if (n.isObject()) {
            JsonNode h = n.path("config").path("keras_history");
            if (h.isArray() && h.size() >= 1) {
                out.add(h.get(0).asText());
                return;
            }
            n.forEach(c -> findHistories(c, out));
        } else if (n.isArray()) {
            n.forEach(c -> findHistories(c, out));
        }
    }

    private static List<String> refs(JsonNode list) {
        List<String> r = new ArrayList<>();
        if (list.isArray() && list.size() >= 1 && list.get(0).isTextual()) {
            r.add(list.get(0).asText());
            return r;
        }
        for (JsonNode x : list) {
            r.add(x.isArray() ? x.get(0).asText() : x.asText());
        }
        return r;
    }

    static JsonNode batchShape(JsonNode cfg) {
        for (String k : List.of("batch_input_shape", "batch_shape")) {
            if (cfg.path(k).isArray()) {
                return cfg.get(k);
            }
        }
        if (cfg.path("input_shape").isArray()) {
            ArrayNode a = KerasSource.JSON.createArrayNode();
            a.addNull();
            cfg.get("input_shape").forEach(a::add);
            return a;
        }
        return null;
    }

    /** Keras 1 and alias class names mapped to the Keras 2 names the layer mapping knows. */
    static String canonical(String cls) {
        return switch (cls) {
            case "Convolution2D" -> "Conv2D";
            case "Deconvolution2D" -> "Conv2DTranspose";
            case "AtrousConvolution2D" -> "Conv2D";
            case "SeparableConvolution2D" -> "SeparableConv2D";
            case "Conv2DTranspose", "Convolution2DTranspose" -> "Conv2DTranspose";
            case "MaxPool2D" -> "MaxPooling2D";
            case "AvgPool2D", "AveragePool2D" -> "AveragePooling2D";
            case "GlobalAvgPool2D" -> "GlobalAveragePooling2D";
            case "GlobalMaxPool2D" -> "GlobalMaxPooling2D";
            default -> cls;
        };
    }

    /** Rewrites Keras 1 arguments (nb_filter, border_mode, dim_ordering ...) to Keras 2 ones. */
    static JsonNode normalise(String cls, JsonNode cfg) {
        ObjectNode c = cfg.isObject() ? ((ObjectNode) cfg).deepCopy() : KerasSource.JSON.createObjectNode();
        rename(c, "nb_filter", "filters");
        rename(c, "border_mode", "padding");
        rename(c, "subsample", "strides");
        rename(c, "output_dim", "units");
        rename(c, "bias", "use_bias");
        rename(c, "atrous_rate", "dilation_rate");
        if (c.has("nb_row") && c.has("nb_col")) {
            ArrayNode k = c.putArray("kernel_size");
            k.add(c.get("nb_row").asInt());
            k.add(c.get("nb_col").asInt());
        }
        if (c.has("dim_ordering")) {
            String d = c.get("dim_ordering").asText();
            c.put("data_format", d.equals("th") ? "channels_first" : "channels_last");
        }
        if (cls.equals("Dropout") || cls.equals("SpatialDropout2D")) {
            rename(c, "p", "rate");
        }
        if (cls.equals("Convolution2D") || cls.equals("Conv2D") || cls.equals("Deconvolution2D")) {
            c.put("keras1", cls.equals("Convolution2D") || cls.equals("Deconvolution2D"));
        }
        return c;
    }

    private static void rename(ObjectNode c, String from, String to) {
        if (c.has(from) && !c.has(to)) {
            c.set(to, c.get(from));
        }
    }
}
