package graft.io;

import graft.ir.Graph;
import java.nio.file.Path;

/**
 * One file format: reads a model into the IR and writes the IR back out. Implementations
 * live in the format packages under {@code converters/}; the command line holds the list.
 */
public interface ModelFormat {
    /**
     * Metadata a reader sets when the model has parameters and none came from weights (a Caffe
     * prototxt read alone: only its fillers); the value says why. The command line refuses such
     * a model unless {@code --init fillers}, and replaces the key once it has decided.
     */
    String WEIGHTS_MISSING = "graft.weights_missing";

    /**
     * Metadata the command line sets to the format of the file a graph was read from. In memory
     * only: writers leave it out (the written {@code graft.source_format} names the origin).
     */
    String READ_FORMAT = "graft.read_format";

    /** Short name used by {@code --from}/{@code --to}: onnx, keras, caffe. */
    String name();

    /** True when the file name (extension) belongs to this format. */
    boolean claims(Path file);

    Graph read(Path file, Options options);

    /**
     * Writes atomically (see {@link AtomicOutput}); never a partial file. First runs
     * {@link FiniteWeights#require}: a model with NaN or Inf weights is refused (exit 3) unless the
     * options say {@code allow-nonfinite}, whoever calls it (command line or Java API).
     */
    default void write(Graph graph, Path file, Options options) {
        FiniteWeights.require(graph, file, options);
        writeChecked(graph, file, options);
    }

    /** The format's own writing, called by {@link #write} once the weights are known finite. */
    void writeChecked(Graph graph, Path file, Options options);
}
