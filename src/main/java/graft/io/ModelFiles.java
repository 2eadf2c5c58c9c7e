package graft.io;

import graft.error.MalformedModelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Opening model files safely: existence and type checks, Git LFS pointers (read through to their
 * verified local object, or refused) before any parsing, and memory mapping. Every format reader
 * starts here.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    /**
     * Checks that {@code file} is a readable regular file that is not a Git LFS pointer.
     * Returns its size.
     */
    public static long checkReadable(Path file) {
        if (!Files.exists(file)) {
            throw new MalformedModelException(file, "no such file");
        }
        if (Files.isDirectory(file)) {
            throw new MalformedModelException(file, "is a folder, not a model file");
        }
        if (!Files.isReadable(file)) {
            throw new MalformedModelException(file, "is not readable");
        }
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new MalformedModelException(file, "cannot be read: " + e.getMessage());
        }
        if (size == 0) {
            throw new MalformedModelException(file, "is empty (0 bytes)");
        }
        if (size < 1024) {
            byte[] head = head(file, (int) size);
            if (GitLfs.looksLikePointer(head)) {
                try {
                    return Files.size(GitLfs.object(file, head));
                } catch (IOException e) {
                    throw new MalformedModelException(file, "cannot be read: " + e.getMessage());
                }
            }
        }
        return size;
    }

    /**
     * The file holding {@code file}'s bytes: the file itself, or, when it is a Git LFS pointer,
     * its verified object in the repository's local LFS store (see {@link GitLfs}; refused as
     * {@link #checkReadable} refuses). Readers read and map this path, and name {@code file}.
     */
    public static Path source(Path file) {
        try {
            if (Files.isRegularFile(file) && Files.size(file) < 1024) {
                byte[] head = head(file, 1024);
                if (GitLfs.looksLikePointer(head)) {
                    return GitLfs.object(file, head);
                }
            }
        } catch (IOException e) {
            throw new MalformedModelException(file, "cannot be read: " + e.getMessage());
        }
        return file;
    }

    /** The first {@code n} bytes of a file (fewer when it is shorter). */
    public static byte[] head(Path file, int n) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate((int) Math.min(n, ch.size()));
            while (b.hasRemaining() && ch.read(b) > 0) {
                // keep reading
            }
            return java.util.Arrays.copyOf(b.array(), b.position());
        } catch (NoSuchFileException e) {
            throw new MalformedModelException(file, "no such file");
        } catch (IOException e) {
            throw new MalformedModelException(file, "cannot be read: " + e.getMessage());
        }
    }

    /**
     * Maps a whole file read-only, little-endian. The mapping lives as long as the returned
     * buffer (or any slice of it) is reachable; the file handle is closed at once.
     */
    public static MappedByteBuffer map(Path file) {
        return map(file, 0, -1);
    }

    /** Maps {@code length} bytes at {@code offset} ({@code -1}: to the end). */
    public static MappedByteBuffer map(Path file, long offset, long length) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            long len = length < 0 ? size - offset : length;
            if (offset < 0 || offset > size || len > size - offset) {
                throw new MalformedModelException(file, "region at offset " + offset + " of " + len
                        + " bytes lies beyond the end of the file (" + size + " bytes)");
            }
            if (len > Integer.MAX_VALUE) {
                throw new MalformedModelException(file, "region of " + len + " bytes is larger than 2 GB; split it into external data files");
            }
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, offset, len);
            m.order(ByteOrder.LITTLE_ENDIAN);
            return m;
        } catch (IOException e) {
            throw new MalformedModelException(file, "cannot be mapped: " + e.getMessage());
        }
    }

    /** Resolves a path named inside a model against the model's folder, refusing escapes. */
    public static Path resolveInside(Path modelFile, String location) {
        Path dir = modelFile.toAbsolutePath().getParent();
        Path loc;
        try {
            loc = Path.of(location);
        } catch (java.nio.file.InvalidPathException e) {
            throw new MalformedModelException(modelFile, "external data location '" + location + "' is not a valid path");
        }
        if (loc.isAbsolute() || location.startsWith("/") || location.startsWith("\\")) {
            throw new MalformedModelException(modelFile, "external data location '" + location
                    + "' is an absolute path; locations must stay inside the model's folder");
        }
        Path resolved = dir.resolve(loc).normalize();
        if (!resolved.startsWith(dir.normalize()) || location.contains("..")) {
            throw new MalformedModelException(modelFile, "external data location '" + location
                    + "' climbs out of the model's folder; refused");
        }
        return resolved;
    }
}
