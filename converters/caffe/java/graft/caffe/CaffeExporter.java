package graft.caffe;

import graft.error.UnsupportedModelException;
import graft.ir.Graph;
import java.nio.file.Path;
import java.util.List;

/** Writing Caffe files; this first slice of the Caffe package reads only. */
final class CaffeExporter {
    private CaffeExporter() {
    }

    static void write(Graph g, Path file, boolean force, List<Path> inputs) {
        throw new UnsupportedModelException("output '" + file + "': graft reads Caffe files but does not write them yet. Write .onnx instead");
    }
}
