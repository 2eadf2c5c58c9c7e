package graft.surgery;

import graft.exec.ReferenceExecutor;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.ir.WeightData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.ListIterator;
import java.util.Map;
import java.util.Set;

/**
 * {@link Simplify}'s constant folding: every node whose inputs are all constants (or static
 * shapes) becomes an initializer, in graph order; values computed exactly (see Simplify).
 */
final class ConstantFolder {
    private static final Set<Op> FOLDABLE = EnumSet.of(Op.CONSTANT, Op.CONSTANT_OF_SHAPE, Op.SHAPE, Op.GATHER, Op.UNSQUEEZE,
            Op.SQUEEZE, Op.CONCAT, Op.RESHAPE, Op.FLATTEN, Op.TRANSPOSE, Op.SLICE, Op.SPLIT, Op.IDENTITY, Op.ADD, Op.SUB, Op.MUL,
            Op.DIV, Op.NEG, Op.ABS, Op.SQRT, Op.RELU, Op.MAX, Op.MIN, Op.CLIP);
    /** Above this many elements a fold that materialises data (not ConstantOfShape, which stays lazy) is left alone. */
    private static final long MAX_FOLD_ELEMENTS = 1 << 24;

    /** One entry of a partially known shape value: a number, or a symbolic dimension of some tensor. */
    private record Entry(long value, Dim symbol) {
        static Entry of(Dim d) {
            return d.isFixed() ? new Entry(d.value(), null) : new Entry(0, d);
        }

        boolean isFixed() {
            return symbol == null;
        }
    }

    private final Graph g;
    /** Known 1-D int64 values with symbolic entries: the output of Shape over a symbolic batch, and what is computed from it. */
    private final Map<String, Entry[]> partial = new HashMap<>();
    private final Set<String> inputNames = new HashSet<>();
    /** Initializers made so far: Simplify runs passes until a pass makes none. */
    int made;
    private final boolean full;

    ConstantFolder(Graph g, boolean full) {
        this.g = g;
        this.full = full;
        for (Value v : g.inputs()) {
            inputNames.add(v.name());
        }
    }

    int run() {
        for (ListIterator<Node> it = g.nodes().listIterator(); it.hasNext();) {
            Node n = it.next();
            if (foldConstant(n)) {
                it.remove();
                continue;
            }
            int t = trackPartial(n);
            if (t == FOLDED) {
                it.remove();
            } else if (t == NONE) {
                Node r = resolveReshape(n);
                if (r != n) {
                    it.set(r);
                }
            }
        }
        return made;
    }

    private boolean isConst(String v) {
        return v.isEmpty() || g.initializer(v) != null && !inputNames.contains(v);
    }

    private boolean foldConstant(Node n) {
        if (!full && n.op() == Op.CONSTANT && !feedsAFold(n)) {
            // the implicit mode leaves a Constant that is part of a layer's own expansion (Keras
            // LocallyConnected2D's window selector feeding a Conv): writers recognise those as they are
            return false;
        }
        if (n.op() != Op.SPLIT && n.outputs().stream().skip(1).anyMatch(o -> !o.isEmpty())) {
            return false;
        }
        Op op = n.op();
        boolean cast = op == null && n.op() == Op.CAST;
        if (op == null ? !cast : !FOLDABLE.contains(op)) {
            return false;
        }
        if (op == Op.SHAPE) {
            return foldShape(n);
        }
        for (String in : n.inputs()) {
            if (!isConst(in)) {
                return false;
            }
        }
        for (String in : n.inputs()) {
            if (!in.isEmpty() && !exactType(g.initializer(in).dtype())) {
                return false;
            }
        }
        if (cast) {
            return foldCast(n);
        }
        if (op == Op.CONSTANT_OF_SHAPE) {
            return foldConstantOfShape(n);
        }
        for (String out : n.outputs()) {
            TensorType t = g.type(out);
            if (!out.isEmpty() && t != null && t.shape() != null && t.shape().isFixed() && t.shape().elementCount() > MAX_FOLD_ELEMENTS) {
                return false;
            }
        }
        Graph mini = new Graph("fold");
        for (String in : n.inputs()) {
            if (!in.isEmpty()) {
                mini.addInitializer(g.initializer(in));
            }
        }
        mini.nodes().add(n);
        for (String out : n.outputs()) {
            if (!out.isEmpty()) {
                mini.outputs().add(new Value(out, null));
            }
        }
        Map<String, Tensor> r = ReferenceExecutor.run(mini, Map.of());
        for (Map.Entry<String, Tensor> e : r.entrySet()) {
            Tensor t = e.getValue();
            if (!exactType(t.dtype())) {
                return false;
            }
        }
        for (Map.Entry<String, Tensor> e : r.entrySet()) {
            Tensor t = e.getValue();
            add(new Weight(e.getKey(), t.dtype(), t.shape(), WeightData.of(t.data())));
        }
        return true;
    }

    /** True when some reader of the Constant's value is foldable with it: its other inputs are constants or static shapes. */
    private boolean feedsAFold(Node c) {
        for (Node r : g.consumers(c.output(0))) {
            boolean foldable = r.op() != null ? FOLDABLE.contains(r.op()) : r.domain().isEmpty() && r.op() == Op.CAST;
            if (!foldable) {
                continue;
            }
            boolean rest = true;
            for (String in : r.inputs()) {
                Node p = in.isEmpty() ? null : g.producer(in);
                rest &= isConst(in) || partial.containsKey(in) || p != null && (p.op() == Op.CONSTANT || p.op() == Op.SHAPE);
            }
            if (rest) {
                return true;
            }
        }
        return false;
    }

    private void add(Weight w) {
        g.initializers().remove(w.name());
        g.addInitializer(w);
        g.types().put(w.name(), new TensorType(w.dtype(), graft.ir.Shape.of(w.shape())));
        made++;
    }

    /** float64 and float16 stay unfolded: the reference executor holds floats as float32. */
    private static boolean exactType(DataType t) {
        return t == DataType.FLOAT || t == DataType.INT64 || t == DataType.INT32 || t == DataType.BOOL || t == DataType.UINT8
                || t == DataType.INT8;
    }

    private boolean foldShape(Node n) {
        TensorType t = g.type(n.input(0));
        if (t == null || t.shape() == null) {
            return false;
        }
        int rank = t.shape().rank();
        int start = (int) clampAxis(n.intAttr("start"), rank);
        int end = (int) clampAxis(n.intAttr("end", rank), rank);
        Entry[] dims = new Entry[Math.max(0, end - start)];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = Entry.of(t.shape().dim(start + i));
        }
        if (Arrays.stream(dims).allMatch(Entry::isFixed)) {
            long[] v = new long[dims.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = dims[i].value();
            }
            add(Weight.ofLongs(n.output(0), new long[]{v.length}, v));
            return true;
        }
        partial.put(n.output(0), dims);
        return false;
    }

    private static long clampAxis(long a, int rank) {
        long x = a < 0 ? a + rank : a;
        return Math.max(0, Math.min(rank, x));
    }

    private boolean foldCast(Node n) {
        long to = n.intAttr("to", -1);
        DataType target = to == 1 ? DataType.FLOAT : to == 7 ? DataType.INT64 : to == 6 ? DataType.INT32 : null;
        Weight w = g.initializer(n.input(0));
        if (target == null || w.elementCount() > MAX_FOLD_ELEMENTS) {
            return false;
        }
        int count = Math.toIntExact(w.elementCount());
        ByteBuffer b = ByteBuffer.allocateDirect(count * target.size()).order(ByteOrder.LITTLE_ENDIAN);
        boolean fromFloat = w.dtype() == DataType.FLOAT;
        float[] f = fromFloat ? w.toFloats() : null;
        long[] l = fromFloat ? null : w.toLongs();
        for (int i = 0; i < count; i++) {
            switch (target) {
                // ONNX Cast float -> int truncates toward zero (C's conversion)
                case FLOAT -> b.putFloat(fromFloat ? f[i] : (float) l[i]);
                case INT64 -> b.putLong(fromFloat ? (long) f[i] : l[i]);
                default -> b.putInt(fromFloat ? (int) f[i] : (int) l[i]);
            }
        }
        b.flip();
        add(new Weight(n.output(0), target, w.shape(), WeightData.of(b)));
        return true;
    }

    /** A lazy weight: ConstantOfShape fills large blocks (stripped-weight models), so the bytes are made only when written. */
    private boolean foldConstantOfShape(Node n) {
        long[] shape = g.initializer(n.input(0)).toLongs();
        Attr a = n.attr("value");
        Weight v = a == null ? null : a.asTensor();
        DataType t = v == null ? DataType.FLOAT : v.dtype();
        if (!exactType(t) || t.size() <= 0) {
            return false;
        }
        ByteBuffer one = v == null ? ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN) : v.buffer();
        byte[] pattern = new byte[t.size()];
        one.duplicate().get(pattern);
        long count = graft.ir.Shape.elementCount(shape);
        long bytes = Math.multiplyExact(count, (long) t.size());
        WeightData data = WeightData.lazy(bytes, () -> {
            ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < count; i++) {
                b.put(pattern);
            }
            return b.flip();
        });
        add(new Weight(n.output(0), t, shape, data));
        return true;
    }

    private static final int NONE = 0;
    private static final int PARTIAL = 1;
    private static final int FOLDED = 2;

    /** Gather, Unsqueeze, Concat and Cast over partially known shapes: NONE, PARTIAL (recorded) or FOLDED (all entries fixed). */
    private int trackPartial(Node n) {
        Op op = n.op();
        if (n.outputs().size() != 1) {
            return NONE;
        }
        if (op == null) {
            boolean cast = n.op() == Op.CAST && (n.intAttr("to", -1) == 7 || n.intAttr("to", -1) == 6);
            Entry[] src = partial.get(n.input(0));
            return cast && src != null ? settle(n, src, scalars.contains(n.input(0))) : NONE;
        }
        switch (op) {
            case GATHER -> {
                Entry[] src = partial.get(n.input(0));
                if (src == null || n.intAttr("axis") != 0 || !isConst(n.input(1))) {
                    return NONE;
                }
                Weight iw = g.initializer(n.input(1));
                long[] idx = iw.toLongs();
                Entry[] r = new Entry[idx.length];
                for (int i = 0; i < idx.length; i++) {
                    long k = idx[i] < 0 ? idx[i] + src.length : idx[i];
                    if (k < 0 || k >= src.length) {
                        return NONE;
                    }
                    r[i] = src[(int) k];
                }
                return settle(n, r, iw.shape().length == 0);
            }
            case UNSQUEEZE -> {
                Entry[] src = partial.get(n.input(0));
                if (src == null || !scalars.contains(n.input(0)) || !isConst(n.input(1))
                        || !Arrays.equals(g.initializer(n.input(1)).toLongs(), new long[]{0})) {
                    return NONE;
                }
                return settle(n, src, false);
            }
            case CONCAT -> {
                List<Entry> r = new ArrayList<>();
                boolean any = false;
                for (String in : n.inputs()) {
                    Entry[] p = partial.get(in);
                    if (p != null && !scalars.contains(in)) {
                        any = true;
                        r.addAll(Arrays.asList(p));
                    } else if (isConst(in) && g.initializer(in).shape().length == 1) {
                        for (long v : g.initializer(in).toLongs()) {
                            r.add(new Entry(v, null));
                        }
                    } else {
                        return NONE;
                    }
                }
                return any ? settle(n, r.toArray(new Entry[0]), false) : NONE;
            }
            default -> {
                return NONE;
            }
        }
    }

    private final Set<String> scalars = new HashSet<>();

    /** Records a partial result, or folds it when every entry turned out fixed. */
    private int settle(Node n, Entry[] r, boolean scalar) {
        if (Arrays.stream(r).allMatch(Entry::isFixed)) {
            long[] v = new long[r.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = r[i].value();
            }
            add(Weight.ofLongs(n.output(0), scalar ? new long[0] : new long[]{v.length}, v));
            return FOLDED;
        }
        partial.put(n.output(0), r);
        if (scalar) {
            scalars.add(n.output(0));
        }
        return PARTIAL;
    }

    /**
     * A Reshape whose shape is partially known: a symbolic entry equal to the data's own
     * dimension at that position becomes 0 (copy it); one remaining unknown entry, with no -1
     * already there, becomes -1 (the element count decides it, as it did before).
     */
    private Node resolveReshape(Node n) {
        if (n.op() != Op.RESHAPE || n.intAttr("allowzero") != 0) {
            return n;
        }
        TensorType xt = g.type(n.input(0));
        Entry[] p = partial.get(n.input(1));
        long[] target;
        if (p != null) {
            target = new long[p.length];
            int unknown = -1;
            boolean minusOne = false;
            for (int i = 0; i < p.length; i++) {
                if (p[i].isFixed()) {
                    target[i] = p[i].value();
                    minusOne |= p[i].value() == -1;
                } else if (xt != null && xt.shape() != null && i < xt.shape().rank() && xt.shape().dim(i).equals(p[i].symbol())) {
                    target[i] = 0;
                } else if (unknown < 0) {
                    unknown = i;
                } else {
                    return n;
                }
            }
            if (unknown >= 0) {
                if (minusOne) {
                    return n;
                }
                target[unknown] = -1;
            }
        } else if (isConst(n.input(1)) && xt != null && xt.shape() != null && xt.shape().rank() > 0 && xt.shape().dim(0).isFixed()) {
            // a batch written into the shape as a number (torch traced at batch 10) is the input's own: copy it instead
            target = g.initializer(n.input(1)).toLongs();
            if (target.length < 2 || target[0] != xt.shape().dim(0).value() || target[0] <= 0) {
                return n;
            }
            target = target.clone();
            target[0] = 0;
        } else {
            return n;
        }
        String name = Layers.fresh(g, n.input(1) + "/folded");
        add(Weight.ofLongs(name, new long[]{target.length}, target));
        List<String> in = new ArrayList<>(n.inputs());
        in.set(1, name);
        return n.withInputs(in);
    }
}
