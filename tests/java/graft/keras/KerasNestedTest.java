package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A functional model with a nested Sequential (fixtures/keras/make_nested.py) is expanded into
 * its inner layers, takes their weights from the nested model's group, and matches
 * TensorFlow.js (which runs the nested model as Keras does) within 1e-5 relative.
 */
class KerasNestedTest {
    @Test
    void nestedSequentialIsExpandedAndMatchesTensorFlowJs() {
        TfjsOracle.assumeInstalled();
        Path scratch = TestPaths.scratch("keras-nested");
        Path h5 = scratch.resolve("nested.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_nested.py"), h5.toString());
        Graph g = new KerasFormat().read(h5, graft.io.Options.none());
        assertThat(g.layers()).contains("inner_conv", "inner_pool", "flatten", "head");
        Path onnx = scratch.resolve("nested.onnx");
        Cli.Result r = Cli.run("convert", h5.toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 8, 8, 3}, 5);
        List<String> errors = new ArrayList<>();
        Tensor want = TfjsOracle.predict(List.of(new TfjsOracle.Job(h5, null, List.of(x))), scratch.resolve("tfjs"), errors).get(0).get(0);
        assertThat(errors.get(0)).isNull();
        try (OrtRunner ort = OrtRunner.open(onnx, Device.CPU)) {
            Tensor got = ort.run(Map.of(ort.inputs().keySet().iterator().next(), x)).values().iterator().next();
            assertThat(TfjsOracle.relError(got, want)).isLessThanOrEqualTo(1e-5);
        }
    }
}
