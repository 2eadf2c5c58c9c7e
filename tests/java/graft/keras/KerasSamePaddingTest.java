package graft.keras;

import static graft.keras.KerasRoundTripTest.TOLERANCE;
import static graft.keras.KerasRoundTripTest.nhwc;
import static graft.keras.KerasRoundTripTest.run;
import static graft.keras.KerasRoundTripTest.tfjs;
import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Options;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.onnx.OnnxFormat;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ONNX {@code auto_pad} written to Keras (#25.3). SAME_UPPER is Keras/TF 'same'. SAME_LOWER puts
 * the odd pixel of an odd total padding before the data, which 'same' never does: with an even
 * input and stride 2 (8x8, kernel 3: total 1) it is ZeroPadding2D((1, 0)) + 'valid' with
 * --keras-explicit-padding, refused without it. graft wrote it as 'valid' (output 3x3 for 4x4,
 * exit 0). A max pool cannot take a ZeroPadding2D (0 is not -inf for negative inputs): refused.
 * Checked with TensorFlow.js on the written .h5 against ONNX Runtime on the ONNX file.
 */
class KerasSamePaddingTest {
    static Graph net(boolean withMaxPoolNeedingPads) {
        Graph g = new Graph("same_lower");
        g.inputs().add(new Value("data", new TensorType(DataType.FLOAT, Shape.of(Dim.sym("N"), Dim.of(3), Dim.of(8), Dim.of(8)))));
        g.addInitializer(Weight.ofFloats("w1", new long[] {4, 3, 3, 3}, Tensor.random(DataType.FLOAT, new long[] {4, 3, 3, 3}, 1).toFloats()));
        g.addInitializer(Weight.ofFloats("b1", new long[] {4}, new float[] {0.1f, -0.2f, 0.3f, 0.05f}));
        g.addInitializer(Weight.ofFloats("w2", new long[] {5, 4, 2, 2}, Tensor.random(DataType.FLOAT, new long[] {5, 4, 2, 2}, 2).toFloats()));
        g.addInitializer(Weight.ofFloats("w3", new long[] {5, 5, 3, 3}, Tensor.random(DataType.FLOAT, new long[] {5, 5, 3, 3}, 3).toFloats()));
        // 8x8, k3 s2 SAME_LOWER: out 4x4, total padding 1, all of it at the top/left
        g.nodes().add(Node.of(Op.CONV, "conv_lower_s2", "conv_lower_s2", List.of("data", "w1", "b1"), List.of("c1"),
                Map.of("kernel_shape", Attr.ints(3, 3), "strides", Attr.ints(2, 2), "auto_pad", Attr.of("SAME_LOWER"))));
        // 4x4, k2 s1 SAME_LOWER: total 1, top/left
        g.nodes().add(Node.of(Op.CONV, "conv_lower_k2", "conv_lower_k2", List.of("c1", "w2"), List.of("c2"),
                Map.of("kernel_shape", Attr.ints(2, 2), "auto_pad", Attr.of("SAME_LOWER"))));
        // 4x4, k3 s1 SAME_LOWER: total 2, even, which is Keras 'same'
        g.nodes().add(Node.of(Op.MAX_POOL, "pool_lower_even", "pool_lower_even", List.of("c2"), List.of("p"),
                Map.of("kernel_shape", Attr.ints(3, 3), "auto_pad", Attr.of("SAME_LOWER"))));
        // 4x4, k3 s2 SAME_UPPER: Keras 'same'
        g.nodes().add(Node.of(Op.CONV, "conv_upper_s2", "conv_upper_s2", List.of("p", "w3"), List.of("c3"),
                Map.of("kernel_shape", Attr.ints(3, 3), "strides", Attr.ints(2, 2), "auto_pad", Attr.of("SAME_UPPER"))));
        String last = "c3";
        if (withMaxPoolNeedingPads) {
            g.nodes().add(Node.of(Op.MAX_POOL, "pool_lower_odd", "pool_lower_odd", List.of("c3"), List.of("q"),
                    Map.of("kernel_shape", Attr.ints(2, 2), "auto_pad", Attr.of("SAME_LOWER"))));
            last = "q";
        }
        g.outputs().add(new Value(last, null));
        return g;
    }

    @Test
    void sameLowerIsZeroPaddingPlusValidAndComputesWhatOnnxRuntimeComputes() {
        TfjsOracle.assumeInstalled();
        Path scratch = TestPaths.scratch("keras-same-lower");
        Path onnx = scratch.resolve("same_lower.onnx");
        new OnnxFormat().write(net(false), onnx, Options.none());
        Path h5 = scratch.resolve("same_lower.h5");
        Cli.Result plain = Cli.run("convert", onnx.toString(), h5.toString(), "--force");
        assertThat(plain.code()).as(plain.err()).isEqualTo(3);
        assertThat(plain.err()).contains("conv_lower_s2").contains("--keras-explicit-padding").doesNotContain("pool_lower_even");
        assertThat(h5).doesNotExist();
        Cli.Result r = Cli.run("convert", onnx.toString(), h5.toString(), "--keras-explicit-padding");
        assertThat(r.code()).as(r.err()).isZero();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 3, 8, 8}, 4);
        Tensor want = nhwc(run(onnx, x));
        assertThat(want.shape()).containsExactly(2, 2, 2, 5);
        double err = TfjsOracle.relError(tfjs(h5, nhwc(x), scratch.resolve("tfjs")), want);
        System.out.println("SAME_LOWER/SAME_UPPER ONNX -> Keras: TF.js vs ONNX Runtime, rel err " + err);
        assertThat(err).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void aMaxPoolNeedingZeroPaddingIsRefused() {
        Path scratch = TestPaths.scratch("keras-same-lower-pool");
        Path onnx = scratch.resolve("pool.onnx");
        new OnnxFormat().write(net(true), onnx, Options.none());
        Path h5 = scratch.resolve("pool.h5");
        Cli.Result r = Cli.run("convert", onnx.toString(), h5.toString(), "--keras-explicit-padding");
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("pool_lower_odd").doesNotContain("conv_lower");
        assertThat(Files.exists(h5)).isFalse();
    }
}
