package graft.picture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Headless Chromium (Debian's {@code chromium}, installed by tests/run) driven through its command line:
 * {@code --dump-dom} prints the DOM after the page's scripts ran, {@code --screenshot} writes a PNG. Page
 * console messages (uncaught errors included) appear on stderr as {@code CONSOLE} lines with
 * {@code --enable-logging=stderr}.
 */
final class Chromium {
    record Run(String out, String err) {
        /** The page's console lines (errors, warnings, logs); the pictures log nothing. */
        List<String> console() {
            return err.lines().filter(l -> l.contains(":CONSOLE")).toList();
        }
    }

    private final String exe;
    private final Path profile;

    private Chromium(String exe, Path profile) {
        this.exe = exe;
        this.profile = profile;
    }

    /** Skips (never passes) the calling test when no chromium is installed. */
    static Chromium find(Path scratch) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return new Chromium(p.toString(), scratch.resolve("chromium-profile"));
                }
            }
        }
        Assumptions.assumeTrue(false, "chromium is not installed (apt-get install chromium; tests/run installs it)");
        return null;
    }

    Run dumpDom(String url) throws IOException, InterruptedException {
        return run(List.of("--dump-dom", url));
    }

    Run screenshot(String url, Path png, int width, int height) throws IOException, InterruptedException {
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.deleteIfExists(png);
        return run(List.of("--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height, "--hide-scrollbars", url));
    }

    private Run run(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                "--enable-logging=stderr", "--v=0"));
        cmd.addAll(args);
        Path out = Files.createTempFile("chromium", ".out");
        Path err = Files.createTempFile("chromium", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("chromium did not finish in 120 s: " + cmd);
            }
            String o = Files.readString(out, StandardCharsets.UTF_8);
            String e = Files.readString(err, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new AssertionError("chromium exited " + p.exitValue() + ": " + e);
            }
            return new Run(o, e);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
