package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Every differentiated op against central finite differences, in float64 where ONNX Runtime's
 * CPU provider runs the op in double (h = 1e-6, tolerance 1e-6 of the largest gradient), else in
 * float32 (h = 1e-2, tolerance 2e-3: the rounding error of L, about 1e-7 |L|, divided by h).
 * Float32-only in ONNX Runtime 1.22 CPU: Conv, ConvTranspose, AveragePool, GlobalAveragePool,
 * GlobalMaxPool, LRN, Softplus, Softsign, Elu, Selu and a few more ({@link GradCheck#check} falls back
 * only on ORT_NOT_IMPLEMENTED and says which type it used).
 */
class AutodiffGradientTest {
    static final double F64 = 1e-6;
    static final double F32 = 2e-3;
    /** Maps [-1, 1) to [0.5, 1.5): variances, divisors, arguments of Log and Sqrt. */
    static final java.util.function.DoubleUnaryOperator positive = x -> 1.0 + 0.5 * x;

    @Test
    void convPadded() {
        GradCheck.of("Conv", "pads", new long[] {1, 1, 1, 1})
                .in("x", 2, 3, 5, 5).in("w", 4, 3, 3, 3).in("b", 4).check();
    }

    @Test
    void convStridedWithRemainderAndDilated() {
        GradCheck.of("Conv", "strides", new long[] {2, 2}, "pads", new long[] {0, 1, 1, 0})
                .in("x", 2, 2, 6, 6).in("w", 3, 2, 3, 2).check();
        GradCheck.of("Conv", "dilations", new long[] {2, 2})
                .in("x", 1, 2, 7, 7).in("w", 2, 2, 3, 3).in("b", 2).check();
    }

    @Test
    void groupedConv() {
        // CaffeNet's conv2/4/5 form: two groups, padded; each group's weights see half the channels.
        GradCheck.of("Conv", "group", 2L, "pads", new long[] {1, 1, 1, 1})
                .in("x", 2, 4, 5, 5).in("w", 6, 2, 3, 3).in("b", 6).check();
        // Strided, three groups, and a 1-D grouped conv (the N-D weight-gradient form).
        GradCheck.of("Conv", "group", 3L, "strides", new long[] {2, 2})
                .in("x", 1, 3, 6, 6).in("w", 3, 1, 2, 2).check();
        GradCheck.of("Conv", "group", 2L).in("x", 2, 4, 7).in("w", 4, 2, 3).check();
    }

    @Test
    void depthwiseConv() {
        // MobileNetV2's DepthwiseConv2D form (group = channels, one filter each), strided and padded,
        // with 160 channels: the per-channel Split it used to build had a 1,280-byte sizes constant
        // that went to external data, and ONNX Runtime refused the graph.
        GradCheck.of("Conv", "group", 160L, "pads", new long[] {1, 1, 1, 1}, "strides", new long[] {2, 2})
                .in("x", 1, 160, 3, 3).in("w", 160, 1, 3, 3).in("b", 160).check();
        // dilated, asymmetric pads, a batch of two
        GradCheck.of("Conv", "group", 4L, "dilations", new long[] {2, 2}, "pads", new long[] {1, 0, 2, 1})
                .in("x", 2, 4, 7, 7).in("w", 4, 1, 3, 3).check();
    }

    @Test
    void maxPool() {
        GradCheck.of("MaxPool", "kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})
                .in("x", 2, 3, 4, 4).check();
        // Overlapping windows with padding: one input can win several windows.
        GradCheck.of("MaxPool", "kernel_shape", new long[] {3, 3}, "strides", new long[] {2, 2},
                "pads", new long[] {1, 1, 1, 1}).in("x", 1, 2, 5, 5).check();
    }

    @Test
    void averagePool() {
        GradCheck.of("AveragePool", "kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})
                .in("x", 2, 3, 4, 4).check();
        GradCheck.of("AveragePool", "kernel_shape", new long[] {3, 3}, "pads", new long[] {1, 1, 1, 1})
                .in("x", 1, 2, 5, 5).check();
        GradCheck.of("AveragePool", "kernel_shape", new long[] {3, 3}, "pads", new long[] {1, 1, 1, 1},
                "count_include_pad", 1L).in("x", 1, 2, 5, 5).check();
    }

    @Test
    void globalPools() {
        GradCheck.of("GlobalAveragePool").in("x", 2, 3, 4, 4).check();
        GradCheck.of("GlobalMaxPool").distinct("x", 2, 3, 4, 4).check();
    }

    @Test
    void activations() {
        for (String op : new String[] {"Relu", "Sigmoid", "Tanh", "Softplus", "Softsign", "Exp", "Abs", "Neg"}) {
            GradCheck.of(op).in("x", 3, 5).check();
        }
        GradCheck.of("LeakyRelu", "alpha", 0.1f).in("x", 3, 5).check();
        GradCheck.of("Elu", "alpha", 0.7f).in("x", 3, 5).check();
        GradCheck.of("Selu").in("x", 3, 5).check();
        GradCheck.of("HardSigmoid").in("x", v -> 4 * v, 3, 5).check();
        GradCheck.of("ThresholdedRelu", "alpha", 0.3f).in("x", 3, 5).check();
        GradCheck.of("Log").in("x", positive, 3, 5).check();
        GradCheck.of("Sqrt").in("x", positive, 3, 5).check();
        GradCheck.of("PRelu").in("x", 2, 3, 2, 2).in("slope", 3, 1, 1).check();
    }

    /**
     * Inputs in [-2, 2) and a large alpha put the normaliser far from bias, so its derivative term
     * is not negligible. ONNX Runtime's LRN kernel takes odd sizes only (as Caffe does), so the
     * even sizes, whose window is not symmetric (c-1..c+2 for size 4, c..c+1 for size 2; the
     * gradient sums over the mirrored window), run on graft's reference executor, whose LRN
     * follows the ONNX window.
     */
    @Test
    void lrn() {
        GradCheck.of("LRN", "size", 5L, "alpha", 1.5f, "beta", 0.75f, "bias", 0.8f)
                .in("x", v -> 2 * v, 2, 7, 3, 3).check();
        GradCheck.of("LRN", "size", 3L, "alpha", 0.7f, "beta", 1.3f, "bias", 2f)
                .in("x", v -> 2 * v, 1, 4, 2, 3).check();
        GradCheck.of("LRN", "size", 4L, "alpha", 2f, "beta", 1.3f, "bias", 1.5f)
                .in("x", v -> 2 * v, 2, 6, 2, 3).onReferenceExecutor().check();
        GradCheck.of("LRN", "size", 2L, "alpha", 0.9f, "beta", 0.5f, "bias", 0.6f)
                .in("x", v -> 2 * v, 1, 5, 3, 2).onReferenceExecutor().check();
        GradCheck.of("LRN", "size", 5L, "alpha", 1.5f, "beta", 0.75f, "bias", 0.8f)
                .in("x", v -> 2 * v, 2, 7, 3, 3).onReferenceExecutor().check();
    }

    @Test
    void pow() {
        // What Caffe's Power layer and WITHIN_CHANNEL LRN import as: a constant exponent, then both differentiated.
        GradCheck.of("Pow").in("a", positive, 2, 3, 2).fixed("b", v -> -0.75).check();
        GradCheck.of("Pow").in("a", positive, 2, 3).in("b", 3).check();
    }

    @Test
    void softmaxes() {
        GradCheck.of("Softmax", "axis", 1L).in("x", 3, 5).check();
        GradCheck.of("LogSoftmax", "axis", -1L).in("x", 2, 3, 4).check();
    }

    @Test
    void gemmAllTransposes() {
        for (long ta = 0; ta < 2; ta++) {
            for (long tb = 0; tb < 2; tb++) {
                long[] sa = ta == 0 ? new long[] {3, 4} : new long[] {4, 3};
                long[] sb = tb == 0 ? new long[] {4, 5} : new long[] {5, 4};
                GradCheck.of("Gemm", "transA", ta, "transB", tb, "alpha", 0.5f, "beta", 2f)
                        .in("a", sa).in("b", sb).in("c", 5).check();
            }
        }
        GradCheck.of("Gemm").in("a", 3, 4).in("b", 4, 5).in("c", 3, 1).check();
        GradCheck.of("MatMul").in("a", 3, 4).in("b", 4, 5).check();
    }

    /** Batched MatMul (LocallyConnected2D's per-position product), equal and broadcast batch axes. */
    @Test
    void batchedMatMul() {
        GradCheck.of("MatMul").in("a", 3, 2, 4).in("b", 3, 4, 5).check();
        GradCheck.of("MatMul").in("a", 2, 3, 4).in("b", 4, 5).check();
        GradCheck.of("MatMul").in("a", 3, 4).in("b", 2, 4, 5).check();
        GradCheck.of("MatMul").in("a", 2, 1, 3, 4).in("b", 3, 4, 2).check();
    }

    @Test
    void broadcastingArithmetic() {
        GradCheck.of("Add").in("a", 2, 3, 2, 2).in("b", 3, 1, 1).check();
        GradCheck.of("Sub").in("a", 2, 3).in("b", 1, 3).check();
        GradCheck.of("Mul").in("a", 2, 3, 4).in("b", 4).check();
        GradCheck.of("Div").in("a", 2, 3).in("b", positive, 2, 1).check();
        GradCheck.of("Sum").in("a", 2, 3).in("b", 3).in("c", 2, 3).check();
    }

    @Test
    void shapeOps() {
        GradCheck.of("Flatten", "axis", 1L).in("x", 2, 3, 2, 2).check();
        GradCheck.of("Reshape").in("x", 2, 6).ints("s", 3, -1).check();
        GradCheck.of("Transpose", "perm", new long[] {0, 2, 3, 1}).in("x", 2, 3, 2, 4).check();
        GradCheck.of("Concat", "axis", 1L).in("a", 2, 3).in("b", 2, 2).check();
        GradCheck.of("Identity").in("x", 2, 3).check();
    }

    /**
     * Constant Pad (ZeroPadding2D; Keras's asymmetric 'correct_pad' before MobileNetV2's and
     * EfficientNet's strided depthwise convolutions): dx is dy with the border sliced off; pads on
     * one side only, on both, and on a 2-D input.
     */
    @Test
    void constantPad() {
        GradCheck.of("Pad").in("x", 2, 3, 4, 4).ints("pads", 0, 0, 0, 1, 0, 0, 1, 1).check();
        GradCheck.of("Pad").in("x", 2, 3, 3, 5).ints("pads", 0, 0, 2, 0, 0, 0, 0, 3).check();
        GradCheck.of("Pad").in("x", 2, 5).ints("pads", 1, 0, 0, 2).check();
        // pads from a Constant node, as torch.onnx.export writes them (densenet121's transitions: all zero)
        GradCheck.of("Pad").in("x", 2, 3, 4, 4).intsNode("pads", 0, 0, 1, 0, 0, 0, 0, 2).check();
        GradCheck.of("Pad").in("x", 2, 3, 4, 4).intsNode("pads", 0, 0, 0, 0, 0, 0, 0, 0).check();
    }

    /** --bn train: batch mean and variance depend on x, so dx has two more terms than in inference mode. */
    @Test
    void batchNormalizationTraining() {
        GradCheck.of("BatchNormalization", "epsilon", 1e-3f, "momentum", 0.99f)
                .in("x", 3, 2, 3, 2).in("scale", 2).in("bias", 2).fixed("mean", v -> v, 2).fixed("var", v -> 1 + 0.5 * v, 2)
                .batchStatistics().check();
    }

    @Test
    void batchNormalizationInference() {
        GradCheck.of("BatchNormalization", "epsilon", 1e-3f)
                .in("x", 2, 3, 2, 2).in("scale", 3).in("bias", 3).fixed("mean", v -> v, 3).fixed("var", positive, 3)
                .check();
    }
}
