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
        return new Checked(find(file, override));
    }

    /**
     * A format whose writes first run {@link graft.io.FiniteWeights#require}: no command writes a
     * model with NaN or Inf weights unless the options say {@code allow-nonfinite}.
     */
    private record Checked(ModelFormat f) implements ModelFormat {
        @Override
        public String name() {
            return f.name();
        }

        @Override
        public boolean claims(Path file) {
            return f.claims(file);
        }

        @Override
        public graft.ir.Graph read(Path file, graft.io.Options options) {
            return f.read(file, options);
        }

        @Override
        public void write(graft.ir.Graph graph, Path file, graft.io.Options options) {
            graft.io.FiniteWeights.require(graph, file, options);
            f.write(graph, file, options);
        }
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
