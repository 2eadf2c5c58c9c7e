package graft.deploy;

import graft.error.UnsupportedModelException;
import graft.error.UsageException;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.Half;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.ShapeInference;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.ir.WeightData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Half precision ({@code convert --fp16}): weights and compute in float16, except the ops that
 * lose accuracy in half, which stay float32 behind Casts: {@link #KEPT_FLOAT32}. Weights become
 * exactly {@code float16(w)} (round half to even, as numpy's {@code astype}); a finite float32
 * weight beyond float16's range (65504) is refused by name rather than turned into infinity. With
 * {@code keepIoFloat32} (the default) the model's inputs and outputs stay float32, with a Cast at
 * each boundary.
 */
public final class Fp16 {
    /**
     * Ops computed in float32 inside a float16 model: Softmax/LogSoftmax (exponentials of large
     * logits), BatchNormalization (variance + epsilon underflows in half; fold it into the
     * convolution first to halve it too), Exp, Log, Pow, Softplus and LRN (a sum of squares); also
     * every Reduce* op (ReduceMean over a large axis), which graft carries outside its catalogue.
     */
    public static final Set<Op> KEPT_FLOAT32 = EnumSet.of(Op.SOFTMAX, Op.LOG_SOFTMAX, Op.BATCH_NORMALIZATION, Op.EXP, Op.LOG, Op.POW,
            Op.SOFTPLUS, Op.LRN);

    /** Ops computed in float16: every float input is a T input. */
    private static final Set<Op> HALF = EnumSet.of(Op.CONV, Op.CONV_TRANSPOSE, Op.MAX_POOL, Op.AVERAGE_POOL, Op.GLOBAL_AVERAGE_POOL,
            Op.GLOBAL_MAX_POOL, Op.GEMM, Op.MAT_MUL, Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.MAX, Op.MIN, Op.SUM, Op.MEAN, Op.RELU, Op.LEAKY_RELU,
            Op.PRELU, Op.ELU, Op.SELU, Op.THRESHOLDED_RELU, Op.SIGMOID, Op.HARD_SIGMOID, Op.TANH, Op.SOFTSIGN, Op.ABS, Op.NEG, Op.SQRT,
            Op.CLIP, Op.CONCAT);

    /** Ops that move data of any type: they run in the precision of their first input. */
    private static final Set<Op> FOLLOW = EnumSet.of(Op.FLATTEN, Op.RESHAPE, Op.TRANSPOSE, Op.SQUEEZE, Op.UNSQUEEZE, Op.SPLIT, Op.SLICE,
            Op.PAD, Op.IDENTITY, Op.DROPOUT, Op.GATHER);

    /** Ops that make values of their own type (an attribute's, int64 shapes): no float input to convert. */
    private static final Set<Op> SOURCES = EnumSet.of(Op.CONSTANT, Op.CONSTANT_OF_SHAPE, Op.SHAPE, Op.CAST);

    /** Ops outside graft's catalogue whose float data is their first input: Resize/Upsample follow it (scales, roi stay float32). */
    private static final Set<String> FOLLOW_OPAQUE = Set.of("Resize", "Upsample");

    /** Reductions outside the catalogue: computed in float32 on their first input (a sum over a large axis overflows half). */
    private static boolean reduction(Node n) {
        return n.op() == null && n.opType().startsWith("Reduce") && (n.domain() == null || n.domain().isEmpty() || n.domain().equals("ai.onnx"));
    }

    /** What the pass did, for the command's report and the model's metadata. */
    public record Report(int weightsHalved, long bytesBefore, long bytesAfter, int casts, Map<String, Integer> keptFloat32) {
        public String describe() {
            return String.format(Locale.ROOT, "float16: %d weight tensors halved (%,d -> %,d bytes), %d Casts added%s", weightsHalved,
                    bytesBefore, bytesAfter, casts, keptFloat32.isEmpty() ? "" : "; kept in float32: " + kept(keptFloat32));
        }

        /** "BatchNormalization x3, Softmax x1". */
        static String kept(Map<String, Integer> counts) {
            List<String> r = new ArrayList<>();
            counts.forEach((op, n) -> r.add(op + " x" + n));
            return String.join(", ", r);
        }
    }

    private final Graph g;
    private final boolean keepIo;
    private final Map<String, DataType> type = new HashMap<>();
    /** Casts made so far: "value->float16" to the Cast's output. */
    private final Map<String, String> casts = new HashMap<>();
    private final List<Node> out = new ArrayList<>();
    private final Map<String, Integer> kept = new TreeMap<>();

    private Fp16(Graph g, boolean keepIo) {
        this.g = g;
        this.keepIo = keepIo;
    }

    /** Converts {@code g} in place; throws before changing anything when the model cannot be halved exactly. */
    public static Report convert(Graph g, boolean keepIoFloat32) {
        ShapeInference.run(g);
        Fp16 p = new Fp16(g, keepIoFloat32);
        Set<String> halve = p.check();
        return p.rewrite(halve);
    }

    private static boolean isFloat(DataType t) {
        return t == DataType.FLOAT || t == DataType.FLOAT16;
    }

    /** Preconditions; returns the initializers to halve (float32, read only as T inputs of float16 ops). */
    private Set<String> check() {
        for (Value v : g.inputs()) {
            TensorType t = g.type(v.name()) != null ? g.type(v.name()) : v.type();
            if (t != null && (t.dtype() == DataType.FLOAT16 || t.dtype() == DataType.DOUBLE)) {
                throw new UsageException("model '" + g.name() + "': input '" + v.name() + "' is already " + t.dtype().lowerName()
                        + "; --fp16 converts float32 models");
            }
        }
        List<String> opaque = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.op() == null && !reduction(n) && !(FOLLOW_OPAQUE.contains(n.opType()) && (n.domain() == null || n.domain().isEmpty()))) {
                opaque.add(n.opType() + " '" + n.name() + "'");
            } else if (n.op() != null && !HALF.contains(n.op()) && !KEPT_FLOAT32.contains(n.op()) && !FOLLOW.contains(n.op())
                    && !SOURCES.contains(n.op())) {
                // a catalogue op this pass has no rule for (added after it): refused, never guessed
                opaque.add(n.opType() + " '" + n.name() + "'");
            }
        }
        if (!opaque.isEmpty()) {
            throw new UnsupportedModelException("model '" + g.name() + "' cannot be halved: " + graft.error.Refusals.list(
                    opaque.stream().map(s -> s + " has no float16 rule (which of its inputs are float is unknown)").toList(), "; "), opaque);
        }
        Map<String, Boolean> onlyHalfT = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            for (int i = 0; i < n.inputs().size(); i++) {
                String in = n.input(i);
                Weight w = in.isEmpty() ? null : g.initializer(in);
                if (w == null) {
                    continue;
                }
                if (w.dtype() == DataType.FLOAT16 && HALF.contains(n.op())) {
                    throw new UsageException("model '" + g.name() + "': weight '" + in + "' is already float16; --fp16 converts float32 models");
                }
                boolean halfT = w.dtype() == DataType.FLOAT && HALF.contains(n.op());
                onlyHalfT.merge(in, halfT, (a, b) -> a && b);
            }
        }
        Set<String> halve = new HashSet<>();
        List<String> beyond = new ArrayList<>();
        for (var e : onlyHalfT.entrySet()) {
            if (!e.getValue()) {
                continue;
            }
            Weight w = g.initializer(e.getKey());
            float worst = maxFiniteAbs(w);
            if (worst > 65504f) {
                beyond.add(String.format(Locale.ROOT, "'%s' (max |w| %.6g)", w.name(), worst));
            }
            halve.add(e.getKey());
        }
        if (!beyond.isEmpty()) {
            throw new UnsupportedModelException("model '" + g.name() + "' cannot be halved exactly: " + beyond.size()
                    + " weight tensor(s) hold values beyond float16's range (65504), which would become infinite: "
                    + String.join(", ", beyond.subList(0, Math.min(5, beyond.size()))) + (beyond.size() > 5 ? " and " + (beyond.size() - 5) + " more" : ""),
                    beyond);
        }
        return halve;
    }

    private static float maxFiniteAbs(Weight w) {
        FloatBuffer f = w.buffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float m = 0;
        for (int i = 0; i < f.limit(); i++) {
            float v = Math.abs(f.get(i));
            if (v > m && Float.isFinite(v)) {
                m = v;
            }
        }
        return m;
    }

    private Report rewrite(Set<String> halve) {
        long before = 0;
        long after = 0;
        for (Weight w : g.initializers().values()) {
            type.put(w.name(), w.dtype());
            before += w.byteSize();
        }
        for (String name : halve) {
            Weight w = g.initializer(name);
            g.addInitializer(halved(w));
            type.put(name, DataType.FLOAT16);
        }
        for (Weight w : g.initializers().values()) {
            after += w.byteSize();
        }
        List<Value> inputs = new ArrayList<>(g.inputs());
        for (int i = 0; i < inputs.size(); i++) {
            Value v = inputs.get(i);
            TensorType t = g.type(v.name()) != null ? g.type(v.name()) : v.type();
            DataType dt = t == null ? DataType.FLOAT : t.dtype();
            if (!keepIo && dt == DataType.FLOAT) {
                TensorType half = new TensorType(DataType.FLOAT16, t == null ? null : t.shape());
                g.inputs().set(i, new Value(v.name(), half));
                g.types().put(v.name(), half);
                dt = DataType.FLOAT16;
            }
            type.put(v.name(), dt);
        }
        for (Node n : g.nodes()) {
            visit(n);
        }
        for (int i = 0; i < g.outputs().size(); i++) {
            Value v = g.outputs().get(i);
            DataType have = type.getOrDefault(v.name(), DataType.FLOAT);
            DataType want = keepIo ? DataType.FLOAT : DataType.FLOAT16;
            if (isFloat(have) && have != want) {
                // the producer writes an inner name; a Cast makes the output under its own name
                String inner = fresh(v.name() + (have == DataType.FLOAT16 ? "_fp16" : "_fp32"));
                String layer = renameProduced(v.name(), inner);
                out.add(castNode(inner, v.name(), want, layer));
            }
        }
        g.nodes().clear();
        g.nodes().addAll(out);
        // declared types keep their shapes and take the precision the pass gave them (an opaque node's
        // declared output is all shape inference knows of it)
        for (var e : new ArrayList<>(g.types().entrySet())) {
            DataType t = type.get(e.getKey());
            if (t != null && e.getValue() != null && isFloat(e.getValue().dtype()) && g.initializer(e.getKey()) == null) {
                g.types().put(e.getKey(), new TensorType(t, e.getValue().shape()));
            }
        }
        List<Value> outs = new ArrayList<>();
        for (Value v : g.outputs()) {
            TensorType t = v.type() != null ? v.type() : g.type(v.name());
            DataType now = type.getOrDefault(v.name(), t == null ? DataType.FLOAT : t.dtype());
            DataType dt = isFloat(now) ? (keepIo ? DataType.FLOAT : DataType.FLOAT16) : now;
            TensorType nt = t == null ? null : new TensorType(dt, t.shape());
            outs.add(new Value(v.name(), nt));
            if (nt != null) {
                g.types().put(v.name(), nt);
            }
        }
        g.outputs().clear();
        g.outputs().addAll(outs);
        ShapeInference.run(g);
        GraphValidator.check(g);
        int castCount = (int) g.nodes().stream().filter(n -> n.op() == Op.CAST && n.name().startsWith("graft_fp16/")).count();
        Report r = new Report(halve.size(), before, after, castCount, kept);
        g.metadata().put("graft.precision", "float16" + (kept.isEmpty() ? "" : " (kept in float32: " + Report.kept(kept) + ")"));
        g.addProvenance("fp16" + (keepIo ? "" : " --no-keep-io-float32"));
        return r;
    }

    private void visit(Node n) {
        Op op = n.op();
        List<String> in = new ArrayList<>(n.inputs());
        DataType result;
        if (op == null) {
            // a reduction (float32 on its data input) or Resize/Upsample (the data input's precision); other inputs untouched
            if (reduction(n)) {
                kept.merge(n.opType(), 1, Integer::sum);
                in.set(0, as(in.get(0), DataType.FLOAT, n.layer()));
                result = DataType.FLOAT;
            } else {
                result = type.getOrDefault(in.get(0), DataType.FLOAT);
            }
        } else if (HALF.contains(op) || KEPT_FLOAT32.contains(op)) {
            DataType want = HALF.contains(op) ? DataType.FLOAT16 : DataType.FLOAT;
            if (want == DataType.FLOAT) {
                kept.merge(op.opName(), 1, Integer::sum);
            }
            for (int i = 0; i < in.size(); i++) {
                in.set(i, as(in.get(i), want, n.layer()));
            }
            result = want;
        } else if (FOLLOW.contains(op)) {
            DataType first = type.getOrDefault(in.get(0), DataType.FLOAT);
            if (op == Op.PAD && in.size() > 2) {
                in.set(2, as(in.get(2), first, n.layer()));
            }
            result = first;
        } else {
            result = null; // SOURCES: their own output types
        }
        Node m = n.withInputs(in);
        out.add(m);
        for (int k = 0; k < n.outputs().size(); k++) {
            String o = n.output(k);
            if (o.isEmpty()) {
                continue;
            }
            DataType t;
            if (op == Op.DROPOUT && k == 1) {
                t = DataType.BOOL;
            } else if (result != null) {
                t = result;
            } else {
                t = producedType(n);
            }
            type.put(o, t);
        }
    }

    /** Output type of a {@link #SOURCES} node. */
    private DataType producedType(Node n) {
        return switch (n.op()) {
            case SHAPE -> DataType.INT64;
            case CAST -> DataType.fromCode((int) n.intAttr("to", 1));
            default -> {
                TensorType t = g.type(n.output(0));
                yield t == null ? DataType.FLOAT : t.dtype();
            }
        };
    }

    /** {@code value} as {@code want}: itself when it is not a float or already that type, else a (shared) Cast. */
    private String as(String value, DataType want, String layer) {
        if (value.isEmpty()) {
            return value;
        }
        DataType have = type.get(value);
        if (have == null || !isFloat(have) || have == want) {
            return value;
        }
        String key = value + "->" + want;
        String made = casts.get(key);
        if (made == null) {
            made = fresh(value + (want == DataType.FLOAT16 ? "_fp16" : "_fp32"));
            out.add(castNode(value, made, want, layer));
            type.put(made, want);
            casts.put(key, made);
        }
        return made;
    }

    /** A Cast belongs to the layer it serves (the reader's, or for an output the producer's), so layer tables keep their rows. */
    private Node castNode(String from, String to, DataType t, String layer) {
        return Node.of(Op.CAST, "graft_fp16/" + to, layer, List.of(from), List.of(to), Map.of("to", Attr.of((long) t.code())));
    }

    private final Set<String> used = new HashSet<>();

    private String fresh(String base) {
        if (used.isEmpty()) {
            g.inputs().forEach(v -> used.add(v.name()));
            g.initializers().keySet().forEach(used::add);
            for (Node n : g.nodes()) {
                used.addAll(n.outputs());
            }
        }
        String s = base;
        for (int i = 1; used.contains(s); i++) {
            s = base + "_" + i;
        }
        used.add(s);
        return s;
    }

    /** The node in {@link #out} that makes {@code value} makes {@code inner} instead, and every reader reads {@code inner}. */
    private String renameProduced(String value, String inner) {
        String layer = value;
        for (int i = 0; i < out.size(); i++) {
            Node n = out.get(i);
            List<String> o = new ArrayList<>(n.outputs());
            List<String> in = new ArrayList<>(n.inputs());
            o.replaceAll(s -> s.equals(value) ? inner : s);
            in.replaceAll(s -> s.equals(value) ? inner : s);
            if (n.outputs().contains(value)) {
                layer = n.layer();
            }
            out.set(i, n.withOutputs(o).withInputs(in));
        }
        type.put(inner, type.get(value));
        return layer;
    }

    /** float16(w), computed when the weight is written (one half-size buffer, no float32 copy when the source is mapped). */
    static Weight halved(Weight w) {
        long n = w.elementCount();
        long[] shape = w.shape();
        WeightData d = WeightData.lazy(n * 2, () -> {
            FloatBuffer f = w.buffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(n * 2)).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                b.putShort(Half.fromFloat(f.get(i)));
            }
            return b.flip();
        });
        return new Weight(w.name(), DataType.FLOAT16, shape, d);
    }
}
