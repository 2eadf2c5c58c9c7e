package graft.keras;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayDeque;

/**
 * Parses Keras's architecture JSON into a Jackson tree with jackson-core's streaming parser,
 * not an ObjectMapper: building the first ObjectMapper of a process loads and initialises
 * several hundred databind classes, 70 ms (300 ms on a loaded machine) of every Keras read
 * measured from the command line, for one small document. The tree is the one
 * {@code ObjectMapper.readTree} gives: ints, longs and big integers by size, floating point as
 * doubles, the last of duplicate keys wins, non-numbers (NaN) refused. Thread-safe: the factory is
 * immutable, each parser belongs to one call.
 */
final class JsonTree {
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonTree() {
    }

    /** The document's root value, or null for empty text. */
    static JsonNode parse(String text) throws IOException {
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return null;
            }
            // An explicit stack: a deeply nested document must not overflow the thread's stack.
            ArrayDeque<JsonNode> open = new ArrayDeque<>();
            JsonNode root = null;
            String key = null;
            for (; t != null; t = p.nextToken()) {
                JsonNode v;
                switch (t) {
                    case FIELD_NAME -> {
                        key = p.currentName();
                        continue;
                    }
                    case START_OBJECT, START_ARRAY -> {
                        JsonNode c = t == JsonToken.START_OBJECT ? NODES.objectNode() : NODES.arrayNode();
                        add(open.peek(), key, c);
                        if (open.isEmpty()) {
                            root = c;
                        }
                        open.push(c);
                        key = null;
                        continue;
                    }
                    case END_OBJECT, END_ARRAY -> {
                        open.pop();
                        if (open.isEmpty()) {
                            return root;
                        }
                        continue;
                    }
                    case VALUE_STRING -> v = NODES.textNode(p.getText());
                    case VALUE_NUMBER_INT -> v = switch (p.getNumberType()) {
                        case INT -> NODES.numberNode(p.getIntValue());
                        case LONG -> NODES.numberNode(p.getLongValue());
                        default -> NODES.numberNode(p.getBigIntegerValue());
                    };
                    case VALUE_NUMBER_FLOAT -> v = NODES.numberNode(p.getDoubleValue());
                    case VALUE_TRUE -> v = NODES.booleanNode(true);
                    case VALUE_FALSE -> v = NODES.booleanNode(false);
                    case VALUE_NULL -> v = NODES.nullNode();
                    default -> throw new IOException("unexpected JSON token " + t);
                }
                if (open.isEmpty()) {
                    return v;
                }
                add(open.peek(), key, v);
                key = null;
            }
            throw new IOException("JSON document ends inside a value");
        }
    }

    private static void add(JsonNode parent, String key, JsonNode v) {
        if (parent instanceof ObjectNode o) {
            o.replace(key, v);
        } else if (parent instanceof ArrayNode a) {
            a.add(v);
        }
    }
}
