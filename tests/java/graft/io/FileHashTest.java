package graft.io;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.TestPaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** FileHash against coreutils' sha256sum, and its cache against changed files. */
class FileHashTest {
    private static String sha256sum(Path f) throws Exception {
        Process p = new ProcessBuilder("sha256sum", f.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(p.waitFor()).isZero();
        return out.split(" ")[0];
    }

    @Test
    void matchesSha256sumAndNoticesEveryChange() throws Exception {
        Path dir = TestPaths.scratch("file-hash");
        Path f = dir.resolve("model.bin");
        byte[] data = new byte[3 << 20 | 12345];
        new Random(7).nextBytes(data);
        Files.write(f, data);
        String first = FileHash.sha256(f);
        assertThat(first).isEqualTo(sha256sum(f)).isEqualTo(FileHash.compute(f));
        assertThat(FileHash.sha256(f)).as("cached answer").isEqualTo(first);

        // Same size, one byte changed: the change time moves, so the cache must not answer.
        data[1000] ^= 1;
        Files.write(f, data);
        assertThat(FileHash.sha256(f)).isEqualTo(sha256sum(f)).isNotEqualTo(first);

        // Same content under another name hashes the same.
        Path g = dir.resolve("copy.bin");
        Files.write(g, data);
        assertThat(FileHash.sha256(g)).isEqualTo(FileHash.sha256(f));
    }
}
