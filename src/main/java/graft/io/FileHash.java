package graft.io;

import graft.error.EnvironmentException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * SHA-256 of model files, for provenance metadata, with a stat cache as git keeps one for its
 * index: hashing VGG16 (528 MB) costs about half a second of a core on every command, more
 * than the conversion itself, while users convert, inspect and validate the same source
 * again and again.
 *
 * <p>The cache maps (real path, device, inode, size, modification time and change time, both
 * in nanoseconds) to the digest, one small file per key under
 * {@code $XDG_CACHE_HOME/graft/sha256} (default {@code ~/.cache/graft/sha256}). Any write to
 * the file changes its change time, so a stale entry cannot match. {@code GRAFT_HASH_CACHE=0}
 * turns the cache off; an unwritable cache folder is silently not used. Thread-safe: entries
 * are written to a temporary file and renamed.
 */
public final class FileHash {
    private FileHash() {
    }

    /** The file's SHA-256 as lower-case hex, from the cache when the file is unchanged. */
    public static String sha256(Path file) {
        Path entry = cacheEntry(file);
        if (entry != null) {
            try {
                String hex = Files.readString(entry, StandardCharsets.US_ASCII).trim();
                if (hex.matches("[0-9a-f]{64}")) {
                    return hex;
                }
            } catch (IOException absent) {
                // not cached yet
            }
        }
        String hex = compute(file);
        if (entry != null) {
            store(entry, hex);
        }
        return hex;
    }

    /**
     * Hashes through a small buffer rather than a mapping: a second mapping of a model the
     * reader already maps would count its pages twice in the process's resident size.
     */
    public static String compute(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            // A heap buffer: MessageDigest copies a direct buffer into a temporary array first.
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            while (ch.read(buf) > 0 || buf.position() > 0) {
                buf.flip();
                md.update(buf.array(), 0, buf.limit());
                buf.clear();
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new EnvironmentException("cannot hash '" + file + "': " + e.getMessage(), e);
        }
    }

    private static Path cacheEntry(Path file) {
        if ("0".equals(System.getenv("GRAFT_HASH_CACHE"))) {
            return null;
        }
        try {
            Path real = file.toRealPath();
            Map<String, Object> a = Files.readAttributes(real, "unix:dev,ino,size,lastModifiedTime,ctime");
            String key = real + "\0" + a.get("dev") + "\0" + a.get("ino") + "\0" + a.get("size") + "\0"
                    + nanos(a.get("lastModifiedTime")) + "\0" + nanos(a.get("ctime"));
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            String name = HexFormat.of().formatHex(md.digest(key.getBytes(StandardCharsets.UTF_8)));
            return cacheDir().resolve(name);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | NoSuchAlgorithmException e) {
            return null; // no unix attributes here: hash every time
        }
    }

    private static long nanos(Object time) {
        FileTime t = (FileTime) time;
        return t.to(java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private static Path cacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("graft").resolve("sha256");
    }

    private static void store(Path entry, String hex) {
        try {
            Files.createDirectories(entry.getParent());
            Path tmp = Files.createTempFile(entry.getParent(), ".entry", ".tmp");
            Files.writeString(tmp, hex + "\n", StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, entry, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, entry, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | SecurityException e) {
            // a read-only home: the cache is an optimisation only
        }
    }
}
