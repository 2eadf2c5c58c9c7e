package graft.cli;

import graft.error.UsageException;
import graft.io.ModelFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The formats the command line knows, chosen by extension or by --from/--to. */
final class Formats {
    private static final List<ModelFormat> ALL = new ArrayList<>();

    static {
        // One line per format package; the IR and the formats never see this list.
        ALL.add(new graft.onnx.OnnxFormat());
        ALL.add(new graft.keras.KerasFormat());
        ALL.add(new graft.caffe.CaffeFormat());
    }

    private Formats() {
    }

    static List<ModelFormat> all() {
        return ALL;
    }

    static ModelFormat forFile(Path file, String override) {
        return find(file, override);
    }

    private static ModelFormat find(Path file, String override) {
        if (override != null) {
            for (ModelFormat f : ALL) {
                if (f.name().equalsIgnoreCase(override)) {
                    return f;
                }
            }
            throw new UsageException("unknown format '" + override + "'; known: " + names());
        }
        for (ModelFormat f : ALL) {
            if (f.claims(file)) {
                return f;
            }
        }
        throw new UsageException("file '" + file + "': cannot tell its format from the extension; pass --from/--to (" + names() + ")");
    }

    static String names() {
        List<String> n = new ArrayList<>();
        for (ModelFormat f : ALL) {
            n.add(f.name());
        }
        return String.join(", ", n);
    }
}
