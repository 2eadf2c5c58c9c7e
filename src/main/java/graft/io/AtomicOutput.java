package graft.io;

import graft.error.EnvironmentException;
import graft.error.UsageException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an output file the safe way: into a temporary file in the target folder, renamed
 * over the target only when complete, so a failure never leaves a partial file. Refuses to
 * overwrite an input, and an existing output unless forced.
 *
 * <p>Usage: {@code try (AtomicOutput o = AtomicOutput.open(path, force, inputs)) { write
 * o.channel(); o.commit(); }}. Closing without commit deletes the temporary file.
 */
public final class AtomicOutput implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private boolean committed;

    private AtomicOutput(Path target, Path temp, FileChannel channel) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
    }

    /**
     * The channels this thread's writers open while {@link #watch} is on: a progress bar polls
     * their sizes (bytes written so far) from another thread. Writers need not know.
     */
    private static final ThreadLocal<List<FileChannel>> WATCHED = new ThreadLocal<>();

    /** Starts collecting the channels this thread opens; returns the live list (read it from any thread). */
    public static List<FileChannel> watch() {
        List<FileChannel> l = new java.util.concurrent.CopyOnWriteArrayList<>();
        WATCHED.set(l);
        return l;
    }

    /** Stops collecting. */
    public static void unwatch() {
        WATCHED.remove();
    }

    public static AtomicOutput open(Path target, boolean force, List<Path> inputs) {
        checkTarget(target, force, inputs);
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        try {
            Files.createDirectories(dir);
            Path temp = createTemp(dir, abs.getFileName().toString());
            // No TRUNCATE_EXISTING: the file is new and empty, and truncating it would make ext4
            // (auto_da_alloc) flush every written page on close, a quarter second for VGG16.
            FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE);
            List<FileChannel> watched = WATCHED.get();
            if (watched != null) {
                watched.add(ch);
            }
            return new AtomicOutput(abs, temp, ch);
        } catch (IOException e) {
            throw new EnvironmentException("output '" + target + "': cannot create a file in " + dir + " (" + why(e) + ")", e);
        }
    }

    /**
     * A new empty hidden file next to the target. Not {@code Files.createTempFile}, which makes
     * it 0600 whatever the umask: created plainly, the output gets the permissions {@code cp}
     * would give it (0666 less the umask).
     */
    private static Path createTemp(Path dir, String name) throws IOException {
        java.util.SplittableRandom r = new java.util.SplittableRandom();
        for (int i = 0; ; i++) {
            Path p = dir.resolve("." + name + "." + Long.toUnsignedString(r.nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(p);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (i > 100) {
                    throw e;
                }
            }
        }
    }

    /** The operating system's reason, without Java's exception class name. */
    public static String why(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException || e instanceof java.nio.file.NotDirectoryException) {
            return "a path component is not a folder";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return String.valueOf(e.getMessage());
    }

    /** Refuses an output that is one of the inputs, or that exists when not forced. */
    public static void checkTarget(Path target, boolean force, List<Path> inputs) {
        for (Path in : inputs == null ? List.<Path>of() : inputs) {
            try {
                if (Files.exists(target) && Files.exists(in) && Files.isSameFile(target, in)) {
                    throw new UsageException("output '" + target + "' is the input file; graft never overwrites its input");
                }
            } catch (IOException e) {
                // unreadable: the write itself will report it
            }
        }
        if (Files.exists(target) && !force) {
            throw new UsageException("output '" + target + "' exists; pass --force to replace it");
        }
        if (Files.isDirectory(target)) {
            throw new UsageException("output '" + target + "' is a folder");
        }
    }

    public FileChannel channel() {
        return channel;
    }

    public Path target() {
        return target;
    }

    /** Flushes and renames the temporary file over the target. */
    public void commit() {
        try {
            channel.close();
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            committed = true;
        } catch (IOException e) {
            throw new EnvironmentException("output '" + target + "': cannot be written (" + why(e) + ")", e);
        }
    }

    @Override
    public void close() {
        if (!committed) {
            try {
                channel.close();
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                // best effort: the temporary file is hidden and named after the target
            }
        }
    }

    /** Commits several outputs together (a model and its weights file): all or none. */
    public static void commitAll(List<AtomicOutput> outs) {
        List<AtomicOutput> done = new ArrayList<>();
        for (AtomicOutput o : outs) {
            o.commit();
            done.add(o);
        }
    }
}
