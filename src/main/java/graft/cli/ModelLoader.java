package graft.cli;

import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/** Reads a model in any known format and records where it came from (provenance). */
final class ModelLoader {
    private ModelLoader() {
    }

    /** Reads {@code file}; the source hash is computed on the second core while the format parses. */
    static Graph load(Path file, String from, Options options) {
        ModelFormat f = Formats.forFile(file, from);
        CompletableFuture<String> sha = CompletableFuture.supplyAsync(() -> sha256(file));
        Graph g = f.read(file, options);
        graft.io.Timing.mark("read: " + f.name() + " parsed");
        g.metadata().put("graft.source", file.getFileName().toString());
        g.metadata().put("graft.source_format", f.name());
        g.putDeferredMetadata("graft.source_sha256", sha);
        Path weights = options.path("weights");
        if (weights != null) {
            g.metadata().put("graft.weights", weights.getFileName().toString());
            g.metadata().put("graft.weights_sha256", sha256(weights));
        }
        return g;
    }

    /** SHA-256 of a file (cached by {@link graft.io.FileHash} while the file is unchanged). */
    static String sha256(Path file) {
        return graft.io.FileHash.sha256(file);
    }
}
