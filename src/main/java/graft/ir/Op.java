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
    CONV("Conv", 2, 3, 1, 1, attrs(s("auto_pad", "NOTSET"), ints("dilations"), i("group", 1), ints("kernel_shape"), ints("pads"),
            ints("strides")), "1:kernel:OIHW 2:bias:O"),
    CONV_TRANSPOSE("ConvTranspose", 2, 3, 1, 1, attrs(s("auto_pad", "NOTSET"), ints("dilations"), i("group", 1), ints("kernel_shape"),
            ints("output_padding"), ints("output_shape"), ints("pads"), ints("strides")), "1:kernel:IOHW 2:bias:O"),
    MAX_POOL("MaxPool", 1, 1, 1, 2, attrs(s("auto_pad", "NOTSET"), i("ceil_mode", 0), ints("dilations"), required(ints("kernel_shape")),
            ints("pads"), i("storage_order", 0), ints("strides")), ""),
    AVERAGE_POOL("AveragePool", 1, 1, 1, 1, attrs(s("auto_pad", "NOTSET"), i("ceil_mode", 0), i("count_include_pad", 0), ints("dilations"),
            required(ints("kernel_shape")), ints("pads"), ints("strides")), ""),
    GLOBAL_AVERAGE_POOL("GlobalAveragePool", 1, 1, 1, 1, attrs(), ""),
    GLOBAL_MAX_POOL("GlobalMaxPool", 1, 1, 1, 1, attrs(), ""),
    GEMM("Gemm", 2, 3, 1, 1, attrs(f("alpha", 1f), f("beta", 1f), i("transA", 0), i("transB", 0)), "1:kernel:KN 2:bias:N"),
    MAT_MUL("MatMul", 2, 2, 1, 1, attrs(), ""),
    ADD("Add", 2, 2, 1, 1, attrs(), ""),
    SUB("Sub", 2, 2, 1, 1, attrs(), ""),
    MUL("Mul", 2, 2, 1, 1, attrs(), ""),
    DIV("Div", 2, 2, 1, 1, attrs(), ""),
    POW("Pow", 2, 2, 1, 1, attrs(), ""),
    MAX("Max", 1, Integer.MAX_VALUE, 1, 1, attrs(), ""),
    MIN("Min", 1, Integer.MAX_VALUE, 1, 1, attrs(), ""),
    SUM("Sum", 1, Integer.MAX_VALUE, 1, 1, attrs(), ""),
    MEAN("Mean", 1, Integer.MAX_VALUE, 1, 1, attrs(), ""),
    RELU("Relu", 1, 1, 1, 1, attrs(), ""),
    LEAKY_RELU("LeakyRelu", 1, 1, 1, 1, attrs(f("alpha", 0.01f)), ""),
    PRELU("PRelu", 2, 2, 1, 1, attrs(), "1:slope:C"),
    ELU("Elu", 1, 1, 1, 1, attrs(f("alpha", 1f)), ""),
    SELU("Selu", 1, 1, 1, 1, attrs(f("alpha", 1.67326319217681884765625f), f("gamma", 1.05070102214813232421875f)), ""),
    THRESHOLDED_RELU("ThresholdedRelu", 1, 1, 1, 1, attrs(f("alpha", 1f)), ""),
    SIGMOID("Sigmoid", 1, 1, 1, 1, attrs(), ""),
    HARD_SIGMOID("HardSigmoid", 1, 1, 1, 1, attrs(f("alpha", 0.2f), f("beta", 0.5f)), ""),
    TANH("Tanh", 1, 1, 1, 1, attrs(), ""),
    SOFTPLUS("Softplus", 1, 1, 1, 1, attrs(), ""),
    SOFTSIGN("Softsign", 1, 1, 1, 1, attrs(), ""),
    EXP("Exp", 1, 1, 1, 1, attrs(), ""),
    LOG("Log", 1, 1, 1, 1, attrs(), ""),
    ABS("Abs", 1, 1, 1, 1, attrs(), ""),
    NEG("Neg", 1, 1, 1, 1, attrs(), ""),
    SQRT("Sqrt", 1, 1, 1, 1, attrs(), ""),
    SOFTMAX("Softmax", 1, 1, 1, 1, attrs(i("axis", -1)), ""),
    LOG_SOFTMAX("LogSoftmax", 1, 1, 1, 1, attrs(i("axis", -1)), ""),
    FLATTEN("Flatten", 1, 1, 1, 1, attrs(i("axis", 1)), ""),
    RESHAPE("Reshape", 2, 2, 1, 1, attrs(i("allowzero", 0)), ""),
    TRANSPOSE("Transpose", 1, 1, 1, 1, attrs(ints("perm")), ""),
    SQUEEZE("Squeeze", 1, 2, 1, 1, attrs(), ""),
    UNSQUEEZE("Unsqueeze", 2, 2, 1, 1, attrs(), ""),
    CONCAT("Concat", 1, Integer.MAX_VALUE, 1, 1, attrs(required(i("axis", 0))), ""),
    SPLIT("Split", 1, 2, 1, Integer.MAX_VALUE, attrs(i("axis", 0)), ""),
    SLICE("Slice", 3, 5, 1, 1, attrs(), ""),
    DROPOUT("Dropout", 1, 3, 1, 2, attrs(optional("seed", Attr.Kind.INT)), ""),
    BATCH_NORMALIZATION("BatchNormalization", 5, 5, 1, 3, attrs(f("epsilon", 1e-5f), f("momentum", 0.9f), i("training_mode", 0)),
            "1:scale:C 2:bias:C 3:mean:C 4:var:C"),
    LRN("LRN", 1, 1, 1, 1, attrs(f("alpha", 1e-4f), f("beta", 0.75f), f("bias", 1f), required(i("size", 0))), ""),
    PAD("Pad", 2, 4, 1, 1, attrs(s("mode", "constant")), ""),
    CLIP("Clip", 1, 3, 1, 1, attrs(), ""),
    IDENTITY("Identity", 1, 1, 1, 1, attrs(), ""),
    CAST("Cast", 1, 1, 1, 1, attrs(required(i("to", 0)), i("saturate", 1)), ""),
    CONSTANT("Constant", 0, 0, 1, 1, attrs(optional("value", Attr.Kind.TENSOR), optional("sparse_value", Attr.Kind.OPAQUE),
            optional("value_float", Attr.Kind.FLOAT), optional("value_floats", Attr.Kind.FLOATS), optional("value_int", Attr.Kind.INT),
            optional("value_ints", Attr.Kind.INTS), optional("value_string", Attr.Kind.STRING), optional("value_strings", Attr.Kind.STRINGS)), ""),
    CONSTANT_OF_SHAPE("ConstantOfShape", 1, 1, 1, 1, attrs(optional("value", Attr.Kind.TENSOR)), ""),
    SHAPE("Shape", 1, 1, 1, 1, attrs(i("start", 0), optional("end", Attr.Kind.INT)), ""),
    GATHER("Gather", 2, 2, 1, 1, attrs(i("axis", 0)), "");

    private final String opName;
    private final int minIn;
    private final int maxIn;
    private final int minOut;
    private final int maxOut;
    private final List<AttrSpec> attrs;
    private final List<WeightSlot> slots;

    private static final Map<String, Op> BY_NAME = new HashMap<>();
    /** Per attribute name, the one default every op declaring it agrees on (absent when they differ or one requires it). */
    private static final Map<String, Attr> SHARED_DEFAULTS = new HashMap<>();

    static {
        Map<String, Boolean> agreed = new HashMap<>();
        for (Op op : values()) {
            BY_NAME.put(op.opName, op);
            for (AttrSpec a : op.attrs) {
                Attr known = SHARED_DEFAULTS.get(a.name());
                boolean same = a.dflt() != null && (!agreed.containsKey(a.name()) || a.dflt().equals(known));
                agreed.merge(a.name(), same, Boolean::logicalAnd);
                SHARED_DEFAULTS.putIfAbsent(a.name(), a.dflt());
            }
        }
        agreed.forEach((name, ok) -> {
            if (!ok) {
                SHARED_DEFAULTS.remove(name);
            }
        });
        SHARED_DEFAULTS.values().removeIf(java.util.Objects::isNull);
    }

    /**
     * ONNX's default for an attribute that every catalogue op declaring it agrees on (for
     * example {@code ceil_mode} 0, {@code group} 1, {@code auto_pad} NOTSET), or null when the ops
     * differ ({@code axis}, {@code alpha}), one requires it, or no op has it. It is what a node
     * whose op lacks the attribute reads (a Conv asked for {@code ceil_mode} by a helper shared
     * with pooling).
     */
    public static Attr sharedDefault(String name) {
        return SHARED_DEFAULTS.get(name);
    }

    Op(String opName, int minIn, int maxIn, int minOut, int maxOut, List<AttrSpec> attrs, String slotSpec) {
        this.opName = opName;
        this.minIn = minIn;
        this.maxIn = maxIn;
        this.minOut = minOut;
        this.maxOut = maxOut;
        this.attrs = attrs;
        List<WeightSlot> w = new ArrayList<>();
        for (String s : slotSpec.split(" ")) {
            if (!s.isEmpty()) {
                String[] p = s.split(":");
                w.add(new WeightSlot(Integer.parseInt(p[0]), p[1], p[2]));
            }
        }
        this.slots = List.copyOf(w);
    }

    // Typed attribute specs: the kind is the factory's, the default is ONNX's (opset 17); a spec
    // without a default (list attributes whose default depends on the input's rank) gives none.
    private static List<AttrSpec> attrs(AttrSpec... specs) {
        return List.of(specs);
    }

    private static AttrSpec i(String name, long dflt) {
        return new AttrSpec(name, Attr.Kind.INT, false, Attr.of(dflt));
    }

    private static AttrSpec f(String name, float dflt) {
        return new AttrSpec(name, Attr.Kind.FLOAT, false, Attr.of(dflt));
    }

    private static AttrSpec s(String name, String dflt) {
        return new AttrSpec(name, Attr.Kind.STRING, false, Attr.of(dflt));
    }

    private static AttrSpec ints(String name) {
        return new AttrSpec(name, Attr.Kind.INTS, false, null);
    }

    private static AttrSpec optional(String name, Attr.Kind kind) {
        return new AttrSpec(name, kind, false, null);
    }

    /** A required attribute: no default, whatever the factory gave. */
    private static AttrSpec required(AttrSpec a) {
        return new AttrSpec(a.name(), a.kind(), true, null);
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
