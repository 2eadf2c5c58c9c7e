package graft.ir;

import graft.error.InvalidGraphException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The op catalogue: every op importers may produce and exporters must accept, in ONNX
 * vocabulary and with the semantics of ONNX opset 17 (axes of Squeeze/Unsqueeze, shape of
 * Reshape, min/max of Clip, pads of Pad and ratio of Dropout are inputs, not attributes).
 * Converter code switches over this enum, so the compiler reports a missing case.
 */
public enum Op implements OpSchema {
    CONV("Conv", 2, 3, 1, 1, "auto_pad:S dilations:IS group:I kernel_shape:IS pads:IS strides:IS", "1:kernel:OIHW 2:bias:O"),
    CONV_TRANSPOSE("ConvTranspose", 2, 3, 1, 1,
            "auto_pad:S dilations:IS group:I kernel_shape:IS output_padding:IS output_shape:IS pads:IS strides:IS",
            "1:kernel:IOHW 2:bias:O"),
    MAX_POOL("MaxPool", 1, 1, 1, 2, "auto_pad:S ceil_mode:I dilations:IS kernel_shape:IS! pads:IS storage_order:I strides:IS", ""),
    AVERAGE_POOL("AveragePool", 1, 1, 1, 1, "auto_pad:S ceil_mode:I count_include_pad:I dilations:IS kernel_shape:IS! pads:IS strides:IS", ""),
    GLOBAL_AVERAGE_POOL("GlobalAveragePool", 1, 1, 1, 1, "", ""),
    GLOBAL_MAX_POOL("GlobalMaxPool", 1, 1, 1, 1, "", ""),
    GEMM("Gemm", 2, 3, 1, 1, "alpha:F beta:F transA:I transB:I", "1:kernel:KN 2:bias:N"),
    MAT_MUL("MatMul", 2, 2, 1, 1, "", ""),
    ADD("Add", 2, 2, 1, 1, "", ""),
    SUB("Sub", 2, 2, 1, 1, "", ""),
    MUL("Mul", 2, 2, 1, 1, "", ""),
    DIV("Div", 2, 2, 1, 1, "", ""),
    POW("Pow", 2, 2, 1, 1, "", ""),
    MAX("Max", 1, Integer.MAX_VALUE, 1, 1, "", ""),
    MIN("Min", 1, Integer.MAX_VALUE, 1, 1, "", ""),
    SUM("Sum", 1, Integer.MAX_VALUE, 1, 1, "", ""),
    MEAN("Mean", 1, Integer.MAX_VALUE, 1, 1, "", ""),
    RELU("Relu", 1, 1, 1, 1, "", ""),
    LEAKY_RELU("LeakyRelu", 1, 1, 1, 1, "alpha:F", ""),
    PRELU("PRelu", 2, 2, 1, 1, "", "1:slope:C"),
    ELU("Elu", 1, 1, 1, 1, "alpha:F", ""),
    SELU("Selu", 1, 1, 1, 1, "alpha:F gamma:F", ""),
    THRESHOLDED_RELU("ThresholdedRelu", 1, 1, 1, 1, "alpha:F", ""),
    SIGMOID("Sigmoid", 1, 1, 1, 1, "", ""),
    HARD_SIGMOID("HardSigmoid", 1, 1, 1, 1, "alpha:F beta:F", ""),
    TANH("Tanh", 1, 1, 1, 1, "", ""),
    SOFTPLUS("Softplus", 1, 1, 1, 1, "", ""),
    SOFTSIGN("Softsign", 1, 1, 1, 1, "", ""),
    EXP("Exp", 1, 1, 1, 1, "", ""),
    LOG("Log", 1, 1, 1, 1, "", ""),
    ABS("Abs", 1, 1, 1, 1, "", ""),
    NEG("Neg", 1, 1, 1, 1, "", ""),
    SQRT("Sqrt", 1, 1, 1, 1, "", ""),
    SOFTMAX("Softmax", 1, 1, 1, 1, "axis:I", ""),
    LOG_SOFTMAX("LogSoftmax", 1, 1, 1, 1, "axis:I", ""),
    FLATTEN("Flatten", 1, 1, 1, 1, "axis:I", ""),
    RESHAPE("Reshape", 2, 2, 1, 1, "allowzero:I", ""),
    TRANSPOSE("Transpose", 1, 1, 1, 1, "perm:IS", ""),
    SQUEEZE("Squeeze", 1, 2, 1, 1, "", ""),
    UNSQUEEZE("Unsqueeze", 2, 2, 1, 1, "", ""),
    CONCAT("Concat", 1, Integer.MAX_VALUE, 1, 1, "axis:I!", ""),
    SPLIT("Split", 1, 2, 1, Integer.MAX_VALUE, "axis:I", ""),
    SLICE("Slice", 3, 5, 1, 1, "", ""),
    DROPOUT("Dropout", 1, 3, 1, 2, "seed:I", ""),
    BATCH_NORMALIZATION("BatchNormalization", 5, 5, 1, 3, "epsilon:F momentum:F training_mode:I",
            "1:scale:C 2:bias:C 3:mean:C 4:var:C"),
    LRN("LRN", 1, 1, 1, 1, "alpha:F beta:F bias:F size:I!", ""),
    PAD("Pad", 2, 4, 1, 1, "mode:S", ""),
    CLIP("Clip", 1, 3, 1, 1, "", ""),
    IDENTITY("Identity", 1, 1, 1, 1, "", ""),
    CAST("Cast", 1, 1, 1, 1, "to:I! saturate:I", ""),
    CONSTANT("Constant", 0, 0, 1, 1,
            "value:T sparse_value:O value_float:F value_floats:FS value_int:I value_ints:IS value_string:S value_strings:SS", ""),
    CONSTANT_OF_SHAPE("ConstantOfShape", 1, 1, 1, 1, "value:T", ""),
    SHAPE("Shape", 1, 1, 1, 1, "start:I end:I", ""),
    GATHER("Gather", 2, 2, 1, 1, "axis:I", "");

    private final String opName;
    private final int minIn;
    private final int maxIn;
    private final int minOut;
    private final int maxOut;
    private final List<AttrSpec> attrs;
    private final List<WeightSlot> slots;

    private static final Map<String, Op> BY_NAME = new HashMap<>();

    static {
        for (Op op : values()) {
            BY_NAME.put(op.opName, op);
        }
    }

    Op(String opName, int minIn, int maxIn, int minOut, int maxOut, String attrSpec, String slotSpec) {
        this.opName = opName;
        this.minIn = minIn;
        this.maxIn = maxIn;
        this.minOut = minOut;
        this.maxOut = maxOut;
        List<AttrSpec> a = new ArrayList<>();
        for (String s : attrSpec.split(" ")) {
            if (s.isEmpty()) {
                continue;
            }
            boolean required = s.endsWith("!");
            String[] p = s.replace("!", "").split(":");
            Attr.Kind kind = switch (p[1]) {
                case "I" -> Attr.Kind.INT;
                case "F" -> Attr.Kind.FLOAT;
                case "S" -> Attr.Kind.STRING;
                case "IS" -> Attr.Kind.INTS;
                case "FS" -> Attr.Kind.FLOATS;
                case "SS" -> Attr.Kind.STRINGS;
                case "T" -> Attr.Kind.TENSOR;
                default -> Attr.Kind.OPAQUE;
            };
            a.add(new AttrSpec(p[0], kind, required));
        }
        this.attrs = List.copyOf(a);
        List<WeightSlot> w = new ArrayList<>();
        for (String s : slotSpec.split(" ")) {
            if (!s.isEmpty()) {
                String[] p = s.split(":");
                w.add(new WeightSlot(Integer.parseInt(p[0]), p[1], p[2]));
            }
        }
        this.slots = List.copyOf(w);
    }

    /** The catalogue op for an ONNX (domain, op_type), or null. */
    public static Op find(String domain, String opType) {
        if (domain != null && !domain.isEmpty() && !domain.equals("ai.onnx")) {
            return null;
        }
        return BY_NAME.get(opType);
    }

    @Override
    public String opName() {
        return opName;
    }

    @Override
    public int minInputs() {
        return minIn;
    }

    @Override
    public int maxInputs() {
        return maxIn;
    }

    @Override
    public int minOutputs() {
        return minOut;
    }

    @Override
    public int maxOutputs() {
        return maxOut;
    }

    @Override
    public List<AttrSpec> attributes() {
        return attrs;
    }

    @Override
    public List<WeightSlot> weightSlots() {
        return slots;
    }

    public AttrSpec attribute(String name) {
        for (AttrSpec s : attrs) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** Problems with a node of this op (arity, unknown or mistyped attributes); empty when fine. */
    public List<String> problems(Node n) {
        List<String> p = new ArrayList<>();
        int realIn = n.inputs().size();
        if (realIn < minIn || realIn > maxIn) {
            p.add(opName + " '" + n.name() + "' has " + realIn + " inputs, expects " + range(minIn, maxIn));
        }
        int out = n.outputs().size();
        if (out < minOut || out > maxOut) {
            p.add(opName + " '" + n.name() + "' has " + out + " outputs, expects " + range(minOut, maxOut));
        }
        for (Map.Entry<String, Attr> e : n.attrs().entrySet()) {
            AttrSpec s = attribute(e.getKey());
            if (s == null) {
                p.add(opName + " '" + n.name() + "' has unknown attribute '" + e.getKey() + "'");
            } else if (s.kind() != e.getValue().kind() && !(s.kind() == Attr.Kind.FLOAT && e.getValue().kind() == Attr.Kind.INT)) {
                p.add(opName + " '" + n.name() + "' attribute '" + e.getKey() + "' is " + e.getValue().kind() + ", expects " + s.kind());
            }
        }
        for (AttrSpec s : attrs) {
            if (s.required() && !n.attrs().containsKey(s.name())) {
                p.add(opName + " '" + n.name() + "' lacks required attribute '" + s.name() + "'");
            }
        }
        return p;
    }

    /** Rejects a malformed node when it is built. */
    public void check(Node n) {
        List<String> p = problems(n);
        if (!p.isEmpty()) {
            throw new InvalidGraphException(n.name(), p);
        }
    }

    private static String range(int lo, int hi) {
        return lo == hi ? Integer.toString(lo) : hi == Integer.MAX_VALUE ? "at least " + lo : lo + " to " + hi;
    }
}
