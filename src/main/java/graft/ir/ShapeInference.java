package graft.ir;

import static graft.ir.ShapeFaults.atLeast;
import static graft.ir.ShapeFaults.axis;
import static graft.ir.ShapeFaults.count;
import static graft.ir.ShapeFaults.elementCount;
import static graft.ir.ShapeFaults.fault;
import static graft.ir.ShapeFaults.mul;
import static graft.ir.ShapeFaults.plus;
import static graft.ir.ShapeFaults.requireRank;
import static graft.ir.ShapeFaults.size;

import graft.error.InvalidGraphException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Infers the type of every value from the graph inputs and the weights, node by node.
 * Symbolic dimensions stay symbolic: a Keras VGG16 without top, input (N, 3, H, W), gives
 * block1_pool (N, 64, (H-2)/2+1, ...) until a size is fixed by
 * {@link #run(Graph)} on a graph whose inputs are fixed. Small int64 constants (shapes,
 * axes) are evaluated on the way so that Reshape and friends get exact shapes.
 */
public final class ShapeInference {
    /** More dimensions than any real tensor has: a larger rank is a hostile claim, not a shape. */
    private static final int MAX_RANK = 64;
    private final Graph g;
    private final Map<String, long[]> known = new HashMap<>();
    private final List<InvalidGraphException.Problem> problems = new ArrayList<>();

    private ShapeInference(Graph g) {
        this.g = g;
    }

    /** Re-infers every intermediate and output type; declared input types are kept. */
    public static void run(Graph g) {
        ShapeInference si = new ShapeInference(g);
        si.infer();
        if (!si.problems.isEmpty()) {
            throw InvalidGraphException.of(g.name(), si.problems);
        }
    }

    private void infer() {
        Map<String, TensorType> declared = new HashMap<>(g.types());
        g.types().clear();
        for (Value v : g.inputs()) {
            if (v.type() != null) {
                g.types().put(v.name(), v.type());
            }
        }
        for (Weight w : g.initializers().values()) {
            g.types().put(w.name(), new TensorType(w.dtype(), Shape.of(w.shape())));
            if ((w.dtype() == DataType.INT64 || w.dtype() == DataType.INT32) && w.elementCount() <= 64) {
                known.put(w.name(), w.toLongs());
            }
        }
        for (Node n : g.nodes()) {
            Op op = n.op();
            List<TensorType> out;
            try {
                out = op == null ? opaque(n) : infer(op, n);
            } catch (ShapeFaults.Inconsistent e) {
                // Only the explicit checks below say "the graph is inconsistent"; any other
                // exception (an index out of bounds, an illegal argument) is graft's own bug and
                // goes out as one (exit 4) instead of being reported as the file's fault.
                problems.add(new InvalidGraphException.Problem(n.name(), n.opType() + " '" + n.name() + "': cannot infer output shape from inputs "
                        + inputTypes(n) + " (" + e.getMessage() + ")"));
                continue;
            }
            for (int i = 0; i < n.outputs().size(); i++) {
                String o = n.output(i);
                if (o.isEmpty()) {
                    continue;
                }
                TensorType t = out != null && i < out.size() ? out.get(i) : null;
                if (t == null || t.shape() == null) {
                    TensorType d = declared.get(o);
                    if (d != null) {
                        t = d;
                    }
                }
                if (t != null) {
                    g.types().put(o, t);
                }
            }
        }
        for (Value v : g.outputs()) {
            if (!g.types().containsKey(v.name()) && v.type() != null) {
                g.types().put(v.name(), v.type());
            }
        }
    }

    /**
     * The opaque ops graft writes itself: QuantizeLinear (the input's shape, the zero point's type,
     * uint8 without one) and DequantizeLinear (the input's shape, float32); others: what the file declares.
     */
    private List<TensorType> opaque(Node n) {
        boolean onnx = n.domain() == null || n.domain().isEmpty() || n.domain().equals("ai.onnx");
        if (!onnx || n.inputs().size() < 2) {
            return null;
        }
        if (n.opType().equals("QuantizeLinear")) {
            DataType zt = n.inputs().size() > 2 && !n.input(2).isEmpty() ? dtype(n.input(2), DataType.UINT8) : DataType.UINT8;
            return one(zt, shape(n.input(0)));
        }
        if (n.opType().equals("DequantizeLinear")) {
            return one(DataType.FLOAT, shape(n.input(0)));
        }
        return null;
    }

    private String inputTypes(Node n) {
        List<String> s = new ArrayList<>();
        for (String i : n.inputs()) {
            s.add(String.valueOf(type(i)));
        }
        return s.toString();
    }

    private TensorType type(String name) {
        return name.isEmpty() ? null : g.type(name);
    }

    private Shape shape(String name) {
        TensorType t = type(name);
        return t == null ? null : t.shape();
    }

    private DataType dtype(String name, DataType dflt) {
        TensorType t = type(name);
        return t == null ? dflt : t.dtype();
    }

    private List<TensorType> one(DataType t, Shape s) {
        List<TensorType> r = new ArrayList<>();
        r.add(new TensorType(t, s));
        return r;
    }

    private List<TensorType> infer(Op op, Node n) {
        String x = n.input(0);
        DataType xt = dtype(x, DataType.FLOAT);
        Shape xs = shape(x);
        switch (op) {
            case CONV, CONV_TRANSPOSE, MAX_POOL, AVERAGE_POOL:
                return spatial(op, n, xt, xs);
            case GLOBAL_AVERAGE_POOL, GLOBAL_MAX_POOL: {
                if (xs == null) {
                    return one(xt, null);
                }
                requireRank(xs, 2, "input");
                List<Dim> d = new ArrayList<>(xs.dims().subList(0, 2));
                for (int i = 2; i < xs.rank(); i++) {
                    d.add(Dim.of(1));
                }
                return one(xt, new Shape(d));
            }
            case GEMM: {
                Shape a = xs;
                Shape b = shape(n.input(1));
                if (a == null || b == null) {
                    return one(xt, null);
                }
                requireRank(a, 2, "A");
                requireRank(b, 2, "B");
                Dim m = n.intAttr("transA") == 0 ? a.dim(0) : a.dim(1);
                Dim k = n.intAttr("transA") == 0 ? a.dim(1) : a.dim(0);
                Dim kb = n.intAttr("transB") == 0 ? b.dim(0) : b.dim(1);
                Dim nn = n.intAttr("transB") == 0 ? b.dim(1) : b.dim(0);
                requireEqual(n, k, kb, "inner dimensions");
                return one(xt, Shape.of(m, nn));
            }
            case MAT_MUL: {
                Shape a = xs;
                Shape b = shape(n.input(1));
                if (a == null || b == null) {
                    return one(xt, null);
                }
                if (a.rank() == 0 || b.rank() == 0) {
                    throw fault("MatMul of a scalar " + a + " x " + b);
                }
                if (a.rank() == 1 || b.rank() == 1) {
                    return one(xt, null);
                }
                requireEqual(n, a.dim(-1), b.dim(-2), "inner dimensions");
                List<Dim> batch = broadcast(n, new Shape(a.dims().subList(0, a.rank() - 2)), new Shape(b.dims().subList(0, b.rank() - 2))).dims();
                List<Dim> d = new ArrayList<>(batch);
                d.add(a.dim(-2));
                d.add(b.dim(-1));
                return one(xt, new Shape(d));
            }
            case ADD, SUB, MUL, DIV, POW, MAX, MIN, SUM, MEAN, PRELU: {
                Shape s = xs;
                for (int i = 1; i < n.inputs().size(); i++) {
                    Shape o = shape(n.input(i));
                    s = s == null || o == null ? null : broadcast(n, s, o);
                }
                if (op == Op.PRELU) {
                    s = xs;
                }
                List<TensorType> r = one(xt, s);
                foldArithmetic(op, n);
                return r;
            }
            case RELU, LEAKY_RELU, ELU, SELU, THRESHOLDED_RELU, SIGMOID, HARD_SIGMOID, TANH, SOFTPLUS, SOFTSIGN,
                 EXP, LOG, ABS, NEG, SQRT, SOFTMAX, LOG_SOFTMAX, LRN, CLIP, IDENTITY: {
                if (op == Op.IDENTITY && known.containsKey(x)) {
                    known.put(n.output(0), known.get(x));
                }
                return one(xt, xs);
            }
            case DROPOUT: {
                List<TensorType> r = one(xt, xs);
                r.add(new TensorType(DataType.BOOL, xs));
                return r;
            }
            case BATCH_NORMALIZATION:
                return one(xt, xs);
            case FLATTEN: {
                if (xs == null) {
                    return one(xt, null);
                }
                long a = n.intAttr("axis", 1);
                int axis = a == xs.rank() ? xs.rank() : axis(a, xs.rank(), "axis");
                return one(xt, Shape.of(product(xs.dims().subList(0, axis)), product(xs.dims().subList(axis, xs.rank()))));
            }
            case RESHAPE:
                return one(xt, reshape(n, xs, known.get(n.input(1))));
            case TRANSPOSE: {
                if (xs == null) {
                    return one(xt, null);
                }
                long[] perm = n.intsAttr("perm", null);
                if (perm != null && perm.length != xs.rank()) {
                    throw fault("perm " + Arrays.toString(perm) + " does not fit the input's rank " + xs.rank());
                }
                List<Dim> d = new ArrayList<>();
                for (int i = 0; i < xs.rank(); i++) {
                    d.add(xs.dim(perm == null ? xs.rank() - 1 - i : axis(perm[i], xs.rank(), "perm entry")));
                }
                return one(xt, new Shape(d));
            }
            case SQUEEZE: {
                if (xs == null) {
                    return one(xt, null);
                }
                long[] axes = n.inputs().size() > 1 && !n.input(1).isEmpty() ? known.get(n.input(1)) : null;
                List<Dim> d = new ArrayList<>();
                for (int i = 0; i < xs.rank(); i++) {
                    boolean drop = axes == null ? xs.dim(i).isFixed() && xs.dim(i).value() == 1 : contains(axes, i, xs.rank());
                    if (!drop) {
                        d.add(xs.dim(i));
                    }
                }
                if (known.containsKey(x)) {
                    known.put(n.output(0), known.get(x));
                }
                return one(xt, new Shape(d));
            }
            case UNSQUEEZE: {
                long[] axes = known.get(n.input(1));
                if (xs == null || axes == null) {
                    return one(xt, null);
                }
                int rank = xs.rank() + axes.length;
                boolean[] taken = new boolean[rank];
                for (long a : axes) {
                    int ax = axis(a, rank, "axis");
                    if (taken[ax]) {
                        throw fault("axes " + Arrays.toString(axes) + " repeat an axis");
                    }
                    taken[ax] = true;
                }
                List<Dim> d = new ArrayList<>();
                int j = 0;
                for (int i = 0; i < rank; i++) {
                    d.add(contains(axes, i, rank) ? Dim.of(1) : xs.dim(j++));
                }
                if (known.containsKey(x)) {
                    known.put(n.output(0), known.get(x));
                }
                return one(xt, new Shape(d));
            }
            case CONCAT: {
                if (xs == null) {
                    return one(xt, null);
                }
                int axis = axis(n.intAttr("axis", 0), xs.rank(), "axis");
                List<Dim> d = new ArrayList<>(xs.dims());
                Dim sum = xs.dim(axis);
                List<Long> vals = new ArrayList<>();
                boolean allKnown = true;
                for (int i = 0; i < n.inputs().size(); i++) {
                    Shape s = shape(n.input(i));
                    if (s == null) {
                        return one(xt, null);
                    }
                    if (s.rank() != xs.rank()) {
                        throw fault("inputs of ranks " + xs.rank() + " and " + s.rank() + " cannot be concatenated");
                    }
                    if (i > 0) {
                        sum = add(sum, s.dim(axis));
                    }
                    long[] k = known.get(n.input(i));
                    if (k == null) {
                        allKnown = false;
                    } else {
                        for (long v : k) {
                            vals.add(v);
                        }
                    }
                }
                d.set(axis, sum);
                if (allKnown) {
                    known.put(n.output(0), vals.stream().mapToLong(Long::longValue).toArray());
                }
                return one(xt, new Shape(d));
            }
            case SPLIT:
                return splitTypes(n, xt, xs);
            case SLICE:
                return one(xt, slice(n, xs));
            case PAD: {
                long[] pads = known.get(n.input(1));
                if (xs == null || pads == null) {
                    return one(xt, xs == null ? null : unknownDims(xs.rank()));
                }
                long[] axes = n.inputs().size() > 3 && !n.input(3).isEmpty() ? known.get(n.input(3)) : null;
                List<Dim> d = new ArrayList<>(xs.dims());
                int na = axes == null ? xs.rank() : axes.length;
                atLeast(pads, 2 * na, "pads");
                for (int i = 0; i < na; i++) {
                    int ax = axes == null ? i : axis(axes[i], xs.rank(), "axis");
                    long p = plus(pads[i], pads[i + na]);
                    Dim old = d.get(ax);
                    d.set(ax, old.isFixed() ? size(plus(old.value(), p), "padded dimension " + ax)
                            : p == 0 ? old : Dim.sym("(" + old + (p > 0 ? "+" : "") + p + ")"));
                }
                return one(xt, new Shape(d));
            }
            case CONSTANT: {
                Attr v = n.attr("value");
                if (v != null) {
                    Weight w = v.asTensor();
                    if ((w.dtype() == DataType.INT64 || w.dtype() == DataType.INT32) && w.elementCount() <= 64) {
                        known.put(n.output(0), w.toLongs());
                    }
                    return one(w.dtype(), Shape.of(w.shape()));
                }
                if (n.attr("value_int") != null) {
                    known.put(n.output(0), new long[]{n.attr("value_int").asInt()});
                    return one(DataType.INT64, new Shape(List.of()));
                }
                if (n.attr("value_ints") != null) {
                    long[] v2 = n.attr("value_ints").asInts();
                    known.put(n.output(0), v2);
                    return one(DataType.INT64, Shape.of(v2.length));
                }
                if (n.attr("value_float") != null) {
                    return one(DataType.FLOAT, new Shape(List.of()));
                }
                if (n.attr("value_floats") != null) {
                    return one(DataType.FLOAT, Shape.of(n.attr("value_floats").asFloats().length));
                }
                return one(DataType.FLOAT, null);
            }
            case CONSTANT_OF_SHAPE: {
                long[] s = known.get(x);
                Attr v = n.attr("value");
                DataType t = v == null ? DataType.FLOAT : v.asTensor().dtype();
                if (s != null) {
                    for (long dimension : s) {
                        if (dimension < 0) {
                            throw fault("shape " + Arrays.toString(s) + " has a negative dimension");
                        }
                    }
                }
                if (s != null && v != null && (t == DataType.INT64 || t == DataType.INT32) && v.asTensor().elementCount() >= 1
                        && elementCount(s) <= 64) {
                    long[] vals = new long[(int) elementCount(s)];
                    Arrays.fill(vals, v.asTensor().toLongs()[0]);
                    known.put(n.output(0), vals);
                }
                return one(t, s == null ? null : Shape.of(s));
            }
            case SHAPE: {
                if (xs == null) {
                    return one(DataType.INT64, null);
                }
                int r = xs.rank();
                int start = (int) clampAxis(n.intAttr("start", 0), r);
                int end = (int) clampAxis(n.intAttr("end", r), r);
                int len = Math.max(0, end - start);
                Shape sub = new Shape(xs.dims().subList(start, start + len));
                if (sub.isFixed()) {
                    known.put(n.output(0), sub.toArray());
                }
                return one(DataType.INT64, Shape.of(len));
            }
            case CAST: {
                DataType to = DataType.fromCode((int) n.intAttr("to", 0));
                if (to == null) {
                    problems.add(new InvalidGraphException.Problem(n.name(), "Cast '" + n.name() + "': unknown target type " + n.intAttr("to", 0)));
                    return one(xt, xs);
                }
                if (!to.isFloating() && !xt.isFloating() && known.containsKey(x) && to != DataType.BOOL) {
                    known.put(n.output(0), known.get(x));
                }
                return one(to, xs);
            }
            case GATHER: {
                Shape is = shape(n.input(1));
                if (xs == null || is == null) {
                    return one(xt, null);
                }
                int axis = axis(n.intAttr("axis", 0), xs.rank(), "axis");
                List<Dim> d = new ArrayList<>(xs.dims().subList(0, axis));
                d.addAll(is.dims());
                d.addAll(xs.dims().subList(axis + 1, xs.rank()));
                long[] data = known.get(x);
                long[] idx = known.get(n.input(1));
                if (data != null && idx != null && xs.rank() == 1) {
                    long[] r = new long[idx.length];
                    for (int i = 0; i < idx.length; i++) {
                        r[i] = data[axis(idx[i], data.length, "index")];
                    }
                    known.put(n.output(0), r);
                }
                return one(xt, new Shape(d));
            }
            default:
                throw new IllegalStateException("no shape rule for " + op);
        }
    }

    private void foldArithmetic(Op op, Node n) {
        if (n.inputs().size() != 2) {
            return;
        }
        long[] a = known.get(n.input(0));
        long[] b = known.get(n.input(1));
        if (a == null || b == null || a.length == 0 || b.length == 0 || (a.length != b.length && a.length != 1 && b.length != 1)) {
            return;
        }
        int len = Math.max(a.length, b.length);
        long[] r = new long[len];
        for (int i = 0; i < len; i++) {
            long x = a[a.length == 1 ? 0 : i];
            long y = b[b.length == 1 ? 0 : i];
            r[i] = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> y == 0 ? 0 : x / y;
                default -> Long.MIN_VALUE;
            };
            if (r[i] == Long.MIN_VALUE) {
                return;
            }
        }
        known.put(n.output(0), r);
    }

    private static boolean contains(long[] axes, int i, int rank) {
        for (long a : axes) {
            if ((a < 0 ? a + rank : a) == i) {
                return true;
            }
        }
        return false;
    }

    private static long clampAxis(long a, int r) {
        if (a < 0) {
            a += r;
        }
        return Math.max(0, Math.min(r, a));
    }

    private static Shape unknownDims(int rank) {
        List<Dim> d = new ArrayList<>();
        for (int i = 0; i < rank; i++) {
            d.add(Dim.UNKNOWN);
        }
        return new Shape(d);
    }

    private List<TensorType> spatial(Op op, Node n, DataType xt, Shape xs) {
        if (xs == null) {
            return one(xt, null);
        }
        requireRank(xs, 2, "input");
        int sp = xs.rank() - 2;
        long[] k = n.intsAttr("kernel_shape", null);
        Dim channels;
        if (op == Op.CONV || op == Op.CONV_TRANSPOSE) {
            Shape ws = shape(n.input(1));
            if (ws == null) {
                return one(xt, null);
            }
            if (ws.rank() != xs.rank()) {
                throw fault("weight " + ws + " and input " + xs + " differ in rank");
            }
            if (k == null) {
                k = new long[sp];
                for (int i = 0; i < sp; i++) {
                    if (!ws.dim(2 + i).isFixed()) {
                        return one(xt, null);
                    }
                    k[i] = ws.dim(2 + i).value();
                }
            } else {
                // kernel_shape must be the weight's spatial shape (ONNX Runtime refuses it otherwise; a writer
                // that trusts one of the two writes a model its reader refuses: roundtrip fuzz finding)
                for (int i = 0; i < Math.min(sp, k.length); i++) {
                    if (ws.dim(2 + i).isFixed() && ws.dim(2 + i).value() != k[i]) {
                        throw fault("kernel_shape " + java.util.Arrays.toString(k) + " differs from the weight's " + ws);
                    }
                }
            }
            long group = n.intAttr("group");
            if (group < 1) {
                throw fault("group " + group + " is not positive");
            }
            if (op == Op.CONV) {
                channels = ws.dim(0);
                Dim cin = xs.dim(1);
                if (cin.isFixed() && ws.dim(1).isFixed() && cin.value() != mul(ws.dim(1).value(), group)) {
                    throw fault("input has " + cin.value() + " channels, kernel expects " + mul(ws.dim(1).value(), group));
                }
            } else {
                channels = ws.dim(1).isFixed() ? Dim.of(mul(ws.dim(1).value(), group)) : Dim.UNKNOWN;
            }
        } else {
            channels = xs.dim(1);
        }
        atLeast(k, sp, "kernel_shape");
        long[] strides = atLeast(n.intsAttr("strides", filled(sp, 1)), sp, "strides");
        long[] dil = atLeast(n.intsAttr("dilations", filled(sp, 1)), sp, "dilations");
        long[] pads = atLeast(n.intsAttr("pads", filled(2 * sp, 0)), 2 * sp, "pads");
        for (int i = 0; i < sp; i++) {
            if (k[i] < 1 || strides[i] < 1 || dil[i] < 1) {
                throw fault("kernel " + Arrays.toString(k) + ", strides " + Arrays.toString(strides) + " and dilations "
                        + Arrays.toString(dil) + " must be positive");
            }
        }
        String autoPad = n.stringAttr("auto_pad");
        boolean ceil = n.intAttr("ceil_mode", 0) == 1;
        List<Dim> out = new ArrayList<>();
        out.add(xs.dim(0));
        out.add(channels);
        for (int i = 0; i < sp; i++) {
            Dim in = xs.dim(2 + i);
            long eff = plus(mul(dil[i], k[i] - 1), 1);
            if (op == Op.CONV_TRANSPOSE) {
                long[] outPad = atLeast(n.intsAttr("output_padding", filled(sp, 0)), sp, "output_padding");
                long[] outShape = n.intsAttr("output_shape", null);
                if (outShape != null) {
                    out.add(size(atLeast(outShape, sp, "output_shape")[outShape.length - sp + i], "output_shape"));
                } else if (in.isFixed() && (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER"))) {
                    out.add(Dim.of(mul(in.value(), strides[i]))); // ONNX: with SAME padding the output is input * stride
                } else if (in.isFixed()) {
                    out.add(size(plus(plus(plus(mul(strides[i], in.value() - 1), outPad[i]), eff), -plus(pads[i], pads[i + sp])),
                            "output size " + i));
                } else {
                    out.add(Dim.sym(in + "*" + strides[i]));
                }
                continue;
            }
            if (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
                out.add(in.isFixed() ? Dim.of(ceilDiv(in.value(), strides[i])) : Dim.sym(symDiv(in.toString(), strides[i], true)));
                continue;
            }
            long p = autoPad.equals("VALID") ? 0 : plus(pads[i], pads[i + sp]);
            if (in.isFixed()) {
                long num = plus(plus(in.value(), p), -eff);
                if (num < 0) {
                    throw fault("spatial size " + in.value() + " is smaller than the window " + eff);
                }
                long o = (ceil ? ceilDiv(num, strides[i]) : num / strides[i]) + 1;
                if (ceil && (o - 1) * strides[i] >= in.value() + pads[i]) {
                    o--;
                }
                out.add(Dim.of(o));
            } else {
                String base = in.toString();
                long delta = plus(p, -eff);
                String num = delta == 0 ? base : "(" + base + (delta > 0 ? "+" : "") + delta + ")";
                out.add(Dim.sym(strides[i] == 1 ? (delta + 1 == 0 ? base : "(" + base + (delta + 1 > 0 ? "+" : "") + (delta + 1) + ")")
                        : symDiv(num, strides[i], ceil) + "+1"));
            }
        }
        List<TensorType> r = one(xt, new Shape(out));
        if (op == Op.MAX_POOL) {
            r.add(new TensorType(DataType.INT64, new Shape(out)));
        }
        return r;
    }

    private static String symDiv(String num, long d, boolean ceil) {
        return ceil ? "ceil(" + num + "/" + d + ")" : num + "/" + d;
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    private static long[] filled(int n, long v) {
        long[] r = new long[n];
        Arrays.fill(r, v);
        return r;
    }

    private Shape reshape(Node n, Shape xs, long[] target) {
        if (target == null) {
            Shape ts = shape(n.input(1));
            if (ts != null && ts.rank() == 1 && ts.dim(0).isFixed()) {
                if (ts.dim(0).value() > MAX_RANK) {
                    throw fault("a reshape to rank " + ts.dim(0).value());
                }
                return unknownDims((int) ts.dim(0).value());
            }
            return null;
        }
        boolean allowZero = n.intAttr("allowzero") == 1;
        List<Dim> d = new ArrayList<>();
        int infer = -1;
        for (int i = 0; i < target.length; i++) {
            long t = target[i];
            if (t == 0 && !allowZero) {
                if (xs != null && i >= xs.rank()) {
                    throw fault("shape " + Arrays.toString(target) + " copies dimension " + i + " of " + xs);
                }
                d.add(xs == null ? Dim.UNKNOWN : xs.dim(i));
            } else if (t == -1) {
                if (infer >= 0) {
                    throw fault("shape " + Arrays.toString(target) + " has more than one -1");
                }
                infer = i;
                d.add(Dim.UNKNOWN);
            } else {
                d.add(size(t, "reshape target " + Arrays.toString(target)));
            }
        }
        if (infer >= 0) {
            long total = xs == null ? -1 : count(xs);
            long rest = 1;
            boolean fixed = total >= 0;
            for (int i = 0; i < d.size(); i++) {
                if (i != infer) {
                    if (!d.get(i).isFixed()) {
                        fixed = false;
                    } else {
                        rest = mul(rest, d.get(i).value());
                    }
                }
            }
            if (fixed && rest != 0) {
                if (total % rest != 0) {
                    throw fault("cannot reshape " + xs + " to " + Arrays.toString(target));
                }
                d.set(infer, Dim.of(total / rest));
            } else if (xs != null && !fixed) {
                // (N, C, H, W) -> (N, -1) style: the symbolic batch stays, the rest is a product.
                d.set(infer, symbolicRemainder(xs, d, infer));
            }
        } else if (xs != null && xs.isFixed()) {
            long total = count(xs);
            long prod = 1;
            for (Dim x : d) {
                prod = mul(prod, x.value());
            }
            if (prod != total) {
                throw fault("cannot reshape " + xs + " (" + total + " elements) to " + Arrays.toString(target));
            }
        }
        return new Shape(d);
    }

    private static Dim symbolicRemainder(Shape xs, List<Dim> d, int infer) {
        List<Dim> rest = new ArrayList<>(xs.dims());
        for (int i = 0; i < d.size(); i++) {
            if (i != infer && rest.contains(d.get(i)) && !d.get(i).isFixed()) {
                rest.remove(d.get(i));
            }
        }
        long knownDiv = 1;
        for (int i = 0; i < d.size(); i++) {
            if (i != infer && d.get(i).isFixed()) {
                knownDiv = mul(knownDiv, d.get(i).value());
            }
        }
        Dim p = product(rest);
        if (knownDiv == 0) {
            return Dim.UNKNOWN;
        }
        if (p.isFixed()) {
            return Dim.of(p.value() / knownDiv);
        }
        return knownDiv == 1 ? p : Dim.sym(p + "/" + knownDiv);
    }

    private List<TensorType> splitTypes(Node n, DataType xt, Shape xs) {
        List<TensorType> r = new ArrayList<>();
        int parts = n.outputs().size();
        if (xs == null) {
            for (int i = 0; i < parts; i++) {
                r.add(new TensorType(xt, null));
            }
            return r;
        }
        int axis = axis(n.intAttr("axis", 0), xs.rank(), "axis");
        long[] sizes = n.inputs().size() > 1 && !n.input(1).isEmpty() ? known.get(n.input(1)) : null;
        if (sizes != null) {
            atLeast(sizes, parts, "split");
        }
        for (int i = 0; i < parts; i++) {
            List<Dim> d = new ArrayList<>(xs.dims());
            if (sizes != null) {
                d.set(axis, size(sizes[i], "split size"));
            } else if (xs.dim(axis).isFixed()) {
                d.set(axis, Dim.of(xs.dim(axis).value() / parts));
            } else {
                d.set(axis, Dim.UNKNOWN);
            }
            r.add(new TensorType(xt, new Shape(d)));
        }
        return r;
    }

    private Shape slice(Node n, Shape xs) {
        if (xs == null) {
            return null;
        }
        long[] starts = known.get(n.input(1));
        long[] ends = known.get(n.input(2));
        long[] axes = n.inputs().size() > 3 && !n.input(3).isEmpty() ? known.get(n.input(3)) : null;
        long[] steps = n.inputs().size() > 4 && !n.input(4).isEmpty() ? known.get(n.input(4)) : null;
        if (starts == null || ends == null || (n.inputs().size() > 3 && !n.input(3).isEmpty() && axes == null)) {
            return unknownDims(xs.rank());
        }
        List<Dim> d = new ArrayList<>(xs.dims());
        atLeast(ends, starts.length, "ends");
        if (axes != null) {
            atLeast(axes, starts.length, "axes");
        }
        if (steps != null) {
            atLeast(steps, starts.length, "steps");
        }
        for (int i = 0; i < starts.length; i++) {
            int ax = axes == null ? axis(i, xs.rank(), "axis") : axis(axes[i], xs.rank(), "axis");
            long step = steps == null ? 1 : steps[i];
            if (step == 0 || step == Long.MIN_VALUE) {
                throw fault("slice step " + step);
            }
            Dim dim = xs.dim(ax);
            if (!dim.isFixed()) {
                d.set(ax, Dim.UNKNOWN);
                continue;
            }
            long len = dim.value();
            long s = starts[i] < 0 ? starts[i] + len : starts[i];
            long e = ends[i] < 0 ? ends[i] + len : ends[i];
            if (step > 0) {
                s = Math.max(0, Math.min(len, s));
                e = Math.max(0, Math.min(len, e));
                d.set(ax, Dim.of(Math.max(0, ceilDiv(e - s, step))));
            } else {
                s = Math.max(-1, Math.min(len - 1, s));
                e = Math.max(-1, Math.min(len - 1, e));
                d.set(ax, Dim.of(Math.max(0, ceilDiv(s - e, -step))));
            }
        }
        return new Shape(d);
    }

    private Shape broadcast(Node n, Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        List<Dim> d = new ArrayList<>();
        for (int i = 0; i < r; i++) {
            int ia = i - (r - a.rank());
            int ib = i - (r - b.rank());
            Dim da = ia >= 0 ? a.dim(ia) : Dim.of(1);
            Dim db = ib >= 0 ? b.dim(ib) : Dim.of(1);
            if (da.isFixed() && da.value() == 1) {
                d.add(db);
            } else if (db.isFixed() && db.value() == 1) {
                d.add(da);
            } else if (da.isFixed() && db.isFixed() && da.value() != db.value()) {
                throw fault("shapes " + a + " and " + b + " do not broadcast");
            } else {
                d.add(da.isFixed() ? da : db);
            }
        }
        return new Shape(d);
    }

    private static void requireEqual(Node n, Dim a, Dim b, String what) {
        if (a.isFixed() && b.isFixed() && a.value() != b.value()) {
            throw fault(what + " " + a + " and " + b + " differ");
        }
    }

    private static Dim add(Dim a, Dim b) {
        if (a.isFixed() && b.isFixed()) {
            return Dim.of(plus(a.value(), b.value()));
        }
        if (b.isFixed() && b.value() == 0) {
            return a;
        }
        return Dim.sym("(" + a + "+" + b + ")");
    }

    static Dim product(List<Dim> dims) {
        long fixed = 1;
        StringBuilder sym = new StringBuilder();
        for (Dim d : dims) {
            if (d.isFixed()) {
                fixed = mul(fixed, d.value());
            } else {
                sym.append(sym.length() == 0 ? "" : "*").append(d.symbol().contains("+") || d.symbol().contains("-") ? "(" + d + ")" : d);
            }
        }
        if (sym.length() == 0) {
            return Dim.of(fixed);
        }
        return Dim.sym(fixed == 1 ? sym.toString() : sym + "*" + fixed);
    }
}
