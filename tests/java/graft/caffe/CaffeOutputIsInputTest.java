package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Options;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.onnx.OnnxFormat;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Found by the roundtrip fuzz campaign (fixtures/fuzz/roundtrip/crash-d93f15ec...): an ONNX file
 * whose graph lost its nodes and outputs read as a model of 0 layers, and the Caffe writer wrote a
 * net graft's own Caffe reader refuses ("has no layer that computes anything"). A model with no
 * outputs is now malformed for every reader (exit 3), and the Caffe writer refuses by name an output
 * that is the model's input itself (Caffe's outputs are tops its layers compute) instead of writing
 * an empty net. Both seen failing before the fix (exit 0, an empty prototxt).
 */
class CaffeOutputIsInputTest {
    @Test
    void aModelWithNoOutputsIsRefusedByTheReader() throws Exception {
        Path dir = TestPaths.scratch("caffe-output-is-input-none");
        Path onnx = dir.resolve("empty.onnx");
        Files.copy(TestPaths.root().resolve("fixtures/fuzz/roundtrip/crash-d93f15ecd097be319d164dcbac33abca732518d7"), onnx,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path out = dir.resolve("empty.prototxt");
        Cli.Result r = Cli.run("convert", onnx.toString(), out.toString(), "--force");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("empty.onnx").contains("has no outputs");
        assertThat(out).doesNotExist();
    }

    @Test
    void anOutputThatIsTheInputIsRefusedByTheCaffeWriter() throws Exception {
        Path dir = TestPaths.scratch("caffe-output-is-input");
        Graph g = new Graph("identity");
        TensorType t = new TensorType(DataType.FLOAT, Shape.of(1, 3, 4, 4));
        g.inputs().add(new Value("x", t));
        g.outputs().add(new Value("x", t));
        g.opsets().put("", 17L);
        Path onnx = dir.resolve("identity.onnx");
        new OnnxFormat().write(g, onnx, Options.none().set("force", true));
        Path out = dir.resolve("identity.prototxt");
        Cli.Result r = Cli.run("convert", onnx.toString(), out.toString(), "--force");
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(3);
        assertThat(r.err()).contains("output 'x' is the model's input itself");
        assertThat(out).doesNotExist();
        assertThat(dir.resolve("identity.caffemodel")).doesNotExist();
    }
}
