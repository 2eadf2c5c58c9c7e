package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.ir.DataType;
import graft.ir.Tensor;
import graft.keras.TfjsOracle;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Errors;
import graft.testing.Python;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The deployment edits of issue #17 on the graph's inputs and outputs: {@code expose},
 * {@code rename-input}, {@code rename-output}, {@code set-batch}. Oracles: the same model with the
 * outputs added by the onnx package alone (fixtures/surgery/onnx_io_oracle.py) run in ONNX
 * Runtime, and TensorFlow.js on the Keras model whose config lists the exposed layer as an output.
 */
class IoEditsTest {
    static final Path SMALL_VGG = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
    static final Path ORACLE = TestPaths.fixtures().resolve("surgery/onnx_io_oracle.py");
    static final String RELU = "/features/features.6/Relu";
    static final String POOL = "/features/features.9/MaxPool";

    static Map<String, Tensor> run(Path model, String input, Tensor x) {
        try (OrtRunner r = OrtRunner.open(model, Device.CPU)) {
            return r.run(Map.of(input, x));
        }
    }

    static void same(Tensor got, Tensor want) {
        assertThat(got.shape()).isEqualTo(want.shape());
        assertThat(got.toFloats()).containsExactly(want.toFloats());
    }

    @Test
    void exposedLayersEqualTheSameValuesExposedByOnnxItself() {
        Path dir = TestPaths.scratch("io-expose");
        Path ours = dir.resolve("exposed.onnx");
        Cli.Result c = Cli.run("surgery", SMALL_VGG.toString(), "-o", ours.toString(), "--edit", "expose " + RELU + " 9");
        assertThat(c.code()).as(c.err()).isZero();
        Path theirs = dir.resolve("onnx_exposed.onnx");
        Python.run(ORACLE, "expose", SMALL_VGG.toString(), theirs.toString(), RELU + "_output_0", POOL + "_output_0");
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {3, 3, 32, 32}, 5);
        Map<String, Tensor> got = run(ours, "input", x);
        Map<String, Tensor> want = run(theirs, "input", x);
        assertThat(got.keySet()).containsExactly("probs", RELU + "_output_0", POOL + "_output_0");
        for (String k : want.keySet()) {
            same(got.get(k), want.get(k));
        }
        Path caffe = dir.resolve("exposed.prototxt");
        Cli.Result toCaffe = Cli.run("surgery", SMALL_VGG.toString(), "-o", caffe.toString(), "--edit", "expose " + RELU);
        assertThat(toCaffe.code()).as(toCaffe.err()).isEqualTo(3);
        assertThat(toCaffe.err()).contains("output '" + RELU + "_output_0' is also read by layer");
        assertThat(caffe).doesNotExist();
        assertThat(dir.resolve("exposed.caffemodel")).doesNotExist();
        Cli.Result again = Cli.run("surgery", ours.toString(), "-o", dir.resolve("twice.onnx").toString(), "--edit", "expose " + RELU);
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("already an output");
        assertThat(dir.resolve("twice.onnx")).doesNotExist();
    }

    /** An exposed value that other nodes keep reading is renamed for all of them (onnx's #5809-style disconnection must not happen). */
    @Test
    void renamedInputAndOutputsStayConnected() {
        Path dir = TestPaths.scratch("io-rename");
        Path out = dir.resolve("renamed.onnx");
        String relu = RELU + "_output_0";
        Cli.Result c = Cli.run("surgery", SMALL_VGG.toString(), "-o", out.toString(), "--edit", "expose " + RELU,
                "--edit", "rename-input input image", "--edit", "rename-output probs scores", "--edit", "rename-output " + relu + " relu6");
        assertThat(c.code()).as(c.err()).isZero();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 3, 32, 32}, 9);
        Map<String, Tensor> got = run(out, "image", x);
        Path theirs = dir.resolve("onnx_exposed.onnx");
        Python.run(ORACLE, "expose", SMALL_VGG.toString(), theirs.toString(), relu);
        Map<String, Tensor> want = run(theirs, "input", x);
        assertThat(got.keySet()).containsExactly("scores", "relu6");
        same(got.get("scores"), want.get("probs"));
        same(got.get("relu6"), want.get(relu));
        String check = Python.run(TestPaths.fixtures().resolve("onnx/check_onnx.py"), list(dir, out));
        assertThat(check).startsWith("OK");

        Cli.Result clash = Cli.run("surgery", SMALL_VGG.toString(), "-o", dir.resolve("clash.onnx").toString(), "--edit",
                "rename-output probs " + relu);
        assertThat(clash.code()).isEqualTo(2);
        assertThat(clash.err()).contains("already a value");
        Cli.Result none = Cli.run("surgery", SMALL_VGG.toString(), "-o", dir.resolve("none.onnx").toString(), "--edit", "rename-input data x");
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).contains("'data' is not an input").contains("input");
        assertThat(dir.resolve("clash.onnx")).doesNotExist();
        assertThat(dir.resolve("none.onnx")).doesNotExist();
    }

    static String list(Path dir, Path... models) {
        try {
            Path l = dir.resolve("list.txt");
            Files.writeString(l, String.join("\n", java.util.Arrays.stream(models).map(Path::toString).toList()) + "\n");
            return l.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void setBatchFixesOrFreesTheBatchAndRefusesAModelThatHardCodesIt() {
        Path dir = TestPaths.scratch("io-batch");
        Path seven = dir.resolve("b7.onnx");
        Cli.Result c = Cli.run("surgery", SMALL_VGG.toString(), "-o", seven.toString(), "--edit", "set-batch 7");
        assertThat(c.code()).as(c.err()).isZero();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {7, 3, 32, 32}, 3);
        try (OrtRunner r = OrtRunner.open(seven, Device.CPU)) {
            assertThat(r.inputs().get("input").shape()).containsExactly(7, 3, 32, 32);
            assertThat(r.outputs().get("probs").shape()).containsExactly(7, 10);
            same(r.run(Map.of("input", x)).get("probs"), run(SMALL_VGG, "input", x).get("probs"));
        }
        Path dynamic = dir.resolve("dynamic.onnx");
        assertThat(Cli.run("surgery", seven.toString(), "-o", dynamic.toString(), "--edit", "set-batch dynamic").code()).isZero();
        try (OrtRunner r = OrtRunner.open(dynamic, Device.CPU)) {
            assertThat(r.inputs().get("input").shape()[0]).isEqualTo(-1);
            Tensor one = Tensor.random(DataType.FLOAT, new long[] {1, 3, 32, 32}, 4);
            same(r.run(Map.of("input", one)).get("probs"), run(SMALL_VGG, "input", one).get("probs"));
        }

        Path fixed = dir.resolve("fixed_batch.onnx");
        Python.run(ORACLE, "fixed-batch", fixed.toString());
        for (String size : List.of("dynamic", "7")) {
            Path out = dir.resolve("refused-" + size + ".onnx");
            Cli.Result r = Cli.run("surgery", fixed.toString(), "-o", out.toString(), "--edit", "set-batch " + size);
            assertThat(r.code()).as(r.out() + r.err()).isEqualTo(2);
            assertThat(r.err()).contains("flatten_b1").contains("Reshape");
            assertThat(r.err().strip().lines().count()).isEqualTo(1);
            assertThat(out).doesNotExist();
        }
        Path one = dir.resolve("one.onnx");
        assertThat(Cli.run("surgery", fixed.toString(), "-o", one.toString(), "--edit", "set-batch 1").code()).isZero();
    }

    /** Keras: the exposed block is NHWC, as Keras's own model with that layer as an output gives it. */
    @Test
    void exposedKerasLayerEqualsTensorFlowJsOutputOfThatLayer() throws Exception {
        TfjsOracle.assumeInstalled();
        Path dir = TestPaths.scratch("io-expose-keras");
        Path h5 = dir.resolve("vgg16_mini.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_vgg16_keras.py"), h5.toString(), "--width-div", "16", "--fc", "32");
        Path out = dir.resolve("exposed.onnx");
        Cli.Result c = Cli.run("surgery", h5.toString(), "-o", out.toString(), "--edit", "expose block2_pool block4_conv3");
        assertThat(c.code()).as(c.err()).isZero();

        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg;
        try (HdfFile f = new HdfFile(h5)) {
            cfg = (ObjectNode) json.readTree((String) f.getAttribute("model_config").getData());
        }
        ArrayNode outs = (ArrayNode) cfg.get("config").get("output_layers");
        for (String l : List.of("block2_pool", "block4_conv3")) {
            outs.add(json.createArrayNode().add(l).add(0).add(0));
        }
        Path config = dir.resolve("config.json");
        json.writeValue(config.toFile(), cfg);
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 224, 224, 3}, 11);
        List<String> errors = new ArrayList<>();
        List<Tensor> want = TfjsOracle.predict(List.of(new TfjsOracle.Job(h5, config, List.of(x))), dir.resolve("tfjs"), errors).get(0);
        assertThat(errors.get(0)).isNull();
        try (OrtRunner r = OrtRunner.open(out, Device.CPU)) {
            String input = r.inputs().keySet().iterator().next();
            List<Tensor> got = new ArrayList<>(r.run(Map.of(input, x)).values());
            assertThat(got).hasSize(3);
            for (int i = 0; i < 3; i++) {
                assertThat(got.get(i).shape()).isEqualTo(want.get(i).shape());
                assertThat(Errors.relativeToMagnitude(got.get(i), want.get(i))).as("output " + i).isLessThan(1e-5);
            }
        }
    }
}
