package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where Keras 3's {@code saving_lib} puts a layer's variables in {@code model.weights.h5}: not
 * under the layer's name but under its Python class in snake_case, numbered in the order of
 * {@code model.layers} ({@code conv2d}, {@code conv2d_1}, ...; {@code _get_unique_name} in
 * Keras 3.15.1), a nested model's layers below {@code <its group>/layers/}. A Sequential's
 * {@code model.layers} leaves out its InputLayer. Keras's own loader finds variables this way
 * (the {@code name} attribute 3.15.1 adds to each {@code vars} group is informational), and so
 * does graft's importer and its {@code .keras} writer.
 */
final class Keras3Paths {
    private Keras3Paths() {
    }

    /** Keras's {@code naming.to_snake_case}: Conv2D -> conv2d, BatchNormalization -> batch_normalization, ReLU -> re_lu. */
    static String snake(String cls) {
        String n = cls.replaceAll("\\W+", "");
        n = n.replaceAll("(.)([A-Z][a-z]+)", "$1_$2");
        n = n.replaceAll("([a-z])([A-Z])", "$1_$2");
        return n.toLowerCase(Locale.ROOT);
    }

    /** Names of one container's members in order, as {@code _get_unique_name} numbers them. */
    static List<String> unique(List<String> classes) {
        Map<String, Integer> used = new HashMap<>();
        List<String> r = new ArrayList<>();
        for (String c : classes) {
            String s = snake(c);
            Integer n = used.get(s);
            if (n == null) {
                used.put(s, 0);
                r.add(s);
            } else {
                used.put(s, n + 1);
                r.add(s + "_" + (n + 1));
            }
        }
        return r;
    }

    /**
     * For a model config (config.json's root, or a nested model's entry): each layer's name path
     * as {@link KerasConfig.Layer#weightGroup()} spells it ("layer", "nested/layer") -> the group
     * names to descend through under {@code layers/} ("conv2d"; "functional", "conv2d_1").
     */
    static Map<String, List<String>> of(JsonNode model) {
        Map<String, List<String>> r = new HashMap<>();
        walk(model, "", List.of(), r);
        return r;
    }

    private static void walk(JsonNode model, String namePrefix, List<String> groupPrefix, Map<String, List<String>> r) {
        String cls = model.path("class_name").asText("");
        JsonNode cfg = model.path("config");
        JsonNode list = cfg.isArray() ? cfg : cfg.path("layers");
        if (!list.isArray()) {
            return;
        }
        List<JsonNode> members = new ArrayList<>();
        for (JsonNode l : list) {
            if (cls.equals("Sequential") && l.path("class_name").asText("").equals("InputLayer")) {
                continue; // Sequential.layers drops its InputLayer
            }
            members.add(l);
        }
        List<String> names = unique(members.stream().map(l -> l.path("class_name").asText("")).toList());
        for (int i = 0; i < members.size(); i++) {
            JsonNode l = members.get(i);
            String name = l.path("name").asText(l.path("config").path("name").asText(""));
            List<String> group = new ArrayList<>(groupPrefix);
            group.add(names.get(i));
            r.put(namePrefix + name, group);
            String lc = l.path("class_name").asText("");
            if (lc.equals("Functional") || lc.equals("Sequential") || lc.equals("Model")) {
                walk(l, namePrefix.isEmpty() ? name + "/" : namePrefix + name + "/", group, r);
            }
        }
    }
}
