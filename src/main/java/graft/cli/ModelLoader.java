package graft.cli;

import graft.error.GraftException;
import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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

    /**
     * SHA-256 of a file, read through a small buffer rather than mapped: a second mapping of a
     * model the reader already maps would count its pages twice in the process's RSS.
     */
    static String sha256(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) > 0 || buf.position() > 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new GraftException("cannot hash '" + file + "': " + e.getMessage(), e);
        }
    }
}
