package graft.deploy;

import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.ShapeInference;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.ir.WeightData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Post-training INT8 quantization in QDQ form ({@code graft quantize}): the float model stays,
 * with QuantizeLinear/DequantizeLinear pairs that say which values are 8-bit, so that ONNX
 * Runtime (or any runtime) may fuse them into integer kernels. The arithmetic, which
 * fixtures/deploy/qdq_oracle.py re-implements in numpy:
 * <ul>
 * <li>weights of Conv, Gemm and MatMul: symmetric int8 in [-127, 127], one scale per output
 * channel ({@code max|w_c| / 127}, a float32; 1 where the channel is all zero) or one per
 * tensor with {@code perTensor}; {@code q = clip(rint(w / s), -127, 127)} in float32, round half
 * to even; zero point 0;</li>
 * <li>their bias: int32, scale {@code s_x * s_w[c]} (float32 product), zero point 0;</li>
 * <li>activations (every float input of those nodes, and their output, or the output of the one
 * Relu that alone reads it: {@link #quantizedOutput}; where a node reads it): uint8,
 * per tensor, from the calibrated range widened to hold 0: {@code s = (max - min) / 255}
 * (1 when the range is empty), {@code zp = rint(-min / s)} clipped to [0, 255]. Every reader of
 * such a value reads its dequantized copy; a graph output stays the float value.</li>
 * </ul>
 * {@code dynamic} quantizes only the weights of Gemm and MatMul (no calibration): the
 * activations stay float.
 */
public final class Quantize {
    /** Ops whose float inputs graft refuses to quantize again: a model holding one is already quantized. */
    private static final Set<String> QUANTIZED_OPS = Set.of("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv",
            "QLinearMatMul", "ConvInteger", "MatMulInteger", "QLinearAdd", "QLinearMul", "QGemm");

    /** Calibration method. */
    public enum Method { MINMAX, PERCENTILE, ENTROPY }

    /** What to quantize and how. */
    public record Settings(Method method, double percentile, boolean perTensor, Set<String> exclude, boolean dynamic) {
        public String describe() {
            return (dynamic ? "dynamic (weights only)" : "static, " + (method == Method.MINMAX ? "minmax" : method == Method.ENTROPY ? "entropy" : "percentile:" + fmt(percentile)))
                    + (perTensor ? ", per-tensor weights" : ", per-channel weights");
        }
    }

    /** A calibrated activation: observed range, then the quantization it gives. */
    public record Range(String tensor, String layer, float min, float max, float scale, int zeroPoint) {
    }

    /** A quantized weight tensor. */
    public record WeightQ(String layer, String weight, String op, int scales, float maxAbs, boolean bias) {
    }

    /** The nodes to quantize and the activation values whose ranges calibration must measure. */
    public record Plan(List<Node> targets, List<String> activations, List<String> excluded) {
    }

    /** What the pass did. */
    public record Report(List<Range> activations, List<WeightQ> weights, int nodes, List<String> excluded, long bytesBefore, long bytesAfter) {
        public String describe() {
            return String.format(Locale.ROOT, "int8: %d nodes quantized (%d weight tensors, %d activations), %,d -> %,d weight bytes%s", nodes,
                    weights.size(), activations.size(), bytesBefore, bytesAfter, excluded.isEmpty() ? "" : "; kept float: " + String.join(", ", excluded));
        }
    }

    private Quantize() {
    }

    static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    /** Refuses an already-quantized model; chooses the nodes and the activations to calibrate. */
    public static Plan plan(Graph g, Settings s) {
        return plan(g, s, g.name());
    }

    /** As {@link #plan(Graph, Settings)}, naming the model {@code model} (its file) in refusals. */
    public static Plan plan(Graph g, Settings s, String model) {
        ShapeInference.run(g);
        List<String> quantized = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.op() == null && QUANTIZED_OPS.contains(n.opType()) && (n.domain() == null || n.domain().isEmpty()
                    || n.domain().equals("ai.onnx") || n.domain().equals("com.microsoft"))) {
                quantized.add(n.opType() + " '" + n.name() + "'");
            }
        }
        for (Weight w : g.initializers().values()) {
            if (w.dtype() == DataType.INT8 || w.dtype() == DataType.UINT8) {
                quantized.add(w.dtype().lowerName() + " weight '" + w.name() + "'");
            }
        }
        if (!quantized.isEmpty()) {
            throw new UnsupportedModelException("model '" + model + "' is already quantized (" + String.join(", ",
                    quantized.subList(0, Math.min(3, quantized.size()))) + (quantized.size() > 3 ? " and " + (quantized.size() - 3) + " more" : "")
                    + "); quantize its float model instead", quantized);
        }
        List<Node> targets = new ArrayList<>();
        List<String> excluded = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!quantizable(g, n, s.dynamic())) {
                continue;
            }
            if (s.exclude().contains(n.layer())) {
                excluded.add(n.layer());
                continue;
            }
            targets.add(n);
        }
        Set<String> acts = new LinkedHashSet<>();
        if (!s.dynamic()) {
            Set<String> wanted = new HashSet<>();
            Set<String> graphOutputs = new HashSet<>();
            g.outputs().forEach(v -> graphOutputs.add(v.name()));
            for (Node n : targets) {
                wanted.add(n.input(0));
                wanted.add(quantizedOutput(g, n, graphOutputs));
            }
            Map<String, Integer> readers = new HashMap<>();
            for (Node n : g.nodes()) {
                n.inputs().forEach(i -> readers.merge(i, 1, Integer::sum));
            }
            // in the order the values are made: graph inputs, then node outputs
            List<String> order = new ArrayList<>();
            g.inputs().forEach(v -> order.add(v.name()));
            g.nodes().forEach(n -> order.addAll(n.outputs()));
            for (String v : order) {
                TensorType t = g.type(v);
                if (wanted.contains(v) && readers.containsKey(v) && t != null && t.dtype() == DataType.FLOAT && g.initializer(v) == null) {
                    acts.add(v);
                }
            }
        }
        return new Plan(targets, new ArrayList<>(acts), excluded);
    }

    /**
     * The value after {@code n} that is quantized: its output, or, where that output is read by one
     * Relu only and is not a graph output, the Relu's output. ONNX Runtime folds a Relu followed by
     * a QuantizeLinear whose zero point is the type's minimum into that QuantizeLinear, so the
     * Conv/Gemm feeds the QuantizeLinear directly and becomes one integer node with its requantized
     * output; a QuantizeLinear before the Relu as well left a float DequantizeLinear/QuantizeLinear
     * pair between every Conv and the next (measured on VGG16: 16 such pairs after ONNX Runtime's
     * optimization, bench/quantize_latency.sh).
     */
    static String quantizedOutput(Graph g, Node n, Set<String> graphOutputs) {
        String out = n.output(0);
        List<Node> readers = g.consumers(out);
        if (readers.size() == 1 && readers.get(0).op() == Op.RELU && !graphOutputs.contains(out)) {
            return readers.get(0).output(0);
        }
        return out;
    }

    /** Conv, Gemm (alpha = beta = 1, no transA) or MatMul whose weight is a float32 initializer (dynamic: Gemm and MatMul only). */
    private static boolean quantizable(Graph g, Node n, boolean dynamic) {
        if (n.op() == null || n.inputs().size() < 2) {
            return false;
        }
        Weight w = g.initializer(n.input(1));
        if (w == null || w.dtype() != DataType.FLOAT) {
            return false;
        }
        TensorType x = g.type(n.input(0));
        if (x == null || x.dtype() != DataType.FLOAT || g.initializer(n.input(0)) != null) {
            return false;
        }
        return switch (n.op()) {
            case CONV -> !dynamic && w.shape().length >= 3 && biasOk(g, n, w.shape()[0]);
            case GEMM -> w.shape().length == 2 && n.floatAttr("alpha") == 1f && n.floatAttr("beta") == 1f && n.intAttr("transA") == 0
                    && biasOk(g, n, w.shape()[n.intAttr("transB") == 1 ? 0 : 1]);
            case MAT_MUL -> w.shape().length == 2;
            default -> false;
        };
    }

    /** No bias, or a float32 initializer of one value per output channel. */
    private static boolean biasOk(Graph g, Node n, long channels) {
        if (n.inputs().size() < 3 || n.input(2).isEmpty()) {
            return true;
        }
        Weight b = g.initializer(n.input(2));
        return b != null && b.dtype() == DataType.FLOAT && b.shape().length == 1 && b.shape()[0] == channels;
    }

    /** The output-channel axis of a target's weight. */
    static int channelAxis(Node n) {
        return switch (n.op()) {
            case CONV -> 0;
            case GEMM -> n.intAttr("transB") == 1 ? 0 : 1;
            default -> 1;
        };
    }

    /** Scale and zero point of a uint8 activation observed in [min, max] (the range widened to hold 0). */
    public static Range range(String tensor, String layer, float min, float max) {
        double lo = Math.min(min, 0f);
        double hi = Math.max(max, 0f);
        float scale = (float) ((hi - lo) / 255.0);
        if (!(scale > 0) || !Float.isFinite(scale)) {
            scale = 1f;
        }
        int zp = (int) Math.max(0, Math.min(255, Math.rint(-lo / scale)));
        return new Range(tensor, layer, min, max, scale, zp);
    }

    /**
     * Rewrites {@code g} in place: QDQ pairs on the planned activations (ranges from calibration,
     * [min, max] per value; none with dynamic), int8 weights and int32 biases behind DequantizeLinear.
     */
    public static Report apply(Graph g, Plan p, Map<String, float[]> observed, Settings s) {
        long before = g.initializers().values().stream().mapToLong(Weight::byteSize).sum();
        Names names = new Names(g);
        Map<String, Node> producer = new HashMap<>();
        for (Node n : g.nodes()) {
            n.outputs().forEach(o -> producer.put(o, n));
        }
        Map<String, Range> ranges = new LinkedHashMap<>();
        for (String a : p.activations()) {
            float[] mm = observed.get(a);
            Node made = producer.get(a);
            String layer = made != null ? made.layer() : g.consumers(a).get(0).layer();
            ranges.put(a, range(a, layer, mm[0], mm[1]));
        }
        Map<String, String> dq = new HashMap<>();
        List<Node> out = new ArrayList<>();
        for (Value v : g.inputs()) {
            Range r = ranges.get(v.name());
            if (r != null) {
                dq.put(v.name(), qdq(g, names, r, out));
            }
        }
        List<WeightQ> weights = new ArrayList<>();
        Map<String, String> dqWeights = new HashMap<>();
        Set<Node> targets = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        targets.addAll(p.targets());
        for (Node n : g.nodes()) {
            List<String> in = new ArrayList<>(n.inputs());
            for (int i = 0; i < in.size(); i++) {
                String d = dq.get(in.get(i));
                if (d != null) {
                    in.set(i, d);
                }
            }
            if (targets.contains(n)) {
                int axis = channelAxis(n);
                String wName = n.input(1);
                String key = wName + "@" + axis;
                String wq = dqWeights.get(key);
                float[] wScales;
                if (wq == null) {
                    Weight w = g.initializer(wName);
                    float[] f = w.toFloats();
                    long[] shape = w.shape();
                    wScales = weightScales(f, shape, s.perTensor() ? -1 : axis);
                    byte[] q = quantizeWeight(f, shape, s.perTensor() ? -1 : axis, wScales);
                    String base = names.fresh(wName + "_quantized");
                    g.addInitializer(new Weight(base, DataType.INT8, shape, WeightData.of(ByteBuffer.allocateDirect(q.length).put(q).flip())));
                    String sc = names.fresh(wName + "_scale");
                    String zp = names.fresh(wName + "_zero_point");
                    long[] vs = s.perTensor() ? new long[0] : new long[] {wScales.length};
                    g.addInitializer(floats(sc, vs, wScales));
                    g.addInitializer(new Weight(zp, DataType.INT8, vs, WeightData.of(ByteBuffer.allocateDirect(wScales.length))));
                    wq = names.fresh(wName + "_dequantized");
                    out.add(dequantize(names, base, sc, zp, wq, s.perTensor() ? null : (long) axis, n.layer()));
                    dqWeights.put(key, wq);
                    dqWeights.put(key + "#scales", sc);
                    weights.add(new WeightQ(n.layer(), wName, n.opType(), wScales.length, maxAbs(f), false));
                }
                in.set(1, wq);
                wScales = g.initializer(dqWeights.get(key + "#scales")).toFloats();
                if (in.size() > 2 && !in.get(2).isEmpty() && !s.dynamic()) {
                    Range rx = ranges.get(n.input(0));
                    Weight b = g.initializer(n.input(2));
                    float[] bf = b.toFloats();
                    float[] bScales = new float[bf.length];
                    int[] bq = new int[bf.length];
                    for (int c = 0; c < bf.length; c++) {
                        bScales[c] = rx.scale() * wScales[wScales.length == 1 ? 0 : c];
                        bq[c] = quantizeBias(bf[c], bScales[c]);
                    }
                    String base = names.fresh(b.name() + "_quantized");
                    ByteBuffer bb = ByteBuffer.allocateDirect(bq.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    bb.asIntBuffer().put(bq);
                    g.addInitializer(new Weight(base, DataType.INT32, b.shape(), WeightData.of(bb)));
                    String sc = names.fresh(b.name() + "_scale");
                    boolean one = wScales.length == 1;
                    g.addInitializer(floats(sc, one ? new long[0] : new long[] {bScales.length}, one ? new float[] {bScales[0]} : bScales));
                    String deq = names.fresh(b.name() + "_dequantized");
                    out.add(dequantize(names, base, sc, null, deq, one ? null : 0L, n.layer()));
                    in.set(2, deq);
                    weights.add(new WeightQ(n.layer(), b.name(), n.opType(), one ? 1 : bScales.length, maxAbs(bf), true));
                }
            }
            out.add(n.withInputs(in));
            for (String o : n.outputs()) {
                Range r = ranges.get(o);
                if (r != null) {
                    dq.put(o, qdq(g, names, r, out));
                }
            }
        }
        g.nodes().clear();
        g.nodes().addAll(out);
        Set<String> read = new HashSet<>();
        g.nodes().forEach(n -> read.addAll(n.inputs()));
        g.outputs().forEach(v -> read.add(v.name()));
        g.initializers().keySet().removeIf(k -> !read.contains(k));
        ShapeInference.run(g);
        GraphValidator.check(g);
        long after = g.initializers().values().stream().mapToLong(Weight::byteSize).sum();
        g.metadata().put("graft.precision", "int8 QDQ (" + s.describe() + ")");
        g.addProvenance("quantize " + s.describe() + (p.excluded().isEmpty() ? "" : " --exclude " + String.join(" ", p.excluded())));
        return new Report(new ArrayList<>(ranges.values()), weights, p.targets().size(), p.excluded(), before, after);
    }

    private static float maxAbs(float[] f) {
        float m = 0;
        for (float v : f) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** Per output channel along {@code axis} (or one for the tensor, axis -1): max|w| / 127 as a float32, 1 for an all-zero channel. */
    static float[] weightScales(float[] w, long[] shape, int axis) {
        int channels = axis < 0 ? 1 : (int) shape[axis];
        float[] m = new float[channels];
        int inner = inner(shape, axis);
        for (int i = 0; i < w.length; i++) {
            int c = axis < 0 ? 0 : (i / inner) % channels;
            m[c] = Math.max(m[c], Math.abs(w[i]));
        }
        float[] s = new float[channels];
        for (int c = 0; c < channels; c++) {
            s[c] = m[c] > 0 ? (float) (m[c] / 127.0) : 1f;
        }
        return s;
    }

    private static int inner(long[] shape, int axis) {
        int inner = 1;
        for (int d = axis + 1; axis >= 0 && d < shape.length; d++) {
            inner *= (int) shape[d];
        }
        return inner;
    }

    /** clip(rint(w / s), -127, 127), the division in float32. */
    static byte[] quantizeWeight(float[] w, long[] shape, int axis, float[] scales) {
        byte[] q = new byte[w.length];
        int inner = inner(shape, axis);
        for (int i = 0; i < w.length; i++) {
            float s = scales[axis < 0 ? 0 : (i / inner) % scales.length];
            q[i] = (byte) Math.max(-127, Math.min(127, Math.rint(w[i] / s)));
        }
        return q;
    }

    /** rint(b / s) (float32 division) saturated to int32; a zero scale (a zero weight channel cannot give one: its scale is 1) gives 0. */
    static int quantizeBias(float b, float s) {
        double q = s == 0f ? 0 : Math.rint(b / s);
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, q));
    }

    private static Weight floats(String name, long[] shape, float[] v) {
        return Weight.ofFloats(name, shape, v);
    }

    /** QuantizeLinear + DequantizeLinear of an activation; returns the dequantized value's name. */
    private static String qdq(Graph g, Names names, Range r, List<Node> out) {
        String v = r.tensor();
        String sc = names.fresh(v + "_scale");
        String zp = names.fresh(v + "_zero_point");
        g.addInitializer(floats(sc, new long[0], new float[] {r.scale()}));
        g.addInitializer(new Weight(zp, DataType.UINT8, new long[0], WeightData.of(ByteBuffer.allocateDirect(1).put((byte) r.zeroPoint()).flip())));
        String q = names.fresh(v + "_quantized");
        String d = names.fresh(v + "_dequantized");
        out.add(new Node("graft_int8/" + q, "QuantizeLinear", "", r.layer(), List.of(v, sc, zp), List.of(q), Map.of(), Map.of()));
        out.add(dequantize(names, q, sc, zp, d, null, r.layer()));
        return d;
    }

    private static Node dequantize(Names names, String x, String scale, String zp, String y, Long axis, String layer) {
        List<String> in = zp == null ? List.of(x, scale) : List.of(x, scale, zp);
        Map<String, Attr> attrs = axis == null ? Map.of() : Map.of("axis", Attr.of(axis.longValue()));
        return new Node("graft_int8/" + y, "DequantizeLinear", "", layer, in, List.of(y), attrs, Map.of());
    }

    /** Fresh value names. */
    private static final class Names {
        private final Set<String> used = new HashSet<>();

        Names(Graph g) {
            g.inputs().forEach(v -> used.add(v.name()));
            used.addAll(g.initializers().keySet());
            for (Node n : g.nodes()) {
                used.addAll(n.outputs());
                used.addAll(n.inputs());
            }
        }

        String fresh(String base) {
            String s = base;
            for (int i = 1; used.contains(s); i++) {
                s = base + "_" + i;
            }
            used.add(s);
            return s;
        }
    }
}
