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

    /**
     * One layer: Keras class, name, (normalised) config, the layers whose outputs it reads, and
     * the HDF5 group holding its weights (its own name, or the enclosing nested model's).
     */
    record Layer(String cls, String name, JsonNode cfg, List<String> inbound, String weightGroup) {
        Layer(String cls, String name, JsonNode cfg, List<String> inbound) {
            this(cls, name, cfg, inbound, name);
        }

        boolean trainable() {
            return cfg.path("trainable").asBoolean(true);
        }
    }

    private static boolean isModel(String cls) {
        return cls.equals("Sequential") || cls.equals("Model") || cls.equals("Functional");
    }

    /**
     * Replaces each nested model by its own layers: the nested inputs read what the nested model
     * read, later layers read the nested output instead of the nested model, and the inner
     * layers take their weights from the nested model's group (as Keras saves them).
     */
    private static List<Layer> expandNested(Path file, List<Layer> layers, List<String> outputs) {
        java.util.Map<String, String> alias = new java.util.HashMap<>();
        List<Layer> r = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (Layer l : layers) {
            List<String> in = l.inbound().stream().map(n -> alias.getOrDefault(n, n)).toList();
            if (!isModel(l.cls())) {
                r.add(new Layer(l.cls(), l.name(), l.cfg(), in, l.weightGroup()));
                names.add(l.name());
                continue;
            }
            ObjectNode wrapped = JsonTree.NODES.objectNode();
            wrapped.put("class_name", l.cls());
            wrapped.set("config", l.cfg().path("nested_config"));
            KerasConfig inner = parse(file, wrapped);
            if (inner.inputs().size() != in.size() || inner.outputs().size() != 1) {
                throw new UnsupportedModelException("nested model '" + l.name() + "' has " + inner.inputs().size() + " inputs and "
                        + inner.outputs().size() + " outputs; graft expands nested models with one output", List.of(l.name() + " (" + l.cls() + ")"));
            }
            java.util.Map<String, String> innerAlias = new java.util.HashMap<>();
            for (int i = 0; i < in.size(); i++) {
                innerAlias.put(inner.inputs().get(i), in.get(i));
            }
            for (Layer il : inner.layers()) {
                if (il.cls().equals("InputLayer") && innerAlias.containsKey(il.name())) {
                    continue;
                }
                if (!names.add(il.name())) {
                    throw new MalformedModelException(file, "layer name '" + il.name() + "' of nested model '" + l.name() + "' is also used outside it");
                }
                List<String> iin = il.inbound().stream().map(n -> innerAlias.getOrDefault(n, n)).toList();
                r.add(new Layer(il.cls(), il.name(), il.cfg(), iin, l.weightGroup().equals(l.name()) ? l.name() + "/" + il.weightGroup() : il.weightGroup()));
            }
            alias.put(l.name(), innerAlias.getOrDefault(inner.outputs().get(0), inner.outputs().get(0)));
        }
        outputs.replaceAll(o -> alias.getOrDefault(o, o));
        return r;
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
                ObjectNode in = JsonTree.NODES.objectNode();
                in.put("name", lname + "_input");
                in.set("batch_input_shape", shape);
                layers.add(new Layer("InputLayer", lname + "_input", in, List.of()));
                prev = lname + "_input";
            }
            layers.add(new Layer(canonical(lcls), lname, lc, prev == null ? List.of() : List.of(prev)));
            prev = lname;
        }
        List<String> outs = new ArrayList<>(List.of(prev));
        return new KerasConfig(name, "Sequential", expandNested(file, layers, outs), List.of(layers.get(0).name()), outs);
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
        List<String> outs = new ArrayList<>(refs(cfg.path("output_layers")));
        return new KerasConfig(cfg.path("name").asText("model"), cls, expandNested(file, layers, outs), refs(cfg.path("input_layers")), outs);
    }

    /** Keras 2: [[name, node, tensor, kwargs], ...]; Keras 3: {args: [{config: {keras_history: [...]}}], kwargs}. */
    private static void collectRefs(Path file, String layer, JsonNode call, List<String> out) {
        if (call.isObject()) {
            findHistories(call.path("args"), out);
            return;
        }
        for (JsonNode ref : call) {
            if (ref.isArray() && ref.size() >= 3 && ref.get(0).isTextual()) {
                // The call index may be 1 for a nested model (its call 0 is its own graph); layers called twice
                // are refused where they are declared, so only the output index matters here.
                if (ref.get(2).asInt() != 0) {
                    throw new UnsupportedModelException("layer '" + layer + "' reads output " + ref.get(2).asInt()
                            + " of '" + ref.get(0).asText() + "' (a multi-output layer). graft converts single-output layers",
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
            ArrayNode a = JsonTree.NODES.arrayNode();
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
        if (isModel(cls)) {
            ObjectNode m = JsonTree.NODES.objectNode();
            m.set("nested_config", cfg);
            m.put("name", cfg.isObject() ? cfg.path("name").asText("") : "");
            return m;
        }
        ObjectNode c = cfg.isObject() ? ((ObjectNode) cfg).deepCopy() : JsonTree.NODES.objectNode();
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
