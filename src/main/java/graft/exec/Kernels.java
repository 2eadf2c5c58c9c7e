package graft.exec;

import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Node;
import graft.ir.Op;
import java.util.List;

/**
 * One switch over the op catalogue: evaluates a node on its input arrays. The compiler reports
 * a catalogue op that is added without a case here. Inputs are positional; an absent optional
 * input is null.
 */
final class Kernels {
    private Kernels() {
    }

    static NdArray[] eval(Node n, Op op, List<NdArray> in) {
        NdArray x = in.isEmpty() ? null : in.get(0);
        DataType t = x == null ? DataType.FLOAT : x.dtype;
        return switch (op) {
            case CONV -> one(Convolution.conv(n, x, in.get(1), opt(in, 2)));
            case CONV_TRANSPOSE -> one(Transposed.convTranspose(n, x, in.get(1), opt(in, 2)));
            case MAX_POOL -> Pooling.pool(n, x, true, n.outputs().size() > 1 && !n.output(1).isEmpty());
            case AVERAGE_POOL -> Pooling.pool(n, x, false, false);
            case GLOBAL_AVERAGE_POOL -> one(Pooling.global(x, false));
            case GLOBAL_MAX_POOL -> one(Pooling.global(x, true));
            case GEMM -> one(Linear.gemm(n, x, in.get(1), opt(in, 2)));
            case MAT_MUL -> one(Linear.matMul(x, in.get(1)));
            case ADD -> one(Elementwise.binary(x, in.get(1), t, Double::sum, Long::sum));
            case SUB -> one(Elementwise.binary(x, in.get(1), t, (a, b) -> a - b, (a, b) -> a - b));
            case MUL -> one(Elementwise.binary(x, in.get(1), t, (a, b) -> a * b, (a, b) -> a * b));
            case DIV -> one(Elementwise.binary(x, in.get(1), t, (a, b) -> a / b, Elementwise::divInt));
            case POW -> one(Elementwise.binary(x, in.get(1), t, Math::pow, Elementwise::powInt));
            case MAX -> one(Elementwise.variadic(Op.MAX, in));
            case MIN -> one(Elementwise.variadic(Op.MIN, in));
            case SUM -> one(Elementwise.variadic(Op.SUM, in));
            case MEAN -> one(Elementwise.variadic(Op.MEAN, in));
            case RELU -> one(Elementwise.map(x, v -> v > 0 ? v : 0));
            case LEAKY_RELU -> {
                double a = n.floatAttr("alpha");
                yield one(Elementwise.map(x, v -> v >= 0 ? v : a * v));
            }
            case PRELU -> one(Elementwise.binary(x, in.get(1), t, (v, s) -> v >= 0 ? v : s * v, (v, s) -> v >= 0 ? v : s * v));
            case ELU -> {
                double a = n.floatAttr("alpha");
                yield one(Elementwise.map(x, v -> v >= 0 ? v : a * (Math.exp(v) - 1)));
            }
            case SELU -> {
                double a = n.floatAttr("alpha");
                double g = n.floatAttr("gamma");
                yield one(Elementwise.map(x, v -> v > 0 ? g * v : g * a * (Math.exp(v) - 1)));
            }
            case THRESHOLDED_RELU -> {
                double a = n.floatAttr("alpha");
                yield one(Elementwise.map(x, v -> v > a ? v : 0));
            }
            case SIGMOID -> one(Elementwise.map(x, Elementwise::sigmoid));
            case HARD_SIGMOID -> {
                double a = n.floatAttr("alpha");
                double b = n.floatAttr("beta");
                yield one(Elementwise.map(x, v -> Math.max(0, Math.min(1, a * v + b))));
            }
            case TANH -> one(Elementwise.map(x, Math::tanh));
            case SOFTPLUS -> one(Elementwise.map(x, v -> v > 30 ? v : Math.log1p(Math.exp(v))));
            case SOFTSIGN -> one(Elementwise.map(x, v -> v / (1 + Math.abs(v))));
            case EXP -> one(Elementwise.map(x, Math::exp));
            case LOG -> one(Elementwise.map(x, Math::log));
            case ABS -> one(Elementwise.map(x, Math::abs));
            case NEG -> one(Elementwise.map(x, v -> -v));
            case SQRT -> one(Elementwise.map(x, Math::sqrt));
            case SOFTMAX -> one(Normalization.softmax(n, x, false));
            case LOG_SOFTMAX -> one(Normalization.softmax(n, x, true));
            case FLATTEN -> one(Reshaping.flatten(n, x));
            case RESHAPE -> one(Reshaping.reshape(n, x, in.get(1)));
            case TRANSPOSE -> one(Reshaping.transpose(n, x));
            case SQUEEZE -> one(Reshaping.squeeze(x, opt(in, 1)));
            case UNSQUEEZE -> one(Reshaping.unsqueeze(x, in.get(1)));
            case CONCAT -> one(Reshaping.concat(n, in));
            case SPLIT -> Reshaping.split(n, x, opt(in, 1), n.outputs().size());
            case SLICE -> one(Reshaping.slice(x, in.get(1), in.get(2), opt(in, 3), opt(in, 4)));
            case DROPOUT -> dropout(n, x, opt(in, 1), opt(in, 2));
            case BATCH_NORMALIZATION -> Normalization.batchNorm(n, x, in.get(1), in.get(2), in.get(3), in.get(4), n.outputs().size());
            case LRN -> one(Normalization.lrn(n, x));
            case PAD -> one(Reshaping.pad(n, x, in.get(1), opt(in, 2)));
            case CLIP -> {
                NdArray lo = opt(in, 1);
                NdArray hi = opt(in, 2);
                double min = lo == null ? Double.NEGATIVE_INFINITY : lo.get(0);
                double max = hi == null ? Double.POSITIVE_INFINITY : hi.get(0);
                yield one(Elementwise.map(x, v -> Math.min(max, Math.max(min, v))));
            }
            case IDENTITY -> one(x);
            case CAST -> one(cast(x, DataType.fromCode((int) n.intAttr("to", 0))));
            case CONSTANT -> one(constant(n));
            case CONSTANT_OF_SHAPE -> {
                Attr v = n.attr("value");
                yield one(Reshaping.constantOfShape(x, v == null ? null : NdArray.of(v.asTensor())));
            }
            case SHAPE -> one(Reshaping.shape(n, x));
            case GATHER -> one(Reshaping.gather(n, x, in.get(1)));
        };
    }

    /** ONNX Cast: float16 rounds half to even; float to integer truncates toward zero; bool is "not zero". */
    private static NdArray cast(NdArray x, DataType to) {
        if (to == null || to == DataType.BFLOAT16 || x.dtype == DataType.BFLOAT16 || to == DataType.STRING) {
            throw new UnsupportedModelException("Cast (reference executor): " + (to == null ? "unknown target type" : x.dtype.lowerName() + " to "
                    + to.lowerName()) + " is not computed here; compare it with ONNX Runtime");
        }
        int n = x.size();
        if (to.isFloating()) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                float f = (float) x.get(i);
                v[i] = to == DataType.FLOAT16 ? graft.ir.Half.toFloat(graft.ir.Half.fromFloat(f)) : f;
            }
            return NdArray.floats(to, x.shape, v);
        }
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = to == DataType.BOOL ? (x.get(i) != 0 ? 1 : 0) : x.isFloat() ? (long) x.get(i) : x.getLong(i);
        }
        return NdArray.longs(to, x.shape, v);
    }

    private static NdArray[] one(NdArray a) {
        return new NdArray[]{a};
    }

    private static NdArray opt(List<NdArray> in, int i) {
        return i < in.size() ? in.get(i) : null;
    }

    /** Inference-mode Dropout is the identity with an all-true mask; a random training mask is refused. */
    private static NdArray[] dropout(Node n, NdArray x, NdArray ratio, NdArray training) {
        boolean train = training != null && training.get(0) != 0;
        double r = ratio == null ? 0.5 : ratio.get(0);
        if (train && r != 0) {
            throw new UnsupportedModelException("Dropout '" + n.name() + "' (reference executor): training mode draws a random mask. "
                    + "Run it in inference mode or in ONNX Runtime");
        }
        long[] mask = new long[x.size()];
        java.util.Arrays.fill(mask, 1);
        return new NdArray[]{x, NdArray.longs(DataType.BOOL, x.shape, mask)};
    }

    private static NdArray constant(Node n) {
        Attr a;
        if ((a = n.attr("value")) != null) {
            return NdArray.of(a.asTensor());
        }
        if ((a = n.attr("value_float")) != null) {
            return NdArray.floats(new int[0], new float[]{a.asFloat()});
        }
        if ((a = n.attr("value_floats")) != null) {
            float[] v = a.asFloats();
            return NdArray.floats(new int[]{v.length}, v);
        }
        if ((a = n.attr("value_int")) != null) {
            return NdArray.longs(DataType.INT64, new int[0], new long[]{a.asInt()});
        }
        if ((a = n.attr("value_ints")) != null) {
            long[] v = a.asInts();
            return NdArray.longs(DataType.INT64, new int[]{v.length}, v);
        }
        throw new UnsupportedModelException("Constant '" + n.name() + "' (reference executor): only tensor, float and int values are supported");
    }
}
