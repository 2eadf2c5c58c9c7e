package graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.ir.Weight;
import graft.surgery.Simplify;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@code simplify} (constant and static-shape folding) against ONNX Runtime running the original
 * model: the simplified model written by graft gives the original's outputs within 1e-6 relative
 * to the output's magnitude, at the batch sizes it was exported for and others; every folded
 * value equals what ONNX Runtime computes for the original subgraph, bit for bit; node counts are
 * those onnx-simplifier leaves (Constant/Shape/Gather/Unsqueeze/Concat/Mul on static paths gone,
 * nothing else touched).
 */
class SimplifyTest {
    static final Path SHAPE_FLATTEN = TestPaths.fixtures().resolve("onnx/shape_flatten.onnx");
    static final Path MNIST = TestPaths.corpus().resolve("onnx/output_cnn_mnist.onnx");
    static final Path LIGHT = TestPaths.corpus().resolve("onnx/light");

    /** One scratch folder per run of this class (scratch() empties a folder when asked for it). */
    static final Path DIR = TestPaths.scratch("simplify");

    static Path write(Graph g, String name, int opset) {
        Path f = DIR.resolve(name);
        OnnxExporter.write(g, f, new OnnxExporter.Settings(opset, OnnxExporter.ExternalData.NEVER, true, List.of()));
        return f;
    }

    static Map<String, Integer> ops(Graph g) {
        Map<String, Integer> m = new TreeMap<>();
        for (Node n : g.nodes()) {
            m.merge(n.opType(), 1, Integer::sum);
        }
        return m;
    }

    static Tensor single(Path model, String input, Tensor x) {
        return OnnxRoundTripTest.run(model, Map.of(input, x)).values().iterator().next();
    }

    /** The same input through the original file and the written one in ONNX Runtime; returns the error relative to magnitude. */
    static double compare(Path original, Path written, String input, Tensor x) {
        double e = OnnxRoundTripTest.relError(single(written, input, x), single(original, input, x));
        System.out.printf("simplify: %s vs %s at %s: %.1e%n", written.getFileName(), original.getFileName(), Arrays.toString(x.shape()), e);
        return e;
    }

    static long[] reshapeTarget(Graph g, Node n) {
        return g.initializer(n.input(1)).toLongs();
    }

    @Test
    void shapeComputedFlattensFoldToSevenNodesAndKeepTheBatchSymbolic() {
        Graph g = OnnxImporter.read(SHAPE_FLATTEN);
        assertThat(g.nodes()).hasSize(29);
        Simplify.Report r = Simplify.simplify(g, true);
        assertThat(ops(g)).isEqualTo(Map.of("Add", 1, "Conv", 1, "Gemm", 2, "Relu", 1, "Reshape", 2));
        List<long[]> targets = new ArrayList<>();
        g.nodes().stream().filter(n -> n.opType().equals("Reshape")).forEach(n -> targets.add(reshapeTarget(g, n)));
        assertThat(targets).containsExactly(new long[]{0, -1}, new long[]{-1, 256});
        assertThat(g.inputs().get(0).type().shape().dim(0).isFixed()).isFalse();
        assertThat(r.lines()).contains("Shape nodes removed: 4", "Gather nodes removed: 4", "Concat nodes removed: 2",
                "Unsqueeze nodes removed: 2", "Mul nodes removed: 2", "Constant nodes removed: 8");
        Path f = write(g, "shape_flatten_13.onnx", 13);
        Tensor x3 = OnnxRoundTripTest.npy(TestPaths.fixtures().resolve("onnx/shape_flatten_input.npy"));
        Tensor torch = OnnxRoundTripTest.npy(TestPaths.fixtures().resolve("onnx/shape_flatten_torch_output.npy"));
        assertThat(OnnxRoundTripTest.relError(single(f, "input", x3), torch)).isLessThan(1e-5);
        for (int batch : new int[]{1, 3, 7}) {
            Tensor x = batch == 3 ? x3 : Tensor.random(DataType.FLOAT, new long[]{batch, 3, 8, 8}, batch);
            assertThat(compare(SHAPE_FLATTEN, f, "input", x)).as("batch " + batch).isLessThanOrEqualTo(1e-6);
        }
    }

    /** Each folded constant against ONNX Runtime running the original nodes that computed it (made graph outputs). */
    static void assertFoldedEqualOrt(Path source, List<String> values, Map<String, Tensor> feeds) {
        Graph original = OnnxImporter.read(source);
        for (String v : values) {
            original.outputs().add(new Value(v, null));
        }
        graft.ir.ShapeInference.run(original);
        List<Value> typed = new ArrayList<>();
        for (Value v : original.outputs()) {
            typed.add(new Value(v.name(), original.type(v.name())));
        }
        original.outputs().clear();
        original.outputs().addAll(typed);
        Path f = write(original, source.getFileName() + "_with_constants.onnx", 13);
        Map<String, Tensor> ort = OnnxRoundTripTest.run(f, feeds);
        Graph g = OnnxImporter.read(source);
        Simplify.simplify(g, true);
        for (String v : values) {
            Weight w = g.initializer(v);
            assertThat(w).as(v + " folded").isNotNull();
            Tensor t = ort.get(v);
            assertThat(w.shape()).as(v).isEqualTo(t.shape());
            assertThat(w.dtype()).as(v).isEqualTo(t.dtype());
            ByteBuffer a = w.buffer().order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            assertThat(a.equals(b)).as(v + " bytes").isTrue();
        }
    }

    @Test
    void foldedValuesEqualWhatOnnxRuntimeComputesForTheOriginalSubgraph() {
        Tensor x = OnnxRoundTripTest.npy(TestPaths.fixtures().resolve("onnx/shape_flatten_input.npy"));
        assertFoldedEqualOrt(SHAPE_FLATTEN, List.of("/Concat_1_output_0"), Map.of("input", x));
        Path sq = LIGHT.resolve("light_squeezenet.onnx");
        TestPaths.assumeExists(sq, "the light ONNX corpus");
        Graph g = OnnxImporter.read(sq);
        List<String> filled = new ArrayList<>();
        g.nodes().stream().filter(n -> n.opType().equals("ConstantOfShape")).forEach(n -> filled.add(n.output(0)));
        assertThat(filled).hasSize(39);
        Tensor img = Tensor.random(DataType.FLOAT, g.inputs().get(0).type().shape().toArray(), 1);
        assertFoldedEqualOrt(sq, filled, Map.of(g.inputs().get(0).name(), img));
    }

    @Test
    void mnistFoldsItsReshapeAndWritesOpset9MatchingTheOriginal() {
        Graph g = OnnxImporter.read(MNIST);
        Simplify.simplify(g, true);
        assertThat(ops(g)).isEqualTo(Map.of("Conv", 2, "Relu", 2, "MaxPool", 2, "Reshape", 1, "Gemm", 1, "LogSoftmax", 1));
        Node reshape = g.nodes().stream().filter(n -> n.opType().equals("Reshape")).findFirst().orElseThrow();
        // torch traced the batch of 10 into the shape; the simplified shape copies the input's own batch
        assertThat(reshapeTarget(g, reshape)).containsExactly(0, -1);
        Tensor x = Tensor.random(DataType.FLOAT, new long[]{10, 1, 28, 28}, 4);
        for (int opset : new int[]{9, 13}) {
            Path f = write(g, "mnist_" + opset + ".onnx", opset);
            assertThat(compare(MNIST, f, "input.1", x)).as("opset " + opset).isLessThanOrEqualTo(1e-6);
        }
        // the LogSoftmax over axis 0 (the batch) is written at opset 9 as Transpose, LogSoftmax, Transpose
        Path plain = write(OnnxImporter.read(MNIST), "mnist_plain_9.onnx", 9);
        assertThat(compare(MNIST, plain, "input.1", x)).isLessThanOrEqualTo(1e-6);
    }

    @Test
    void mnistToKerasIsRefusedOnlyForItsLogSoftmaxOverTheBatch() throws Exception {
        Path out = TestPaths.scratch("simplify-keras").resolve("mnist.h5");
        Files.deleteIfExists(out);
        Cli.Result r = Cli.run("convert", MNIST.toString(), out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("LogSoftmax_15").doesNotContain("Constant_").contains("1 node");
        assertThat(r.out()).contains("Constant nodes removed: 4");
    }

    @Test
    void lightCorpusFilesNoLongerStopAtConstantOfShape() throws Exception {
        TestPaths.assumeExists(LIGHT, "the light ONNX corpus");
        Path dir = TestPaths.scratch("simplify-light");
        for (String m : List.of("squeezenet", "inception_v1", "resnet50", "vgg19")) {
            Path src = LIGHT.resolve("light_" + m + ".onnx");
            Path caffe = dir.resolve(m + ".prototxt");
            Path h5 = dir.resolve(m + ".h5");
            Cli.Result c = Cli.run("convert", src.toString(), caffe.toString(), "--force", "--dry-run");
            assertThat(c.code()).as(c.err()).isZero();
            assertThat(c.out()).contains("ConstantOfShape nodes removed: ").contains("dry run: nothing written");
            for (Path out : m.equals("vgg19") ? List.of(caffe) : List.of(caffe, h5)) {
                Cli.Result r = Cli.run("convert", src.toString(), out.toString(), "--force");
                assertThat(r.err()).as(m).doesNotContain("ConstantOfShape").doesNotContain("is computed");
                Files.deleteIfExists(out);
                Files.deleteIfExists(dir.resolve(m + ".caffemodel"));
            }
        }
        Path sq = LIGHT.resolve("light_squeezenet.onnx");
        Path seven = dir.resolve("squeezenet_7.onnx");
        Cli.Result r = Cli.run("convert", sq.toString(), seven.toString(), "--opset", "7", "--simplify", "--force");
        assertThat(r.code()).as(r.err()).isZero();
        Graph g = OnnxImporter.read(sq);
        Tensor x = Tensor.random(DataType.FLOAT, g.inputs().get(0).type().shape().toArray(), 2);
        assertThat(compare(sq, seven, g.inputs().get(0).name(), x)).isLessThanOrEqualTo(1e-6);
    }

    static Path torchvision(String model) {
        TestPaths.assumeExists(Python.PYTHON, "Debian python3");
        Path dir = TestPaths.root().resolve("target/torchvision");
        Python.run(TestPaths.fixtures().resolve("onnx/make_torchvision.py"), dir.toString(), model + ":64");
        return dir.resolve(model + ".onnx");
    }

    /** onnx-simplifier's counts: ResNet-18 is already minimal (49); MobileNetV2 loses its 70 Clip bound Constants (100). */
    @Test
    void torchvisionResnet18AndMobilenetV2SimplifyToOnnxSimplifiersCountsAndMatchAtBatches1And7() {
        Map<String, Integer> expected = Map.of("resnet18", 49, "mobilenet_v2", 100);
        for (String m : List.of("resnet18", "mobilenet_v2")) {
            Path src = torchvision(m);
            Graph g = OnnxImporter.read(src);
            int before = g.nodes().size();
            Simplify.simplify(g, true);
            assertThat(g.nodes()).as(m + " from " + before).hasSize(expected.get(m));
            assertThat(ops(g).keySet()).as(m).doesNotContain("Constant", "Shape", "Gather", "Concat", "Unsqueeze", "Identity");
            if (m.equals("mobilenet_v2")) {
                long clipBounds = g.initializers().values().stream().filter(w -> w.shape().length == 0).count();
                assertThat(clipBounds).as("Clip bounds, deduplicated").isEqualTo(2);
            }
            assertThat(g.inputs().get(0).type().shape().dim(0).isFixed()).isFalse();
            Path f = write(g, m + "_simplified.onnx", 13);
            Tensor x2 = OnnxRoundTripTest.npy(src.resolveSibling(m + "_input.npy"));
            Tensor torch = OnnxRoundTripTest.npy(src.resolveSibling(m + "_torch_output.npy"));
            assertThat(OnnxRoundTripTest.relError(single(f, "input", x2), torch)).isLessThan(1e-5);
            for (int batch : new int[]{1, 2, 7}) {
                Tensor x = batch == 2 ? x2 : Tensor.random(DataType.FLOAT, new long[]{batch, 3, 64, 64}, batch);
                double err = compare(src, f, "input", x);
                System.out.printf("simplify %s: %d -> %d nodes, batch %d, error vs original in ORT %.1e%n", m, before, g.nodes().size(), batch, err);
                assertThat(err).as(m + " batch " + batch).isLessThanOrEqualTo(1e-6);
            }
        }
    }

    /** x -> Identity -> Transpose(NHWC) -> Transpose(NCHW) -> Dropout -> Reshape [0,-1] -> Reshape [-1,48] -> Relu. */
    @Test
    void identityDropoutAndTransposeAndReshapePairsGo() {
        Graph g = new Graph("pairs");
        g.inputs().add(new Value("x", new graft.ir.TensorType(DataType.FLOAT,
                graft.ir.Shape.of(graft.ir.Dim.sym("N"), graft.ir.Dim.of(3), graft.ir.Dim.of(4), graft.ir.Dim.of(4)))));
        g.addInitializer(Weight.ofFloats("ratio", new long[0], new float[]{0.5f}));
        g.addInitializer(Weight.ofLongs("flat", new long[]{2}, new long[]{0, -1}));
        g.addInitializer(Weight.ofLongs("rows", new long[]{2}, new long[]{-1, 48}));
        g.addInitializer(Weight.ofLongs("unused", new long[]{1}, new long[]{7}));
        g.nodes().add(Node.of(graft.ir.Op.IDENTITY, "id", "id", List.of("x"), List.of("a"), Map.of()));
        g.nodes().add(Node.of(graft.ir.Op.TRANSPOSE, "t1", "t1", List.of("a"), List.of("b"), Map.of("perm", graft.ir.Attr.ints(0, 2, 3, 1))));
        g.nodes().add(Node.of(graft.ir.Op.TRANSPOSE, "t2", "t2", List.of("b"), List.of("c"), Map.of("perm", graft.ir.Attr.ints(0, 3, 1, 2))));
        g.nodes().add(Node.of(graft.ir.Op.DROPOUT, "drop", "drop", List.of("c", "ratio"), List.of("d"), Map.of()));
        g.nodes().add(Node.of(graft.ir.Op.RESHAPE, "r1", "r1", List.of("d", "flat"), List.of("e"), Map.of()));
        g.nodes().add(Node.of(graft.ir.Op.RESHAPE, "r2", "r2", List.of("e", "rows"), List.of("f"), Map.of()));
        g.nodes().add(Node.of(graft.ir.Op.RELU, "relu", "relu", List.of("f"), List.of("y"), Map.of()));
        g.outputs().add(new Value("y", null));
        graft.ir.ShapeInference.run(g);
        Path before = write(g, "pairs.onnx", 13);
        Simplify.Report r = Simplify.simplify(g, true);
        assertThat(ops(g)).isEqualTo(Map.of("Reshape", 1, "Relu", 1));
        assertThat(r.lines()).contains("Identity nodes removed: 1", "Transpose nodes removed: 2", "Dropout nodes removed: 1",
                "Reshape nodes removed: 1");
        assertThat(g.initializers().keySet()).containsExactly("rows");
        Path after = write(g, "pairs_simplified.onnx", 13);
        for (int batch : new int[]{1, 7}) {
            Tensor x = Tensor.random(DataType.FLOAT, new long[]{batch, 3, 4, 4}, batch);
            assertThat(compare(before, after, "x", x)).isZero();
        }
    }

    /**
     * The implicit mode (a convert to Keras or Caffe) folds an ONNX export's shape arithmetic
     * completely, and leaves every corpus Keras file's nodes as they are (LocallyConnected2D's
     * window-selector Constant, GaussianNoise's Identity, Dropout), so Keras and Caffe round trips
     * keep their layers.
     */
    @Test
    void implicitModeFoldsShapeArithmeticAndLeavesKerasLayersAlone() throws Exception {
        Graph sf = OnnxImporter.read(SHAPE_FLATTEN);
        Simplify.simplify(sf, false);
        assertThat(ops(sf)).isEqualTo(Map.of("Add", 1, "Conv", 1, "Gemm", 2, "Relu", 1, "Reshape", 2));
        TestPaths.assumeExists(graft.keras.KerasCorpusTest.CORPUS, "the shared Keras corpus");
        int files = 0;
        for (graft.keras.KerasCorpusTest.Case c : graft.keras.KerasCorpusTest.cases()) {
            Graph g = new graft.keras.KerasFormat().read(c.model(), graft.io.Options.none().set("config", c.config()));
            List<String> before = g.nodes().stream().map(Node::toString).toList();
            Simplify.Report r = Simplify.simplify(g, false);
            assertThat(g.nodes().stream().map(Node::toString).toList()).as(c.name() + ": " + r.lines()).isEqualTo(before);
            files++;
        }
        assertThat(files).isGreaterThan(30);
    }

    @Test
    void cliDryRunReportsAndWritesNothingAndSurgeryHasTheEdit() throws Exception {
        Path dir = TestPaths.scratch("simplify-cli");
        Path out = dir.resolve("sf.onnx");
        Files.deleteIfExists(out);
        Cli.Result r = Cli.run("convert", SHAPE_FLATTEN.toString(), out.toString(), "--simplify", "--dry-run");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("Shape nodes removed: 4").contains("dry run: nothing written");
        assertThat(out).doesNotExist();
        Cli.Result s = Cli.run("surgery", SHAPE_FLATTEN.toString(), "--edit", "simplify", "-o", out.toString());
        assertThat(s.code()).as(s.err()).isZero();
        Graph g = OnnxImporter.read(out);
        assertThat(g.nodes()).hasSize(7);
        assertThat(g.metadata().get("graft.edits")).contains("simplify");
        // plain ONNX to ONNX stays as it was unless asked
        Path plain = dir.resolve("plain.onnx");
        Cli.Result p = Cli.run("convert", SHAPE_FLATTEN.toString(), plain.toString(), "--force");
        assertThat(p.code()).as(p.err()).isZero();
        assertThat(OnnxImporter.read(plain).nodes()).hasSize(29);
        assertThat(Arrays.asList(p.out().split("\n"))).noneMatch(l -> l.startsWith("simplify"));
    }
}
