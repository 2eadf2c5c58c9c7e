package graft.io;

import graft.ir.Graph;
import java.nio.file.Path;

/**
 * One file format: reads a model into the IR and writes the IR back out. Implementations
 * live in the format packages under {@code converters/}; the command line holds the list.
 */
public interface ModelFormat {
    /** Short name used by {@code --from}/{@code --to}: onnx, keras, caffe. */
    String name();

    /** True when the file name (extension) belongs to this format. */
    boolean claims(Path file);

    Graph read(Path file, Options options);

    /** Writes atomically (see {@link AtomicOutput}); never a partial file. */
    void write(Graph graph, Path file, Options options);
}
