package graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import graft.error.UnsupportedModelException;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.onnx.proto.Onnx.ModelProto;
import graft.onnx.proto.Onnx.NodeProto;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pooling with ceil_mode written below opset 10 as explicit end padding
 * (fixtures/onnx/make_ceil_pools.py): the same output, bit for bit, as ONNX Runtime computes
 * for the opset-10 original, on all-negative inputs (a padded cell taken as 0 would win every
 * MaxPool window it touches); refused, naming the node, where padding would change the result.
 */
class CeilModePoolingTest {
    static Path models() {
        Path dir = TestPaths.scratch("ceil-pools");
        Python.run(TestPaths.fixtures().resolve("onnx/make_ceil_pools.py"), dir.toString());
        return dir;
    }

    static Path write(Path dir, String name, int opset) {
        Path src = dir.resolve(name + ".onnx");
        Path out = dir.resolve(name + "_" + opset + ".onnx");
        Graph g = OnnxImporter.read(src);
        OnnxExporter.write(g, out, new OnnxExporter.Settings(opset, OnnxExporter.ExternalData.NEVER, true, List.of(src)));
        return out;
    }

    @Test
    void ceilModeMaxPoolAndExcludingAveragePoolBecomeEndPaddingExactly() throws IOException {
        Path dir = models();
        for (String name : List.of("max_ceil", "avg_exclude_ceil")) {
            Tensor x = OnnxRoundTripTest.npy(dir.resolve(name + "_input.npy"));
            Tensor want = OnnxRoundTripTest.run(dir.resolve(name + ".onnx"), Map.of("x", x)).get("y");
            assertThat(want.shape()).containsExactly(1, 2, 8, 8);
            for (int opset : new int[]{7, 8, 9}) {
                Path out = write(dir, name, opset);
                NodeProto pool = ModelProto.parseFrom(Files.readAllBytes(out)).getGraph().getNode(0);
                assertThat(pool.getAttributeList()).noneMatch(a -> a.getName().equals("ceil_mode"));
                assertThat(pool.getAttributeList()).anyMatch(a -> a.getName().equals("pads") && a.getIntsList().equals(List.of(0L, 0L, 1L, 1L)));
                Tensor got = OnnxRoundTripTest.run(out, Map.of("x", x)).get("y");
                assertThat(OnnxTestData.excess(got, want, 0, 0)).as(name + " @" + opset).isZero();
            }
        }
    }

    @Test
    void includingAveragePoolAndWindowsStartingInPaddingAreRefusedByName() {
        Path dir = models();
        assertThatThrownBy(() -> write(dir, "avg_include_ceil", 9)).isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("AveragePool 'avg_include_ceil_pool' with ceil_mode and count_include_pad needs opset 10");
        assertThatThrownBy(() -> write(dir, "max_ceil_in_padding", 9)).isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("MaxPool 'max_ceil_in_padding_pool' with ceil_mode needs opset 10 (its last window");
        write(dir, "avg_include_ceil", 10);
    }
}
