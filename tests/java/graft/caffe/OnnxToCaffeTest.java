package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import graft.error.UnsupportedModelException;
import graft.io.Options;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ONNX to Caffe: a model written by torch.onnx.export becomes a Caffe pair that OpenCV runs to
 * the same numbers as ONNX Runtime runs the original; what Caffe cannot express exactly is
 * refused with every offending node named.
 */
class OnnxToCaffeTest {
    @Test
    void torchExportedVggBecomesCaffeFilesOpenCvRunsToTheSameNumbers() {
        Path onnx = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
        Path input = TestPaths.fixtures().resolve("onnx/small_vgg_input.npy");
        Path dir = TestPaths.scratch("onnx-to-caffe");
        Path model = dir.resolve("small_vgg.caffemodel");
        Cli.Result r = Cli.run("convert", onnx.toString(), model.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(dir.resolve("small_vgg.prototxt")).exists();
        Tensor x = CaffeOracle.npy(input);
        Tensor ort = CaffeOracle.ort(onnx, "input", x);
        Tensor cv = CaffeOracle.opencv(dir.resolve("small_vgg.prototxt"), model, input, dir);
        double err = CaffeOracle.relError(cv, ort);
        System.out.println("small_vgg ONNX -> Caffe: OpenCV vs ONNX Runtime on the original, rel err " + err);
        assertThat(err).isLessThan(1e-5);
        // Read back by graft, the Caffe pair is the same net: Conv + in-place ReLU, Flatten folded into InnerProduct.
        Graph back = new CaffeFormat().read(dir.resolve("small_vgg.prototxt"), Options.none().set("weights", model));
        assertThat(back.parameterCount()).isEqualTo(new graft.onnx.OnnxFormat().read(onnx, Options.none()).parameterCount());
    }

    @Test
    void whatCaffeCannotExpressIsRefusedNamingEveryNode() {
        Graph g = new Graph("t");
        g.inputs().add(new Value("x", new TensorType(DataType.FLOAT, Shape.of(1, 3, 15, 15))));
        g.addInitializer(Weight.ofFloats("w", new long[] {4, 3, 3, 3}, new float[4 * 27]));
        g.nodes().add(Node.of(Op.CONV, "conv_same_upper", "conv_same_upper", List.of("x", "w"), List.of("c"),
                Map.of("strides", Attr.ints(2, 2), "pads", Attr.ints(0, 0, 1, 1))));
        g.nodes().add(Node.of(Op.MAX_POOL, "pool_floor", "pool_floor", List.of("x"), List.of("p"),
                Map.of("kernel_shape", Attr.ints(2, 2), "strides", Attr.ints(2, 2))));
        g.nodes().add(Node.of(Op.TRANSPOSE, "transpose", "transpose", List.of("p"), List.of("t"), Map.of("perm", Attr.ints(0, 1, 3, 2))));
        g.outputs().add(new Value("c", null));
        g.outputs().add(new Value("t", null));
        ShapeInference.run(g);
        Path out = TestPaths.scratch("onnx-to-caffe-refused").resolve("t.caffemodel");
        assertThatThrownBy(() -> new CaffeFormat().write(g, out, Options.none()))
                .isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("Conv 'conv_same_upper': asymmetric padding")
                .hasMessageContaining("MaxPool 'pool_floor': Caffe's pooling rounds up and gives 8 at axis 2 where this node gives 7")
                .hasMessageContaining("Transpose 'transpose'")
                .satisfies(e -> assertThat(((UnsupportedModelException) e).offenders()).hasSize(3));
        assertThat(out).doesNotExist();
        assertThat(out.resolveSibling("t.prototxt")).doesNotExist();
    }

    @Test
    void ceilPoolingWrittenByOnnxWithEndPaddingIsTheSameCaffePooling() {
        // ONNX MaxPool with the extra end pad that Caffe's ceil rounding implies: exactly a Caffe Pooling without pad.
        Graph g = new Graph("t");
        g.inputs().add(new Value("x", new TensorType(DataType.FLOAT, Shape.of(1, 3, 15, 15))));
        g.nodes().add(Node.of(Op.MAX_POOL, "pool", "pool", List.of("x"), List.of("p"),
                Map.of("kernel_shape", Attr.ints(2, 2), "strides", Attr.ints(2, 2), "pads", Attr.ints(0, 0, 1, 1))));
        g.outputs().add(new Value("p", null));
        ShapeInference.run(g);
        List<ExportPlanner.Layer> layers = ExportPlanner.plan(g);
        assertThat(layers).hasSize(2);
        assertThat(layers.get(1).def().getPoolingParam().getKernelSize()).isEqualTo(2);
        assertThat(layers.get(1).def().getPoolingParam().getPad()).isZero();
    }
}
