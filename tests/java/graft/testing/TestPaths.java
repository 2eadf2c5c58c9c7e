package graft.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Where tests find the repository, its fixtures, and the shared corpus beside the checkout. */
public final class TestPaths {
    private TestPaths() {
    }

    public static Path root() {
        String r = System.getProperty("graft.root");
        return Path.of(r == null ? "." : r).toAbsolutePath().normalize();
    }

    public static Path fixtures() {
        return root().resolve("fixtures");
    }

    /** {@code ../shared}, beside the checkout (CI clones with it there). */
    public static Path shared() {
        Path s = root().resolve("../shared").normalize();
        if (!Files.isDirectory(s)) {
            s = root().resolve("shared");
        }
        return s;
    }

    public static Path corpus() {
        return shared().resolve("corpus");
    }

    /** Scratch space under target/, created fresh per name. */
    public static Path scratch(String name) {
        Path p = root().resolve("target/test-scratch").resolve(name);
        try {
            if (Files.exists(p)) {
                try (var s = Files.walk(p)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
            Files.createDirectories(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return p;
    }

    /** Skips (never passes) a test whose external oracle is missing; CI installs them all. */
    public static void assumeExists(Path p, String what) {
        Assumptions.assumeTrue(Files.exists(p), what + " is not installed (" + p + "); .ci/run installs it");
    }
}
