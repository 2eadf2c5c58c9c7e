package graft.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    /** Runs {@code script args...}; returns stdout; fails the test with stderr on a non-zero exit. */
    public static String run(Path script, String... args) {
        TestPaths.assumeExists(PYTHON, "Debian python3");
        List<String> cmd = new ArrayList<>();
        cmd.add(PYTHON.toString());
        cmd.add(script.toString());
        cmd.addAll(List.of(args));
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("PYTHONHASHSEED", "0");
            pb.environment().put("OMP_NUM_THREADS", "2");
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new AssertionError("oracle " + script + " failed: " + new String(err, StandardCharsets.UTF_8));
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("oracle " + script + " could not start: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
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
