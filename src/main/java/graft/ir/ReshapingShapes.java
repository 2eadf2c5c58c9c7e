package graft.ir;

import static graft.ir.ShapeFaults.atLeast;
import static graft.ir.ShapeFaults.axis;
import static graft.ir.ShapeFaults.count;
import static graft.ir.ShapeFaults.fault;
import static graft.ir.ShapeFaults.mul;
import static graft.ir.ShapeFaults.plus;
import static graft.ir.ShapeFaults.size;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shape rules of the ops that move elements without computing: Flatten, Reshape, Transpose, (Un)Squeeze, Concat,
 * Split, Slice, Pad, Gather (exec: Reshaping). Part of {@link ShapeInference}.
 */
final class ReshapingShapes {
    private ReshapingShapes() {
    }

    static List<TensorType> infer(ShapeInference si, Op op, Node n, String x, DataType xt, Shape xs) {
        switch (op) {
            case FLATTEN: {
                if (xs == null) {
                    return ShapeInference.one(xt, null);
                }
                long a = n.intAttr("axis");
                int axis = a == xs.rank() ? xs.rank() : axis(a, xs.rank(), "axis");
                return ShapeInference.one(xt, Shape.of(product(xs.dims().subList(0, axis)), product(xs.dims().subList(axis, xs.rank()))));
            }
            case RESHAPE:
                return ShapeInference.one(xt, reshape(si, n, xs, si.known.get(n.input(1))));
            case TRANSPOSE: {
                if (xs == null) {
                    return ShapeInference.one(xt, null);
                }
                long[] perm = n.intsAttr("perm", null);
                if (perm != null && perm.length != xs.rank()) {
                    throw fault("perm " + Arrays.toString(perm) + " does not fit the input's rank " + xs.rank());
                }
                List<Dim> d = new ArrayList<>();
                for (int i = 0; i < xs.rank(); i++) {
                    d.add(xs.dim(perm == null ? xs.rank() - 1 - i : axis(perm[i], xs.rank(), "perm entry")));
                }
                return ShapeInference.one(xt, new Shape(d));
            }
            case SQUEEZE: {
                if (xs == null) {
                    return ShapeInference.one(xt, null);
                }
                long[] axes = n.inputs().size() > 1 && !n.input(1).isEmpty() ? si.known.get(n.input(1)) : null;
                List<Dim> d = new ArrayList<>();
                for (int i = 0; i < xs.rank(); i++) {
                    boolean drop = axes == null ? xs.dim(i).isFixed() && xs.dim(i).value() == 1 : contains(axes, i, xs.rank());
                    if (!drop) {
                        d.add(xs.dim(i));
                    }
                }
                if (si.known.containsKey(x)) {
                    si.known.put(n.output(0), si.known.get(x));
                }
                return ShapeInference.one(xt, new Shape(d));
            }
            case UNSQUEEZE: {
                long[] axes = si.known.get(n.input(1));
                if (xs == null || axes == null) {
                    return ShapeInference.one(xt, null);
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
                if (si.known.containsKey(x)) {
                    si.known.put(n.output(0), si.known.get(x));
                }
                return ShapeInference.one(xt, new Shape(d));
            }
            case CONCAT: {
                if (xs == null) {
                    return ShapeInference.one(xt, null);
                }
                int axis = axis(n.intAttr("axis", 0), xs.rank(), "axis");
                List<Dim> d = new ArrayList<>(xs.dims());
                Dim sum = xs.dim(axis);
                List<Long> vals = new ArrayList<>();
                boolean allKnown = true;
                for (int i = 0; i < n.inputs().size(); i++) {
                    Shape s = si.shape(n.input(i));
                    if (s == null) {
                        return ShapeInference.one(xt, null);
                    }
                    if (s.rank() != xs.rank()) {
                        throw fault("inputs of ranks " + xs.rank() + " and " + s.rank() + " cannot be concatenated");
                    }
                    if (i > 0) {
                        sum = add(sum, s.dim(axis));
                    }
                    long[] k = si.known.get(n.input(i));
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
                    si.known.put(n.output(0), vals.stream().mapToLong(Long::longValue).toArray());
                }
                return ShapeInference.one(xt, new Shape(d));
            }
            case SPLIT:
                return splitTypes(si, n, xt, xs);
            case SLICE:
                return ShapeInference.one(xt, slice(si, n, xs));
            case PAD: {
                long[] pads = si.known.get(n.input(1));
                if (xs == null || pads == null) {
                    return ShapeInference.one(xt, xs == null ? null : unknownDims(xs.rank()));
                }
                long[] axes = n.inputs().size() > 3 && !n.input(3).isEmpty() ? si.known.get(n.input(3)) : null;
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
                return ShapeInference.one(xt, new Shape(d));
            }
            case GATHER: {
                Shape is = si.shape(n.input(1));
                if (xs == null || is == null) {
                    return ShapeInference.one(xt, null);
                }
                int axis = axis(n.intAttr("axis"), xs.rank(), "axis");
                List<Dim> d = new ArrayList<>(xs.dims().subList(0, axis));
                d.addAll(is.dims());
                d.addAll(xs.dims().subList(axis + 1, xs.rank()));
                long[] data = si.known.get(x);
                long[] idx = si.known.get(n.input(1));
                if (data != null && idx != null && xs.rank() == 1) {
                    long[] r = new long[idx.length];
                    for (int i = 0; i < idx.length; i++) {
                        r[i] = data[axis(idx[i], data.length, "index")];
                    }
                    si.known.put(n.output(0), r);
                }
                return ShapeInference.one(xt, new Shape(d));
            }
            default:
                throw new IllegalStateException("no shape rule for " + op + " in ReshapingShapes");
        }
    }

    private static Shape reshape(ShapeInference si, Node n, Shape xs, long[] target) {
        if (target == null) {
            Shape ts = si.shape(n.input(1));
            if (ts != null && ts.rank() == 1 && ts.dim(0).isFixed()) {
                if (ts.dim(0).value() > ShapeInference.MAX_RANK) {
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

    private static List<TensorType> splitTypes(ShapeInference si, Node n, DataType xt, Shape xs) {
        List<TensorType> r = new ArrayList<>();
        int parts = n.outputs().size();
        if (xs == null) {
            for (int i = 0; i < parts; i++) {
                r.add(new TensorType(xt, null));
            }
            return r;
        }
        int axis = axis(n.intAttr("axis"), xs.rank(), "axis");
        long[] sizes = n.inputs().size() > 1 && !n.input(1).isEmpty() ? si.known.get(n.input(1)) : null;
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

    private static Shape slice(ShapeInference si, Node n, Shape xs) {
        if (xs == null) {
            return null;
        }
        long[] starts = si.known.get(n.input(1));
        long[] ends = si.known.get(n.input(2));
        long[] axes = n.inputs().size() > 3 && !n.input(3).isEmpty() ? si.known.get(n.input(3)) : null;
        long[] steps = n.inputs().size() > 4 && !n.input(4).isEmpty() ? si.known.get(n.input(4)) : null;
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
                d.set(ax, Dim.of(Math.max(0, SpatialShapes.ceilDiv(e - s, step))));
            } else {
                s = Math.max(-1, Math.min(len - 1, s));
                e = Math.max(-1, Math.min(len - 1, e));
                d.set(ax, Dim.of(Math.max(0, SpatialShapes.ceilDiv(s - e, -step))));
            }
        }
        return new Shape(d);
    }

    private static boolean contains(long[] axes, int i, int rank) {
        for (long a : axes) {
            if ((a < 0 ? a + rank : a) == i) {
                return true;
            }
        }
        return false;
    }

    static Shape unknownDims(int rank) {
        List<Dim> d = new ArrayList<>();
        for (int i = 0; i < rank; i++) {
            d.add(Dim.UNKNOWN);
        }
        return new Shape(d);
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
