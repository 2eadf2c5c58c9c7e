package graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Options;
import graft.ir.FileRegion;
import graft.ir.Graph;
import graft.ir.Weight;
import graft.testing.TestPaths;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Weights read from raw_data or external data know where their bytes lie in the file, and
 * those bytes are exactly the weight's (the exporter copies them file to file on that claim).
 */
class FileRegionTest {
    private static void assertRegionsHoldTheBytes(Graph g) throws Exception {
        int withRegion = 0;
        for (Weight w : g.initializers().values()) {
            FileRegion r = w.source().region();
            if (r == null) {
                continue;
            }
            withRegion++;
            ByteBuffer fromFile = ByteBuffer.allocate(Math.toIntExact(r.length()));
            try (FileChannel ch = FileChannel.open(r.file())) {
                while (fromFile.hasRemaining() && ch.read(fromFile, r.offset() + fromFile.position()) > 0) {
                    // read the whole region
                }
            }
            fromFile.flip();
            assertThat(fromFile.remaining()).isEqualTo(w.byteSize());
            assertThat(fromFile.mismatch(w.source().buffer())).as(w.name()).isEqualTo(-1);
        }
        assertThat(withRegion).as("weights with a known file region").isEqualTo(g.initializers().size());
    }

    @Test
    void rawDataAndExternalDataRegionsAreTheWeightsBytes() throws Exception {
        Path model = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
        assertRegionsHoldTheBytes(OnnxImporter.read(model));

        Path dir = TestPaths.scratch("file-region");
        Path ext = dir.resolve("external.onnx");
        new OnnxFormat().write(OnnxImporter.read(model), ext, Options.none().set("external-data", "always"));
        assertThat(Files.exists(dir.resolve("external.onnx.data"))).isTrue();
        Graph back = OnnxImporter.read(ext);
        assertRegionsHoldTheBytes(back);

        // Written again from those regions (file to file), the weights are byte-identical.
        Path again = dir.resolve("again.onnx");
        new OnnxFormat().write(back, again, Options.none().set("external-data", "always"));
        assertThat(Files.mismatch(dir.resolve("external.onnx.data"), dir.resolve("again.onnx.data"))).isEqualTo(-1);
    }
}
