package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.caffe.CaffeFormat;
import graft.io.Options;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.onnx.OnnxFormat;
import graft.onnx.proto.Onnx;
import graft.testing.Cli;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue #14.4: Dropout keeps its rate through every writer and through the Keras importer
 * (which read Dropout/SpatialDropout2D as Identity, so Keras -> Keras dropped the layer). The
 * written files are read with the formats' own schemas (HDF5 model_config JSON, ONNX
 * protobuf, Caffe prototxt text), not with graft's importers.
 */
class KerasDropoutKeptTest {
    static final Path SPATIAL = TestPaths.corpus().resolve("keras/tfkeras/cnn2d_67.h5");

    static List<String> kerasRates(Path h5, String cls) throws Exception {
        List<String> rates = new ArrayList<>();
        try (HdfFile f = new HdfFile(h5)) {
            JsonNode cfg = new ObjectMapper().readTree((String) f.getAttribute("model_config").getData());
            for (JsonNode l : cfg.path("config").path("layers")) {
                if (l.path("class_name").asText().equals(cls)) {
                    rates.add(l.path("config").path("rate").asText());
                }
            }
        }
        return rates;
    }

    static List<Float> onnxRatios(Path onnx) throws Exception {
        Onnx.ModelProto m = Onnx.ModelProto.parseFrom(Files.readAllBytes(onnx));
        List<Float> r = new ArrayList<>();
        for (Onnx.NodeProto n : m.getGraph().getNodeList()) {
            if (n.getOpType().equals("Dropout")) {
                for (Onnx.AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("ratio")) {
                        r.add(a.getF());
                    }
                }
                if (n.getInputCount() > 1) {
                    for (Onnx.TensorProto t : m.getGraph().getInitializerList()) {
                        if (t.getName().equals(n.getInput(1))) {
                            r.add(t.getFloatDataCount() > 0 ? t.getFloatData(0)
                                    : t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat());
                        }
                    }
                }
            }
        }
        return r;
    }

    @Test
    void kerasSpatialDropoutKeepsItsRateToOnnx() throws Exception {
        TestPaths.assumeExists(SPATIAL, "Keras corpus");
        int source = kerasRates(SPATIAL, "SpatialDropout2D").size();
        assertThat(source).isPositive();
        Path onnx = TestPaths.scratch("keras-spatial-dropout-kept").resolve("x.onnx");
        Cli.Result r = Cli.run("convert", SPATIAL.toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(onnxRatios(onnx)).hasSize(source).containsOnly(0.2f);
        // inference unchanged: the converted model computes what the source computes
        Cli.Result v = Cli.run("validate", SPATIAL.toString(), onnx.toString());
        assertThat(v.code()).as(v.out() + v.err()).isZero();
    }

    /** A Keras Dropout (written by graft after attach-head) read back and written again: Keras -> Keras and Keras -> ONNX -> Keras. */
    @Test
    void kerasDropoutKeepsItsRateKerasToKerasAndThroughOnnx() throws Exception {
        Path cnn = TestPaths.corpus().resolve("keras/fullconfigs/cnn/cnn_batch_norm.h5");
        TestPaths.assumeExists(cnn, "Keras corpus");
        Path dir = TestPaths.scratch("keras-dropout-kept");
        Path x = dir.resolve("x.h5");
        Cli.Result s = Cli.run("surgery", cnn.toString(), "--edit", "pop 1", "--edit", "attach-head dense 16 relu, dropout 0.3, dense 4 softmax",
                "-o", x.toString(), "--force");
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(kerasRates(x, "Dropout")).containsExactly("0.3");
        Path again = dir.resolve("again.h5");
        Path onnx = dir.resolve("x.onnx");
        Path back = dir.resolve("back.h5");
        for (String[] c : new String[][] {{x.toString(), again.toString()}, {x.toString(), onnx.toString()}, {onnx.toString(), back.toString()}}) {
            Cli.Result r = Cli.run("convert", c[0], c[1], "--force");
            assertThat(r.code()).as(r.err()).isZero();
        }
        assertThat(kerasRates(again, "Dropout")).as("Keras -> Keras").containsExactly("0.3");
        assertThat(onnxRatios(onnx)).as("Keras -> ONNX").containsExactly(0.3f);
        assertThat(kerasRates(back, "Dropout")).as("Keras -> ONNX -> Keras").containsExactly("0.3");
        Cli.Result v = Cli.run("validate", x.toString(), onnx.toString());
        assertThat(v.code()).as(v.out() + v.err()).isZero();
    }

    /** x (1, 4, 8, 8) -> Dropout(ratio 0.3) -> Relu, built with the IR API. */
    static Graph withDropout() {
        Graph g = new Graph("dropout");
        g.opsets().put("", 17L);
        g.inputs().add(new Value("x", new TensorType(DataType.FLOAT, Shape.of(Dim.of(1), Dim.of(4), Dim.of(8), Dim.of(8)))));
        g.addInitializer(Weight.ofFloats("drop_ratio", new long[0], new float[] {0.3f}));
        g.nodes().add(Node.of(Op.DROPOUT, "drop", "drop", List.of("x", "drop_ratio"), List.of("d"), Map.of()));
        g.nodes().add(Node.of(Op.RELU, "relu", "relu", List.of("d"), List.of("y"), Map.of()));
        g.outputs().add(new Value("y", null));
        return g;
    }

    @Test
    void caffeWriterWritesDropoutWithItsRatio() throws Exception {
        Path dir = TestPaths.scratch("caffe-dropout-kept");
        Path proto = dir.resolve("m.prototxt");
        new CaffeFormat().write(withDropout(), proto, Options.none());
        String text = Files.readString(proto);
        assertThat(text).contains("type: \"Dropout\"").containsPattern("dropout_ratio: 0\\.3\\b");
    }

    @Test
    void onnxWriterWritesDropoutWithItsRatioAtEveryOpset() throws Exception {
        Path dir = TestPaths.scratch("onnx-dropout-kept");
        for (String opset : List.of("7", "11", "12", "17")) {
            Path out = dir.resolve("m" + opset + ".onnx");
            new OnnxFormat().write(withDropout(), out, Options.none().set("opset", opset));
            assertThat(onnxRatios(out)).as("opset " + opset).containsExactly(0.3f);
        }
    }
}
