package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.LayerTable;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LocallyConnected2D in both data formats (fixtures/keras/make_locally_connected.py: a strided,
 * rectangular-kernel layer with a non-zero bias and relu, then a bias-free one) converts to
 * ONNX and matches a numpy evaluation of Keras's local_conv and bias_add
 * (fixtures/keras/locally_connected_oracle.py; TensorFlow.js has no such layer) within 1e-5
 * relative. The corpus's own LocallyConnected2D files have zero biases, so they cannot show
 * the channels_first bias, which Keras reshapes (not transposes) to (filters, oh, ow).
 */
class KerasLocallyConnectedTest {
    static final double TOLERANCE = 1e-5;
    /** The fixture files (implementation 1), made once for the class; each test writes its own names beside them. */
    static Path dir;

    @BeforeAll
    static void fixtures() {
        dir = TestPaths.scratch("keras-locally-connected");
        Python.run(TestPaths.fixtures().resolve("keras/make_locally_connected.py"), dir.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"channels_first", "channels_last"})
    void convertsAndMatchesNumpyKeras(String format) {
        Path h5 = dir.resolve("lc_" + format + ".h5");
        Path onnx = dir.resolve(format + ".onnx");
        Cli.Result r = Cli.run("convert", h5.toString(), onnx.toString(), "--force");
        assertThat(r.code()).as(r.err()).isZero();
        long[] shape = format.equals("channels_first") ? new long[] {3, 3, 9, 8} : new long[] {3, 9, 8, 3};
        Tensor x = Tensor.random(DataType.FLOAT, shape, 11);
        Tensor want = oracle(h5, x, format);
        try (OrtRunner ort = OrtRunner.open(onnx, Device.CPU)) {
            Tensor got = ort.run(Map.of(ort.inputs().keySet().iterator().next(), x)).values().iterator().next();
            assertThat(got.shape()).containsExactly(want.shape());
            assertThat(TfjsOracle.relError(got, want)).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    /**
     * Keras -> Keras: graft's writer rebuilds the layer in the source's own data_format with the
     * source's input (#15: it used to write channels_last with an NHWC input and a permuted
     * kernel), and the Keras file it wrote, evaluated by the numpy oracle under Keras's rules,
     * gives the original's outputs for the same input; the written file converted back to ONNX
     * matches too.
     */
    @ParameterizedTest
    @ValueSource(strings = {"channels_first", "channels_last"})
    void writtenBackToKerasAsLocallyConnected2D(String format) throws Exception {
        Path h5 = dir.resolve("lc_" + format + ".h5");
        Path back = dir.resolve(format + ".back.h5");
        Cli.Result r = Cli.run("convert", h5.toString(), back.toString(), "--force");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(KerasCorpusTest.usesLocallyConnected(back)).isTrue();
        try (io.jhdf.HdfFile f = new io.jhdf.HdfFile(back)) {
            assertThat((String) f.getAttribute("model_config").getData()).contains("\"data_format\":\"" + format + "\"");
        }
        assertThat(KerasH5RoundTripTest.structure(new KerasCorpusTest.Case(h5, null, format), back)).isEmpty();
        boolean first = format.equals("channels_first");
        Tensor x = Tensor.random(DataType.FLOAT, first ? new long[] {2, 3, 9, 8} : new long[] {2, 9, 8, 3}, 17);
        Tensor want = oracle(h5, x, format + ".orig");
        Tensor got = oracle(back, x, format + ".back");
        assertThat(TfjsOracle.relError(got, want)).isLessThanOrEqualTo(1e-6);
        Path onnx = dir.resolve(format + ".back.onnx");
        assertThat(Cli.run("convert", back.toString(), onnx.toString(), "--force").code()).isZero();
        try (OrtRunner ort = OrtRunner.open(onnx, Device.CPU)) {
            Tensor y = ort.run(Map.of(ort.inputs().keySet().iterator().next(), x)).values().iterator().next();
            assertThat(TfjsOracle.relError(y, got)).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    private static Tensor oracle(Path model, Tensor x, String tag) {
        return KerasCorpusTest.numpyOracle("locally_connected_oracle.py", model, x, dir, tag);
    }

    @Test
    void parametersAreKerasCountsAndTheWindowSelectorIsNone() {
        var g = new KerasFormat().read(dir.resolve("lc_channels_last.h5"), graft.io.Options.none());
        // Keras: lc1 kernel 4*7 positions x 3*2*3 features x 5 filters + bias 4*7*5; lc2 kernel 3*6 x 2*2*5 x 2, no bias
        Map<String, Long> params = new java.util.HashMap<>();
        LayerTable.of(g).forEach(row -> params.put(row.layer(), row.params()));
        assertThat(params).containsEntry("lc1", 28L * 18 * 5 + 28 * 5).containsEntry("lc2", 18L * 20 * 2);
    }

    /**
     * Fine-tuning trains the layer: its kernel (a MatMul operand) and bias (an Add on the
     * product) are parameters of the training step (the batched MatMul gradient is checked
     * against finite differences in AutodiffGradientTest), both change, and the loss falls on a
     * task the classifier can learn (which half of the image holds a bright patch).
     */
    @Test
    void fineTuningTrainsTheLocallyConnectedKernelAndBias() throws Exception {
        Path model = dir.resolve("lc_classifier.h5");
        Path out = dir.resolve("run");
        Cli.Result r = Cli.run("finetune", model.toString(), dir.resolve("lc_data.npy").toString(), "--labels",
                dir.resolve("lc_labels.npy").toString(), "-o", out.toString(), "--epochs", "6", "--batch-size", "16",
                "--optimizer", "adam", "--lr", "0.01", "--val-fraction", "0.25", "--force");
        assertThat(r.code()).as(r.err()).isZero();
        var before = new KerasFormat().read(model, graft.io.Options.none());
        var after = new graft.onnx.OnnxFormat().read(out.resolve("model.onnx"), graft.io.Options.none());
        for (String w : new String[] {"local/kernel", "local/bias", "head/kernel"}) {
            float[] a = before.initializer(w).toFloats();
            float[] b = after.initializer(w).toFloats();
            double moved = 0;
            for (int i = 0; i < a.length; i++) {
                moved = Math.max(moved, Math.abs(a[i] - b[i]));
            }
            assertThat(moved).as(w + " moved").isGreaterThan(1e-3);
        }
        java.util.List<String> csv = java.nio.file.Files.readAllLines(out.resolve("history.csv"));
        double first = Double.parseDouble(csv.get(1).split(",")[1]);
        double last = Double.parseDouble(csv.get(csv.size() - 1).split(",")[1]);
        assertThat(last).isLessThan(first * 0.6);
    }

    @Test
    void otherImplementationsAreRefusedByName() {
        Path impl2 = TestPaths.scratch("keras-locally-connected-impl");
        Python.run(TestPaths.fixtures().resolve("keras/make_locally_connected.py"), impl2.toString(), "2");
        Path h5 = impl2.resolve("lc_channels_last.h5");
        Cli.Result r = Cli.run("convert", h5.toString(), impl2.resolve("out.onnx").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err().strip()).doesNotContain("\n").contains("lc1").contains("implementation 2");
        assertThat(impl2.resolve("out.onnx")).doesNotExist();
    }
}
