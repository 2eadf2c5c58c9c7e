package graft.caffe;

import graft.io.ModelFiles;
import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Caffe as a {@link ModelFormat}: claims {@code .prototxt} and {@code .caffemodel}. Options
 * read: {@code weights} (the caffemodel of a prototxt), {@code phase} (TRAIN|TEST, default
 * TEST), {@code data-shape} (CxHxW of a data layer whose database is not at hand), {@code seed}
 * (for fillers); when writing, {@code force} and {@code inputs}. Writing {@code x.caffemodel}
 * or {@code x.prototxt} writes both files beside each other.
 */
public final class CaffeFormat implements ModelFormat {
    @Override
    public String name() {
        return "caffe";
    }

    @Override
    public boolean claims(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".prototxt") || n.endsWith(".caffemodel");
    }

    @Override
    public Graph read(Path file, Options options) {
        return CaffeImporter.read(file, options);
    }

    @Override
    public void writeChecked(Graph graph, Path file, Options options) {
        CaffeExporter.write(graph, file, options.flag("force"), options.paths("inputs"));
    }

    /** A caffemodel by name, or a file whose first bytes are not text. */
    static boolean isBinary(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".caffemodel") || n.endsWith(".binaryproto")) {
            return true;
        }
        if (n.endsWith(".prototxt") || n.endsWith(".pbtxt") || n.endsWith(".txt")) {
            return false;
        }
        ModelFiles.checkReadable(file);
        byte[] head = ModelFiles.head(ModelFiles.source(file), 64);
        for (byte b : head) {
            if (b < 0x09 || (b > 0x0d && b < 0x20 && b != 0x1b)) {
                return true;
            }
        }
        return false;
    }
}
