package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * #15, Keras writer: a grouped Conv2D (tf.keras >= 2.3 {@code groups}; fixtures/keras/make_grouped_conv.py,
 * groups 2 'same' stride 2 relu, then groups 3 'valid') is written back as Conv2D with its
 * groups (graft refused it: "Keras 2 writes depthwise or ungrouped"), the file declaring
 * keras_version 2.4.0 (tf.keras 2.3's; Keras 2.2.4 has no groups). TensorFlow.js has no groups:
 * the oracle is fixtures/keras/grouped_conv_oracle.py (numpy), which gives the written file the
 * source's outputs, and graft's ONNX of the written file matches it in ONNX Runtime within 1e-5.
 */
class KerasWriterGroupedConvTest {
    @Test
    void groupedConv2dIsWrittenWithItsGroupsAndTheSourcesNumbers() throws Exception {
        Path dir = TestPaths.scratch("keras-writer-grouped");
        Path src = dir.resolve("grouped.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_grouped_conv.py"), src.toString());
        Path back = dir.resolve("grouped_back.h5");
        Cli.Result r = Cli.run("convert", src.toString(), back.toString(), "--force");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(KerasWriterLayersTest.differences(src, back)).isEmpty();
        assertThat(KerasH5RoundTripTest.structure(new KerasCorpusTest.Case(src, null, "grouped"), back)).isEmpty();
        try (HdfFile f = new HdfFile(back)) {
            assertThat(f.getAttribute("keras_version").getData()).isEqualTo("2.4.0");
        }
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 9, 9, 4}, 9);
        Tensor want = KerasCorpusTest.numpyOracle("grouped_conv_oracle.py", src, x, dir, "src");
        Tensor got = KerasCorpusTest.numpyOracle("grouped_conv_oracle.py", back, x, dir, "back");
        assertThat(TfjsOracle.relError(got, want)).isLessThanOrEqualTo(1e-6);
        Path onnx = dir.resolve("grouped_back.onnx");
        assertThat(Cli.run("convert", back.toString(), onnx.toString(), "--force").code()).isZero();
        double err = TfjsOracle.relError(KerasRoundTripTest.run(onnx, x), want);
        System.out.println("grouped Conv2D: graft's ONNX of its own .h5 vs numpy on the source, rel err " + err);
        assertThat(err).isLessThanOrEqualTo(1e-5);
    }
}
