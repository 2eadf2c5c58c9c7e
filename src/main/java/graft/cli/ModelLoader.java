package graft.cli;

import graft.error.UnsupportedModelException;
import graft.error.UsageException;
import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/** Reads a model in any known format and records where it came from (provenance). */
final class ModelLoader {
    /**
     * The format of the file this graph was just read from (in memory only, never written): the
     * written {@code graft.source_format} is the origin's, which a file graft wrote keeps.
     */
    static final String READ_FORMAT = graft.io.ModelFormat.READ_FORMAT;

    private ModelLoader() {
    }

    /**
     * Reads {@code file}; the source hash is computed on the second core while the format parses.
     * A model without weights (a Caffe prototxt alone: all its parameters from fillers, zeros for
     * a deploy net) is refused, exit 3, unless option {@code init} is {@code fillers}.
     */
    static Graph load(Path file, String from, Options options) {
        return load(file, from, options, false);
    }

    /** As {@link #load(Path, String, Options)}; {@code describeOnly} (inspect) reads a model without weights too. */
    static Graph load(Path file, String from, Options options, boolean describeOnly) {
        String init = options.string("init", null);
        if (init != null && !init.equals("fillers")) {
            throw new UsageException("--init " + init + ": the only value is 'fillers' (start a Caffe net without a caffemodel from its layers' fillers)");
        }
        ModelFormat f = Formats.forFile(file, from);
        CompletableFuture<String> sha = CompletableFuture.supplyAsync(() -> sha256(file));
        Graph g;
        try {
            g = f.read(file, options);
        } catch (UnsupportedModelException e) {
            // a reader names the layer and the fault; the user also needs to know which file
            String m = e.getMessage() == null ? "" : e.getMessage();
            if (m.contains(file.toString()) || m.contains("'" + file.getFileName() + "'")) {
                throw e;
            }
            UnsupportedModelException named = new UnsupportedModelException("model '" + file + "': " + m, e.offenders());
            named.initCause(e);
            throw named;
        }
        graft.io.Timing.mark("read: " + f.name() + " parsed");
        g.metadata().put(READ_FORMAT, f.name());
        if (g.metadata().containsKey("graft.version") && g.metadata().containsKey("graft.source_sha256")
                && g.metadata().containsKey("graft.source")) {
            // A file graft wrote keeps its origin (the first source's name, format and hash): re-saving
            // the same content gives the same bytes, so Git LFS stores no second object (issue 18).
            sha.cancel(false);
        } else {
            g.metadata().put("graft.source", file.getFileName().toString());
            g.metadata().put("graft.source_format", f.name());
            g.putDeferredMetadata("graft.source_sha256", sha);
        }
        String missing = g.metadata().remove(ModelFormat.WEIGHTS_MISSING);
        if (missing != null) {
            if (init == null && !describeOnly) {
                throw new UnsupportedModelException("model '" + file + "': no weights (" + missing
                        + "); pass --weights FILE.caffemodel, or --init fillers to start from the layers' fillers on purpose");
            }
            g.metadata().put("graft.weights", "none (filler-initialised)");
            return g;
        }
        Path weights = options.path("weights");
        if (weights != null) {
            g.metadata().put("graft.weights", weights.getFileName().toString());
            g.metadata().put("graft.weights_sha256", sha256(weights));
        }
        return g;
    }

    /**
     * One notice line (or nothing) naming the layers a net with weights took from their fillers
     * instead (a renamed layer such as fc8 -> fc8_flickr): what a user converting or inspecting
     * it should know is not pretrained.
     */
    static void notices(Graph g, java.io.PrintWriter err) {
        String filled = g.metadata().get("caffe.filled_from_fillers");
        if (filled != null && !g.metadata().getOrDefault("graft.weights", "").startsWith("none")) {
            err.println("graft: notice: not in the weights file, initialised from their fillers: " + filled.replace(",", ", "));
            err.flush();
        }
    }

    /** SHA-256 of a file (cached by {@link graft.io.FileHash} while the file is unchanged). */
    static String sha256(Path file) {
        Path bytes;
        try {
            bytes = graft.io.ModelFiles.source(file);
        } catch (graft.error.GraftException e) {
            bytes = file; // the reader refuses it with the same line
        }
        return graft.io.FileHash.sha256(bytes);
    }
}
