package graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import graft.io.Npy;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.onnx.proto.Onnx.AttributeProto;
import graft.onnx.proto.Onnx.GraphProto;
import graft.onnx.proto.Onnx.ModelProto;
import graft.onnx.proto.Onnx.NodeProto;
import graft.onnx.proto.Onnx.TensorProto;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ONNX -> graft IR -> ONNX on real files: outputs checked against PyTorch (the exporter that
 * wrote the file) or the expected outputs the ONNX project ships, weights byte for byte,
 * unknown fields and ops untouched, bytes deterministic, external data in and out.
 */
class OnnxRoundTripTest {
    static final Path SMALL = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");

    static Map<String, Tensor> run(Path model, Map<String, Tensor> feeds) {
        try (OrtRunner r = OrtRunner.open(model, Device.CPU)) {
            return r.run(feeds);
        }
    }

    static Tensor npy(Path p) {
        Npy.Array a = Npy.read(p);
        return new Tensor(a.dtype(), a.shape(), a.data());
    }

    /** max |a-b| / max(|b|) over the tensor: error relative to the output's magnitude. */
    static double relError(Tensor a, Tensor b) {
        return graft.testing.Errors.relativeToMagnitude(a, b);
    }

    @Test
    void smallVggMatchesPyTorchAtEveryOpset() {
        Path dir = TestPaths.scratch("opsets");
        Tensor x = npy(TestPaths.fixtures().resolve("onnx/small_vgg_input.npy"));
        Tensor torch = npy(TestPaths.fixtures().resolve("onnx/small_vgg_torch_output.npy"));
        Graph g = OnnxImporter.read(SMALL);
        for (int opset : new int[]{7, 9, 11, 13, 17, 21}) {
            Path out = dir.resolve("small_vgg_" + opset + ".onnx");
            OnnxExporter.write(g, out, new OnnxExporter.Settings(opset, OnnxExporter.ExternalData.NEVER, true, List.of(SMALL)));
            Tensor y = run(out, Map.of("input", x)).get("probs");
            assertThat(relError(y, torch)).as("opset " + opset).isLessThan(1e-5);
        }
    }

    @Test
    void writtenModelsPassTheOnnxChecker() throws IOException {
        if (!Python.has("onnx")) {
            return;
        }
        Path dir = TestPaths.scratch("checker");
        Graph g = OnnxImporter.read(SMALL);
        StringBuilder files = new StringBuilder();
        for (int opset : new int[]{7, 11, 13, 17}) {
            Path out = dir.resolve("m" + opset + ".onnx");
            OnnxExporter.write(g, out, new OnnxExporter.Settings(opset, OnnxExporter.ExternalData.NEVER, true, List.of()));
            files.append(out).append(' ');
        }
        Path script = dir.resolve("check.py");
        Files.writeString(script, "import sys, onnx\nfor f in sys.argv[1:]:\n    m = onnx.load(f)\n    onnx.checker.check_model(m, full_check=True)\n"
                + "    print(f, 'ok', m.opset_import[0].version)\n");
        String out = Python.run(script, files.toString().trim().split(" "));
        assertThat(out.lines().filter(l -> l.contains(" ok ")).count()).isEqualTo(4);
    }

    @Test
    void corpusModelsRoundTripAndMatchTheirExpectedOutputs() throws IOException {
        Path dir = TestPaths.scratch("corpus-onnx");
        for (String name : List.of("light_vgg19", "light_squeezenet", "light_resnet50", "light_inception_v1")) {
            Path in = TestPaths.corpus().resolve("onnx/light/" + name + ".onnx");
            TestPaths.assumeExists(in, "the shared corpus");
            Graph g = OnnxImporter.read(in);
            Path out = dir.resolve(name + ".onnx");
            OnnxExporter.write(g, out, OnnxExporter.Settings.defaults());
            Tensor expected = OnnxTestData.read(TestPaths.corpus().resolve("onnx/light/" + name + "_output_0.pb"));
            Map<String, Tensor> feeds = new HashMap<>();
            graft.ir.Value input = g.inputs().get(0);
            feeds.put(input.name(), Tensor.random(graft.ir.DataType.FLOAT, g.type(input.name()).shape().toArray(), 1));
            Tensor y = run(out, feeds).values().iterator().next();
            assertThat(OnnxTestData.excess(y, expected, 1e-6, 1e-5)).as(name).isZero();
        }
        // A PyTorch 1.12.1 export with two outputs: graft's copy computes what the original computes.
        Path mnist = TestPaths.corpus().resolve("onnx/output_cnn_mnist.onnx");
        Path out = dir.resolve("mnist.onnx");
        OnnxExporter.write(OnnxImporter.read(mnist), out, OnnxExporter.Settings.defaults());
        Map<String, Tensor> feeds = Map.of("input.1", Tensor.random(graft.ir.DataType.FLOAT, new long[]{10, 1, 28, 28}, 4));
        Map<String, Tensor> a = run(mnist, feeds);
        Map<String, Tensor> b = run(out, feeds);
        assertThat(b.keySet()).isEqualTo(a.keySet());
        for (String k : a.keySet()) {
            assertThat(relError(b.get(k), a.get(k))).as(k).isLessThan(1e-6);
        }
        assertWeightsByteIdentical(mnist, out);
    }

    static void assertWeightsByteIdentical(Path a, Path b) throws IOException {
        Map<String, ByteString> wa = new HashMap<>();
        for (TensorProto t : ModelProto.parseFrom(Files.readAllBytes(a)).getGraph().getInitializerList()) {
            wa.put(t.getName(), t.getRawData());
        }
        List<TensorProto> tb = ModelProto.parseFrom(Files.readAllBytes(b)).getGraph().getInitializerList();
        assertThat(tb).hasSize(wa.size());
        for (TensorProto t : tb) {
            assertThat(t.getRawData().equals(wa.get(t.getName()))).as(t.getName()).isTrue();
        }
    }

    @Test
    void unknownFieldsAndUnknownOpsSurviveUntouched() throws IOException {
        Path dir = TestPaths.scratch("unknown");
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(SMALL));
        UnknownFieldSet modelUnknown = UnknownFieldSet.newBuilder()
                .addField(99, UnknownFieldSet.Field.newBuilder().addVarint(42).build())
                .addField(25, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8("a function")).build()).build();
        UnknownFieldSet nodeUnknown = UnknownFieldSet.newBuilder()
                .addField(77, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8("node extra")).build()).build();
        GraphProto.Builder gb = m.getGraph().toBuilder();
        gb.setNode(0, gb.getNode(0).toBuilder().setUnknownFields(nodeUnknown));
        gb.setInitializer(0, gb.getInitializer(0).toBuilder().setDocString("kept").setUnknownFields(nodeUnknown));
        String lastOut = gb.getOutput(0).getName();
        NodeProto custom = NodeProto.newBuilder().setOpType("Frobnicate").setDomain("com.example").setName("frob")
                .addInput(lastOut).addOutput("frobbed")
                .addAttribute(AttributeProto.newBuilder().setName("body").setType(AttributeProto.AttributeType.GRAPH)
                        .setG(GraphProto.newBuilder().setName("inner")))
                .addAttribute(AttributeProto.newBuilder().setName("level").setType(AttributeProto.AttributeType.INT).setI(3))
                .setUnknownFields(nodeUnknown).build();
        gb.addNode(custom);
        gb.addOutput(gb.getOutput(0).toBuilder().setName("frobbed"));
        gb.setUnknownFields(nodeUnknown);
        ModelProto withExtras = m.toBuilder().setGraph(gb).addOpsetImport(
                graft.onnx.proto.Onnx.OperatorSetIdProto.newBuilder().setDomain("com.example").setVersion(1))
                .setUnknownFields(modelUnknown).build();
        Path in = dir.resolve("extras.onnx");
        Files.write(in, withExtras.toByteArray());
        Path out = dir.resolve("extras_out.onnx");
        OnnxExporter.write(OnnxImporter.read(in), out, new OnnxExporter.Settings(13, OnnxExporter.ExternalData.NEVER, false, List.of(in)));
        ModelProto back = ModelProto.parseFrom(Files.readAllBytes(out));
        assertThat(back.getUnknownFields()).isEqualTo(modelUnknown);
        assertThat(back.getGraph().getUnknownFields()).isEqualTo(nodeUnknown);
        assertThat(back.getGraph().getNode(0).getUnknownFields()).isEqualTo(nodeUnknown);
        assertThat(back.getGraph().getInitializerList().stream().filter(t -> t.getDocString().equals("kept")).findFirst().orElseThrow()
                .getUnknownFields()).isEqualTo(nodeUnknown);
        NodeProto frob = back.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Frobnicate")).findFirst().orElseThrow();
        assertThat(frob).isEqualTo(custom);
        assertThat(back.getOpsetImportList()).anyMatch(o -> o.getDomain().equals("com.example"));
    }

    @Test
    void sameInputSameBytes() throws IOException {
        Path dir = TestPaths.scratch("determinism");
        Path a = dir.resolve("a.onnx");
        Path b = dir.resolve("b.onnx");
        assertThat(graft.testing.Cli.run("convert", SMALL.toString(), a.toString()).code()).isZero();
        assertThat(graft.testing.Cli.run("convert", SMALL.toString(), b.toString()).code()).isZero();
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(a));
        Map<String, String> meta = new HashMap<>();
        m.getMetadataPropsList().forEach(e -> meta.put(e.getKey(), e.getValue()));
        assertThat(meta).containsEntry("graft.source", "small_vgg.onnx").containsKey("graft.source_sha256").containsKey("graft.version");
        assertThat(meta.get("graft.source_sha256")).hasSize(64);
    }

    @Test
    void externalDataOutAndBackIn() throws IOException {
        Path dir = TestPaths.scratch("external");
        Path out = dir.resolve("ext.onnx");
        OnnxExporter.write(OnnxImporter.read(SMALL), out, new OnnxExporter.Settings(17, OnnxExporter.ExternalData.ALWAYS, false, List.of()));
        assertThat(dir.resolve("ext.onnx.data")).exists();
        assertThat(Files.size(out)).isLessThan(20_000);
        Tensor x = npy(TestPaths.fixtures().resolve("onnx/small_vgg_input.npy"));
        Tensor torch = npy(TestPaths.fixtures().resolve("onnx/small_vgg_torch_output.npy"));
        assertThat(relError(run(out, Map.of("input", x)).get("probs"), torch)).isLessThan(1e-5);
        Path back = dir.resolve("inline.onnx");
        OnnxExporter.write(OnnxImporter.read(out), back, new OnnxExporter.Settings(13, OnnxExporter.ExternalData.NEVER, false, List.of()));
        assertWeightsByteIdentical(SMALL, back);
    }

    @Test
    void weightsAreViewsOverTheMappedFileNotCopies() {
        Graph g = OnnxImporter.read(SMALL);
        assertThat(g.initializers().values()).allMatch(OnnxImporter::isMapped);
    }
}
