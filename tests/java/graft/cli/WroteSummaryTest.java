package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The line convert, surgery and quantize print after writing ("wrote OUT (onnx, N layers, P parameters)")
 * counts the layers inspect shows, the rows users number layers by. PyTorch's export of a
 * flatten computes the target shape with Shape, Gather, Unsqueeze and Concat nodes
 * (fixtures/onnx/shape_flatten.onnx: 7 layers, 22 such nodes); the line said "29 layers" while
 * inspect listed 7 (torchvision's shufflenet_v2: 886 against 186).
 */
class WroteSummaryTest {
    static final Path SHAPE_FLATTEN = TestPaths.fixtures().resolve("onnx/shape_flatten.onnx");

    @Test
    void convertAndSurgeryCountTheLayersInspectShows() throws Exception {
        Path dir = TestPaths.scratch("wrote-summary");
        Cli.Result i = Cli.run("inspect", "--json", SHAPE_FLATTEN.toString());
        assertThat(i.code()).as(i.err()).isZero();
        JsonNode table = new ObjectMapper().readTree(i.out());
        int layers = table.path("layers").size();
        long params = table.path("total_params").asLong();
        assertThat(layers).isEqualTo(7);

        Path out = dir.resolve("converted.onnx");
        Cli.Result c = Cli.run("convert", "--force", SHAPE_FLATTEN.toString(), out.toString());
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).contains(String.format(Locale.ROOT, "wrote %s (onnx, %d layers, %,d parameters)", out, layers, params));

        Path cut = dir.resolve("surgery.onnx");
        Cli.Result s = Cli.run("surgery", SHAPE_FLATTEN.toString(), "--edit", "freeze :1", "-o", cut.toString(), "--force");
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode after = new ObjectMapper().readTree(Cli.run("inspect", "--json", cut.toString()).out());
        assertThat(s.out()).contains(String.format(Locale.ROOT, "wrote %s (onnx, 1 edits, %d layers, %,d parameters)", cut,
                after.path("layers").size(), after.path("total_params").asLong()));

        Path q = dir.resolve("quantized.onnx");
        Cli.Result z = Cli.run("quantize", SHAPE_FLATTEN.toString(), q.toString(), "--dynamic", "--force");
        assertThat(z.code()).as(z.err()).isZero();
        JsonNode quantized = new ObjectMapper().readTree(Cli.run("inspect", "--json", q.toString()).out());
        assertThat(z.out() + z.err()).contains(String.format(Locale.ROOT, "wrote %s (onnx opset 17, %d layers,", q, quantized.path("layers").size()));
    }
}
