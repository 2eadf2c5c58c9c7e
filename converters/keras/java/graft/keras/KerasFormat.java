package graft.keras;

import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Keras as a {@link ModelFormat}: claims {@code .h5}, {@code .hdf5} and {@code .keras}. Options
 * read: {@code config} (architecture JSON for a weights-only file), {@code force},
 * {@code inputs} (paths the output must never overwrite), {@code explicit-padding} (write pads Keras
 * "same" cannot express as ZeroPadding2D layers). Stateless and thread-safe; see
 * {@link KerasImporter} for who owns the weights it returns. Writes Keras 2 HDF5 to {@code .h5}/{@code .hdf5}
 * and a Keras 3 zip ({@link Keras3Writer}) to {@code .keras}.
 */
public final class KerasFormat implements ModelFormat {
    @Override
    public String name() {
        return "keras";
    }

    @Override
    public boolean claims(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".h5") || n.endsWith(".hdf5") || n.endsWith(".keras");
    }

    @Override
    public Graph read(Path file, Options options) {
        return KerasImporter.read(file, options.path("config"));
    }

    @Override
    public void writeChecked(Graph graph, Path file, Options options) {
        if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".keras")) {
            KerasExporter.writeKeras3(graph, file, options.flag("force"), options.paths("inputs"), options.flag("explicit-padding"));
            return;
        }
        KerasExporter.write(graph, file, options.flag("force"), options.paths("inputs"), options.flag("explicit-padding"));
    }
}
