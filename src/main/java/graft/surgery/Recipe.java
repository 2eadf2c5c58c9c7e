package graft.surgery;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import graft.ir.Graph;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A surgery recipe: a YAML file that lists edits in order, each in the {@code --edit} grammar,
 * with optional options for reading and writing the model:
 * <pre>
 * description: VGG16 as a frozen feature extractor with a small binary head
 * input:   {shape: 224x224x3}            # applied first, as set-input-shape
 * output:  {file: vgg16_cats.onnx}       # used when -o is not given; also: to (format)
 * convert: {opset: 17, external-data: never}
 * edits:
 *   - cut-after block5_pool
 *   - attach-head flatten, dense 256 relu, dropout 0.5, dense 1 sigmoid
 *   - freeze ..block5_pool
 * </pre>
 * Parsing checks every entry (YAML syntax, keys, verbs, arguments) before any edit runs; then
 * {@link #apply(Graph)} runs them on a copy. Either way a mistake is a {@link RecipeException}
 * naming the line. Immutable.
 */
public record Recipe(String file, List<Step> steps, Map<String, String> input, Map<String, String> output, Map<String, String> convert) {
    /** One edit and the line it was written on. */
    public record Step(int line, String text, Edit edit) {
    }

    private static final YAMLFactory YAML = new YAMLFactory();
    private static final Set<String> INPUT_KEYS = Set.of("shape", "from", "weights");
    private static final Set<String> OUTPUT_KEYS = Set.of("file", "to");
    private static final Set<String> CONVERT_KEYS = Set.of("opset", "external-data");

    public Recipe {
        steps = List.copyOf(steps);
        input = Map.copyOf(input);
        output = Map.copyOf(output);
        convert = Map.copyOf(convert);
    }

    public static Recipe read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new RecipeException(file.toString(), 0, "cannot be read: " + e.getMessage());
        }
        return parse(file.getFileName().toString(), text);
    }

    /** A recipe from the {@code --edit} arguments of the command line (line = argument number). */
    public static Recipe ofEdits(List<String> edits) {
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < edits.size(); i++) {
            steps.add(step("--edit", i + 1, edits.get(i)));
        }
        return new Recipe("--edit", steps, Map.of(), Map.of(), Map.of());
    }

    public static Recipe parse(String file, String text) {
        List<Step> steps = new ArrayList<>();
        Map<String, String> input = new LinkedHashMap<>();
        Map<String, String> output = new LinkedHashMap<>();
        Map<String, String> convert = new LinkedHashMap<>();
        int shapeLine = 0;
        try (JsonParser p = YAML.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new RecipeException(file, line(p), "a recipe is a YAML mapping with an 'edits' list");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                int keyLine = line(p);
                JsonToken v = p.nextToken();
                switch (key) {
                    case "description", "name" -> p.skipChildren();
                    case "edits" -> {
                        if (v != JsonToken.START_ARRAY) {
                            throw new RecipeException(file, keyLine, "'edits' must be a list of edits, one per '- ' line");
                        }
                        while (p.nextToken() != JsonToken.END_ARRAY) {
                            int l = line(p);
                            if (!p.currentToken().isScalarValue()) {
                                throw new RecipeException(file, l, "each edit is one line of text, e.g. '- pop 3'");
                            }
                            steps.add(step(file, l, p.getText()));
                        }
                    }
                    case "input" -> shapeLine = options(p, file, keyLine, key, INPUT_KEYS, input);
                    case "output" -> options(p, file, keyLine, key, OUTPUT_KEYS, output);
                    case "convert" -> options(p, file, keyLine, key, CONVERT_KEYS, convert);
                    default -> throw new RecipeException(file, keyLine, "unknown key '" + key
                            + "'; a recipe has description, input, output, convert and edits");
                }
            }
        } catch (JsonProcessingException e) {
            int l = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new RecipeException(file, l, "is not valid YAML: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (IOException e) {
            throw new RecipeException(file, 0, "cannot be read: " + e.getMessage());
        }
        if (input.containsKey("shape")) {
            steps.add(0, step(file, shapeLine, "set-input-shape " + input.get("shape")));
        }
        if (steps.isEmpty()) {
            throw new RecipeException(file, 0, "lists no edits");
        }
        return new Recipe(file, steps, input, output, convert);
    }

    private static int options(JsonParser p, String file, int keyLine, String section, Set<String> known, Map<String, String> into)
            throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new RecipeException(file, keyLine, "'" + section + "' must be a mapping of " + String.join(", ", known));
        }
        int shapeLine = keyLine;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            int l = line(p);
            if (!known.contains(k)) {
                throw new RecipeException(file, l, "unknown " + section + " option '" + k + "'; known: " + String.join(", ", known.stream().sorted().toList()));
            }
            if (!p.nextToken().isScalarValue()) {
                throw new RecipeException(file, l, section + " option '" + k + "' must be a single value");
            }
            into.put(k, p.getText());
            if (k.equals("shape")) {
                shapeLine = l;
            }
        }
        return shapeLine;
    }

    private static int line(JsonParser p) {
        return p.currentTokenLocation().getLineNr();
    }

    private static Step step(String file, int line, String text) {
        try {
            return new Step(line, text.trim(), EditParser.parse(text));
        } catch (IllegalArgumentException e) {
            throw new RecipeException(file, line, "edit '" + text.trim() + "': " + e.getMessage());
        }
    }

    /**
     * Runs the steps in order on a copy of {@code g} and returns it; {@code g} is not changed.
     * An edit that fails becomes a {@link RecipeException} with its line.
     */
    public Graph apply(Graph g) {
        Graph c = g.copy();
        for (Step s : steps) {
            try {
                s.edit().apply(c);
            } catch (EditException e) {
                throw new RecipeException(file, s.line(), e.getMessage());
            }
        }
        return c;
    }
}
