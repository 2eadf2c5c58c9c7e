package graft.keras;

import graft.error.UnsupportedModelException;
import graft.ir.Graph;
import java.nio.file.Path;
import java.util.List;

/** Writes the IR as a Keras 2 full-model .h5. */
final class KerasExporter {
    private KerasExporter() {
    }

    static void write(Graph g, Path file, boolean force, List<Path> inputs) {
        throw new UnsupportedModelException("writing Keras files ('" + file + "') is not available in this build. Write ONNX instead");
    }
}
