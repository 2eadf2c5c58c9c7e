package graft.io;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Options passed from the command line to a format's reader or writer, by name. Each format
 * documents the keys it reads; unknown keys are ignored so one set serves every format.
 * Common keys: {@code opset}, {@code external-data} (auto|always|never), {@code force},
 * {@code weights} (a second file, such as a caffemodel), {@code config} (architecture JSON),
 * {@code phase} (TRAIN|TEST), {@code inputs} (paths the output must never overwrite).
 */
public final class Options {
    private final Map<String, Object> values = new LinkedHashMap<>();

    public static Options none() {
        return new Options();
    }

    public Options set(String key, Object value) {
        if (value != null) {
            values.put(key, value);
        }
        return this;
    }

    public String string(String key, String dflt) {
        Object v = values.get(key);
        return v == null ? dflt : v.toString();
    }

    public int integer(String key, int dflt) {
        Object v = values.get(key);
        return v == null ? dflt : v instanceof Number n ? n.intValue() : Integer.parseInt(v.toString());
    }

    public boolean flag(String key) {
        Object v = values.get(key);
        return v != null && (v instanceof Boolean b ? b : Boolean.parseBoolean(v.toString()));
    }

    public Path path(String key) {
        Object v = values.get(key);
        return v == null ? null : v instanceof Path p ? p : Path.of(v.toString());
    }

    @SuppressWarnings("unchecked")
    public List<Path> paths(String key) {
        Object v = values.get(key);
        return v == null ? List.of() : (List<Path>) v;
    }
}
