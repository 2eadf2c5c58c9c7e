package graft.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs an oracle script with Debian's Python ({@code /usr/bin/python3}, which sees
 * python3-torch, python3-onnx, python3-opencv, python3-h5py). Oracles are independent
 * implementations: graft's numbers are checked against what they print or write.
 */
public final class Python {
    public static final Path PYTHON = Path.of("/usr/bin/python3");

    private Python() {
    }

    /**
     * Runs {@code script args...}; returns stdout; fails the test with stderr on a non-zero exit or
     * after 20 minutes. stderr goes to a temporary file and stdout is read on its own thread, so a
     * script that writes much to one stream while graft waits on the other cannot block both.
     */
    public static String run(Path script, String... args) {
        return run(20, TimeUnit.MINUTES, script, args);
    }

    /** {@link #run(Path, String...)} with its own time limit: the script is killed when it runs past it. */
    public static String run(long timeout, TimeUnit unit, Path script, String... args) {
        TestPaths.assumeExists(PYTHON, "Debian python3");
        List<String> cmd = new ArrayList<>();
        cmd.add(PYTHON.toString());
        cmd.add(script.toString());
        cmd.addAll(List.of(args));
        Path errFile = null;
        Process p = null;
        try {
            errFile = Files.createTempFile("graft-oracle", ".err");
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("PYTHONHASHSEED", "0");
            pb.environment().put("OMP_NUM_THREADS", "2");
            pb.redirectError(errFile.toFile());
            p = pb.start();
            Process proc = p;
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return proc.getInputStream().readAllBytes();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            if (!p.waitFor(timeout, unit)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("oracle " + script + " ran past " + timeout + " " + unit.toString().toLowerCase()
                        + " and was killed: " + tail(errFile));
            }
            byte[] o = out.get();
            if (p.exitValue() != 0) {
                throw new AssertionError("oracle " + script + " failed (exit " + p.exitValue() + "): " + tail(errFile));
            }
            return new String(o, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("oracle " + script + " could not start: " + e.getMessage(), e);
        } catch (ExecutionException e) {
            throw new AssertionError("oracle " + script + ": its output could not be read: " + e.getCause(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            if (errFile != null) {
                try {
                    Files.deleteIfExists(errFile);
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        }
    }

    /** The last 20,000 characters of what the script wrote to stderr. */
    private static String tail(Path errFile) throws IOException {
        String e = Files.readString(errFile, StandardCharsets.UTF_8);
        return e.length() > 20_000 ? "..." + e.substring(e.length() - 20_000) : e;
    }

    /** True when {@code import module} works with Debian's Python. */
    public static boolean has(String module) {
        try {
            Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import " + module).start();
            return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
