package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import graft.error.UnsupportedModelException;
import graft.io.Npy;
import graft.io.Options;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.onnx.OnnxFormat;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keras -> ONNX -> Keras and ONNX (torchvision-style VGG export) -> Keras -> ONNX: the .h5 graft
 * writes loads in TensorFlow.js and gives the outputs Keras / PyTorch gave, within 1e-5
 * relative; trainability survives ONNX -> Keras -> ONNX; what Keras cannot express is refused
 * by node name.
 */
class KerasRoundTripTest {
    static final double TOLERANCE = 1e-5;

    static Tensor run(Path onnx, Tensor x) {
        try (OrtRunner r = OrtRunner.open(onnx, Device.CPU)) {
            return r.run(Map.of(r.inputs().keySet().iterator().next(), x)).values().iterator().next();
        }
    }

    static Tensor tfjs(Path h5, Tensor x, Path work) {
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> r = TfjsOracle.predict(List.of(new TfjsOracle.Job(h5, null, List.of(x))), work, errors);
        assertThat(errors.get(0)).as("TensorFlow.js loading graft's " + h5.getFileName()).isNull();
        return r.get(0).get(0);
    }

    static Tensor npy(Path p) {
        Npy.Array a = Npy.read(p);
        return Tensor.ofFloats(a.shape(), a.toFloats());
    }

    /** NCHW -> NHWC copy of a 4-D float tensor. */
    static Tensor nhwc(Tensor t) {
        long[] s = t.shape();
        int n = (int) s[0], c = (int) s[1], h = (int) s[2], w = (int) s[3];
        float[] in = t.toFloats();
        float[] out = new float[in.length];
        for (int a = 0; a < n; a++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int xx = 0; xx < w; xx++) {
                        out[((a * h + y) * w + xx) * c + ch] = in[((a * c + ch) * h + y) * w + xx];
                    }
                }
            }
        }
        return Tensor.ofFloats(new long[] {n, h, w, c}, out);
    }

    @Test
    void kerasToOnnxToKerasKeepsKerasPredictions() {
        TfjsOracle.assumeInstalled();
        Path scratch = TestPaths.scratch("keras-roundtrip-cnn");
        Path h5 = TestPaths.corpus().resolve("keras/fullconfigs/cnn/cnn_batch_norm.h5");
        Path onnx = scratch.resolve("cnn.onnx");
        Path back = scratch.resolve("cnn_back.h5");
        Path again = scratch.resolve("cnn_again.onnx");
        assertThat(Cli.run("convert", h5.toString(), onnx.toString()).code()).isZero();
        Cli.Result r = Cli.run("convert", onnx.toString(), back.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Cli.run("convert", back.toString(), again.toString()).code()).isZero();
        Tensor x = npy(h5.resolveSibling("input.npy"));
        Tensor keras = npy(h5.resolveSibling("predictions.npy"));
        assertThat(TfjsOracle.relError(tfjs(back, x, scratch.resolve("tfjs")), keras)).isLessThanOrEqualTo(TOLERANCE);
        assertThat(TfjsOracle.relError(run(again, x), keras)).isLessThanOrEqualTo(TOLERANCE);
        Graph g = new KerasFormat().read(back, Options.none());
        assertThat(g.layers()).contains("conv2d_1", "batch_normalization_1", "dense_1");
        assertThat(g.metadata()).containsEntry("source.keras_version", KerasH5Writer.KERAS_VERSION);
    }

    @Test
    void reducedVgg16RoundTripsThroughOnnxWithTrainabilityAndMatchesTensorFlowJs() throws Exception {
        TfjsOracle.assumeInstalled();
        Path scratch = TestPaths.scratch("keras-roundtrip-vgg");
        Path h5 = KerasVgg16Test.model("vgg16_small.h5", "--width-div", "16", "--fc", "64", "--classes", "10");
        Graph g = new KerasFormat().read(h5, Options.none());
        g.training().put("block1_conv1", LayerTraining.frozen());
        g.training().put("fc1", LayerTraining.frozen());
        Path onnx = scratch.resolve("vgg.onnx");
        new OnnxFormat().write(g, onnx, Options.none());
        Path back = scratch.resolve("vgg_back.h5");
        Cli.Result r = Cli.run("convert", onnx.toString(), back.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Path again = scratch.resolve("vgg_again.onnx");
        assertThat(Cli.run("convert", back.toString(), again.toString()).code()).isZero();
        Graph g2 = new OnnxFormat().read(again, Options.none());
        assertThat(g2.trainingOf("block1_conv1").trainable()).isFalse();
        assertThat(g2.trainingOf("fc1").trainable()).isFalse();
        assertThat(g2.trainingOf("block1_conv2").trainable()).isTrue();
        try (HdfFile f = new HdfFile(back); HdfFile o = new HdfFile(h5)) {
            JsonNode cfg = new com.fasterxml.jackson.databind.ObjectMapper().readTree((String) f.getAttribute("model_config").getData());
            List<String> classes = new ArrayList<>();
            for (JsonNode l : cfg.path("config").path("layers")) {
                classes.add(l.path("class_name").asText() + ":" + l.path("name").asText() + ":" + l.path("config").path("trainable").asBoolean());
            }
            // The same Keras layers as keras.applications writes (the activations fused back), with trainability.
            assertThat(classes).contains("Conv2D:block1_conv1:false", "Conv2D:block1_conv2:true", "Dense:fc1:false", "Dense:predictions:true",
                    "MaxPooling2D:block5_pool:true", "Flatten:flatten:true").noneMatch(c -> c.startsWith("Activation"));
            // Every weight comes back bit for bit: HWIO -> OIHW -> HWIO, and fc1's rows H,W,C -> C,H,W -> H,W,C.
            for (String layer : List.of("block1_conv1", "block3_conv2", "fc1", "fc2", "predictions")) {
                for (String w : List.of("kernel:0", "bias:0")) {
                    String path = "model_weights/" + layer + "/" + layer + "/" + w;
                    assertThat(o.getDatasetByPath(path).getDataFlat()).as(path).isEqualTo(f.getDatasetByPath(path).getDataFlat());
                }
            }
        }
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {1, 224, 224, 3}, 3);
        Tensor original = tfjs(h5, x, scratch.resolve("tfjs-original"));
        assertThat(TfjsOracle.relError(tfjs(back, x, scratch.resolve("tfjs-back")), original)).isLessThanOrEqualTo(TOLERANCE);
        assertThat(TfjsOracle.relError(run(again, x), original)).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void torchVggStyleOnnxToKerasToOnnxMatchesPyTorch() {
        TfjsOracle.assumeInstalled();
        Path scratch = TestPaths.scratch("keras-roundtrip-torch");
        Path onnx = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
        Path h5 = scratch.resolve("small_vgg.h5");
        Cli.Result r = Cli.run("convert", onnx.toString(), h5.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Path again = scratch.resolve("small_vgg_again.onnx");
        assertThat(Cli.run("convert", h5.toString(), again.toString()).code()).isZero();
        Tensor x = npy(TestPaths.fixtures().resolve("onnx/small_vgg_input.npy"));
        Tensor torch = npy(TestPaths.fixtures().resolve("onnx/small_vgg_torch_output.npy"));
        // The Keras model is channels_last: it takes the same images as NHWC.
        assertThat(TfjsOracle.relError(tfjs(h5, nhwc(x), scratch.resolve("tfjs")), torch)).isLessThanOrEqualTo(TOLERANCE);
        assertThat(TfjsOracle.relError(run(again, nhwc(x)), torch)).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void whatKerasCannotExpressIsRefusedByNodeNameAllAtOnce() {
        Graph g = new Graph("caffe_like");
        g.inputs().add(new Value("data", new TensorType(DataType.FLOAT, Shape.of(1, 3, 10, 10))));
        g.nodes().add(Node.of(Op.LRN, "norm1", "norm1", List.of("data"), List.of("n1"), Map.of("size", Attr.of(5L))));
        g.nodes().add(Node.of(Op.MAX_POOL, "pool1", "pool1", List.of("data"), List.of("p1"),
                Map.of("kernel_shape", Attr.ints(3, 3), "strides", Attr.ints(2, 2), "ceil_mode", Attr.of(1L))));
        g.addInitializer(Weight.ofFloats("w", new long[] {2, 3, 3, 3}, new float[54]));
        g.nodes().add(Node.of(Op.CONV, "conv_asym", "conv_asym", List.of("data", "w"), List.of("c1"),
                Map.of("kernel_shape", Attr.ints(3, 3), "pads", Attr.ints(0, 0, 1, 1))));
        g.outputs().add(new Value("n1", null));
        g.outputs().add(new Value("p1", null));
        g.outputs().add(new Value("c1", null));
        Path out = TestPaths.scratch("keras-refuse").resolve("x.h5");
        assertThatThrownBy(() -> new KerasFormat().write(g, out, Options.none()))
                .isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("norm1 (LRN")
                .hasMessageContaining("pool1 (MaxPool: ceil-mode")
                .hasMessageContaining("conv_asym (Conv")
                .hasMessageNotContaining("\n");
        assertThat(out).doesNotExist();
        // With explicit padding the asymmetric conv becomes ZeroPadding2D + Conv2D; LRN stays refused.
        assertThatThrownBy(() -> new KerasFormat().write(g, out, Options.none().set("explicit-padding", true)))
                .hasMessageContaining("norm1 (LRN").hasMessageNotContaining("conv_asym");
    }

    @Test
    void explicitPaddingWritesZeroPadding2DThatComputesTheSamePads() {
        TfjsOracle.assumeInstalled();
        Path scratch = TestPaths.scratch("keras-explicit-pad");
        Graph g = new Graph("asym");
        g.inputs().add(new Value("data", new TensorType(DataType.FLOAT, Shape.of(Dim.sym("N"), Dim.of(3), Dim.of(9), Dim.of(9)))));
        float[] w = Tensor.random(DataType.FLOAT, new long[] {4, 3, 3, 3}, 1).toFloats();
        g.addInitializer(Weight.ofFloats("w", new long[] {4, 3, 3, 3}, w));
        g.addInitializer(Weight.ofFloats("b", new long[] {4}, new float[] {0.1f, -0.2f, 0.3f, 0.05f}));
        g.nodes().add(Node.of(Op.CONV, "conv_asym", "conv_asym", List.of("data", "w", "b"), List.of("c"),
                Map.of("kernel_shape", Attr.ints(3, 3), "strides", Attr.ints(2, 2), "pads", Attr.ints(0, 1, 2, 0))));
        g.nodes().add(Node.of(Op.RELU, "relu", "conv_asym", List.of("c"), List.of("y"), Map.of()));
        g.outputs().add(new Value("y", null));
        Path onnx = scratch.resolve("asym.onnx");
        new OnnxFormat().write(g, onnx, Options.none());
        Path h5 = scratch.resolve("asym.h5");
        assertThat(Cli.run("convert", onnx.toString(), h5.toString()).code()).isEqualTo(3);
        Cli.Result r = Cli.run("convert", onnx.toString(), h5.toString(), "--keras-explicit-padding");
        assertThat(r.code()).as(r.err()).isZero();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 3, 9, 9}, 4);
        Tensor want = nhwc(run(onnx, x));
        assertThat(TfjsOracle.relError(tfjs(h5, nhwc(x), scratch.resolve("tfjs")), want)).isLessThanOrEqualTo(TOLERANCE);
    }

}
