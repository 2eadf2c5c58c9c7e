package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import graft.error.MalformedModelException;
import graft.io.Options;
import graft.testing.TestPaths;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

/** A .keras zip's config.json is read up to 4 MB (a deflate bomb of a few KB could claim 64 MB before). */
class KerasZipLimitsTest {
    @Test
    void aConfigJsonInflatingBeyondFourMegabytesIsRefusedInOneLine() throws Exception {
        Path f = TestPaths.scratch("keras-zip-limits").resolve("bomb.keras");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(f))) {
            z.putNextEntry(new ZipEntry("config.json"));
            byte[] spaces = new byte[1 << 20];
            java.util.Arrays.fill(spaces, (byte) ' ');
            OutputStream o = z;
            for (int i = 0; i < 8; i++) {
                o.write(spaces);
            }
            o.write("{}".getBytes(StandardCharsets.US_ASCII));
            z.closeEntry();
            z.putNextEntry(new ZipEntry("model.weights.h5"));
            z.write(new byte[16]);
            z.closeEntry();
        }
        assertThat(Files.size(f)).isLessThan(64 << 10);
        MalformedModelException e = catchThrowableOfType(() -> new KerasFormat().read(f, Options.none()), MalformedModelException.class);
        assertThat(e).isNotNull();
        assertThat(e.exitCode()).isEqualTo(3);
        assertThat(e.getMessage()).contains("bomb.keras").contains("config.json").contains("more than the 4 MB graft reads of it");
    }
}
