package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.TestPaths;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The hidden warmup the launcher runs once per build to make its class-data archive: it reads
 * the bundled model, writes and reads it back as ONNX, Keras and Caffe, and runs convert on the
 * Keras file; it exits 0 and leaves no temporary folder behind (the launcher drops the archive
 * when it fails, which would only make every later run slower).
 */
class WarmupCommandTest {
    @Test
    void warmupExitsZeroAndCleansUp() throws Exception {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        java.util.Set<Path> before = warmupFolders(tmp);
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "warmup", "--fixtures", TestPaths.fixtures().toString());
        assertThat(code).as(err.toString()).isZero();
        assertThat(warmupFolders(tmp)).isSubsetOf(before);
    }

    static java.util.Set<Path> warmupFolders(Path tmp) throws java.io.IOException {
        try (var s = Files.list(tmp)) {
            return s.filter(p -> p.getFileName().toString().startsWith("graft-warmup")).collect(java.util.stream.Collectors.toSet());
        }
    }
}
