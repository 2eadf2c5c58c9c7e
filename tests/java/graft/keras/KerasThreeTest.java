package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A Keras 3 .keras zip (fixtures/keras/make_keras3.py: Keras 3 config form, layers/NAME/vars/I
 * weights) and the same model as a Keras 3 legacy .h5 convert to ONNX whose outputs match
 * TensorFlow.js on the Keras 2 twin of the same model and weights within 1e-5 relative;
 * inspect shows the Keras 3 version.
 */
class KerasThreeTest {
    @Test
    void keras3ZipAndLegacyH5ConvertAndMatchTensorFlowJsOnTheirKeras2Twin() {
        TfjsOracle.assumeInstalled();
        Path dir = TestPaths.root().resolve("target/models/keras3");
        if (!Files.exists(dir.resolve("model_deflated.keras"))) {
            Python.run(TestPaths.fixtures().resolve("keras/make_keras3.py"), dir.toString());
        }
        Path scratch = TestPaths.scratch("keras3");
        Path onnx = scratch.resolve("model.onnx");
        Cli.Result r = Cli.run("convert", dir.resolve("model.keras").toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Cli.Result inspect = Cli.run("inspect", dir.resolve("model.keras").toString());
        assertThat(inspect.out()).contains("keras version:").contains("3.3.3").contains("conv_a").contains("bn");
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {3, 16, 16, 3}, 11);
        List<String> errors = new ArrayList<>();
        Tensor want = TfjsOracle.predict(List.of(new TfjsOracle.Job(dir.resolve("keras2_twin.h5"), null, List.of(x))),
                scratch.resolve("tfjs"), errors).get(0).get(0);
        assertThat(errors.get(0)).isNull();
        Path legacy = scratch.resolve("legacy.onnx");
        Cli.Result rl = Cli.run("convert", dir.resolve("keras3_legacy.h5").toString(), legacy.toString());
        assertThat(rl.code()).as(rl.err()).isZero();
        // STORED weights are read in place: the weights name their bytes' region in the .keras zip itself.
        graft.ir.Graph g = new KerasFormat().read(dir.resolve("model.keras"), graft.io.Options.none());
        List<graft.ir.FileRegion> regions = g.initializers().values().stream().map(w -> w.source().region()).filter(java.util.Objects::nonNull).toList();
        assertThat(regions).hasSizeGreaterThanOrEqualTo(2).allSatisfy(fr -> assertThat(fr.file()).isEqualTo(dir.resolve("model.keras")));
        // DEFLATED weights are inflated to a private temporary file that is gone once jhdf holds it.
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        long before = tempFolders(tmp);
        Path deflated = scratch.resolve("deflated.onnx");
        Cli.Result rd = Cli.run("convert", dir.resolve("model_deflated.keras").toString(), deflated.toString());
        assertThat(rd.code()).as(rd.err()).isZero();
        assertThat(tempFolders(tmp)).isEqualTo(before);
        for (Path p : List.of(onnx, legacy, deflated)) {
            try (OrtRunner ort = OrtRunner.open(p, Device.CPU)) {
                Tensor got = ort.run(Map.of(ort.inputs().keySet().iterator().next(), x)).values().iterator().next();
                assertThat(got.shape()).isEqualTo(want.shape());
                assertThat(TfjsOracle.relError(got, want)).as(p.getFileName().toString()).isLessThanOrEqualTo(1e-5);
            }
        }
    }

    private static long tempFolders(Path tmp) {
        try (var s = Files.list(tmp)) {
            return s.filter(p -> p.getFileName().toString().startsWith("graft-keras-")).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
