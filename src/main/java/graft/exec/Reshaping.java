package graft.exec;

import graft.ir.DataType;
import graft.ir.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Ops that move elements without arithmetic: Flatten, Reshape, Transpose, Squeeze, Unsqueeze,
 * Concat, Split, Slice, Gather, Pad, Shape, ConstantOfShape. Each builds a source index per
 * output element and copies through it, which keeps every op a few lines of index algebra.
 */
final class Reshaping {
    private Reshaping() {
    }

    /** A new array of {@code src}'s type: element i is src[map[i]], or {@code fill} where map[i] < 0. */
    static NdArray take(NdArray src, int[] shape, int[] map, double fill) {
        int n = map.length;
        if (src.isFloat()) {
            float[] r = new float[n];
            for (int i = 0; i < n; i++) {
                r[i] = map[i] < 0 ? (float) fill : src.f[map[i]];
            }
            return NdArray.floats(src.dtype, shape, r);
        }
        long[] r = new long[n];
        for (int i = 0; i < n; i++) {
            r[i] = map[i] < 0 ? (long) fill : src.l[map[i]];
        }
        return NdArray.longs(src.dtype, shape, r);
    }

    static int axis(long a, int rank) {
        int r = (int) (a < 0 ? a + rank : a);
        if (r < 0 || r >= rank) {
            throw new EvaluationException("axis " + a + " is outside rank " + rank);
        }
        return r;
    }

    static NdArray flatten(Node n, NdArray x) {
        int axis = (int) n.intAttr("axis");
        if (axis < 0) {
            axis += x.rank();
        }
        int outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= x.shape[i];
        }
        return x.reshaped(new int[]{outer, x.size() / Math.max(1, outer)});
    }

    static NdArray reshape(Node n, NdArray x, NdArray shapeIn) {
        long[] s = shapeIn.toLongs();
        boolean allowZero = n.intAttr("allowzero") != 0;
        int[] r = new int[s.length];
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                unknown = i;
                continue;
            }
            r[i] = (int) (s[i] == 0 && !allowZero ? x.shape[i] : s[i]);
            known *= r[i];
        }
        if (unknown >= 0) {
            r[unknown] = (int) (x.size() / Math.max(1, known));
        }
        return x.reshaped(r);
    }

    static NdArray transpose(Node n, NdArray x) {
        int rank = x.rank();
        long[] dflt = new long[rank];
        for (int i = 0; i < rank; i++) {
            dflt[i] = rank - 1 - i;
        }
        long[] perm = n.intsAttr("perm", dflt);
        int[] p = new int[rank];
        for (int i = 0; i < rank; i++) {
            p[i] = (int) perm[i];
        }
        return permute(x, p);
    }

    /** The array with axes reordered: output axis i is input axis perm[i]. */
    public static NdArray permute(NdArray x, int[] perm) {
        int rank = x.rank();
        int[] out = new int[rank];
        int[] st = NdArray.strides(x.shape);
        int[] ps = new int[rank];
        for (int i = 0; i < rank; i++) {
            out[i] = x.shape[perm[i]];
            ps[i] = st[perm[i]];
        }
        int n = x.size();
        int[] map = new int[n];
        int[] idx = new int[rank];
        int off = 0;
        for (int i = 0; i < n; i++) {
            map[i] = off;
            for (int d = rank - 1; d >= 0; d--) {
                idx[d]++;
                off += ps[d];
                if (idx[d] < out[d]) {
                    break;
                }
                off -= ps[d] * out[d];
                idx[d] = 0;
            }
        }
        return take(x, out, map, 0);
    }

    static NdArray squeeze(NdArray x, NdArray axesIn) {
        boolean[] drop = new boolean[x.rank()];
        if (axesIn == null) {
            for (int i = 0; i < x.rank(); i++) {
                drop[i] = x.shape[i] == 1;
            }
        } else {
            for (long a : axesIn.toLongs()) {
                drop[axis(a, x.rank())] = true;
            }
        }
        List<Integer> r = new ArrayList<>();
        for (int i = 0; i < x.rank(); i++) {
            if (!drop[i]) {
                r.add(x.shape[i]);
            }
        }
        return x.reshaped(r.stream().mapToInt(Integer::intValue).toArray());
    }

    static NdArray unsqueeze(NdArray x, NdArray axesIn) {
        long[] axes = axesIn.toLongs();
        int rank = x.rank() + axes.length;
        boolean[] add = new boolean[rank];
        for (long a : axes) {
            add[axis(a, rank)] = true;
        }
        int[] r = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) {
            r[i] = add[i] ? 1 : x.shape[j++];
        }
        return x.reshaped(r);
    }

    static NdArray concat(Node n, List<NdArray> ins) {
        NdArray first = ins.get(0);
        int axis = axis(n.intAttr("axis", 0), first.rank());
        int[] out = first.shape.clone();
        out[axis] = 0;
        for (NdArray a : ins) {
            out[axis] += a.shape[axis];
        }
        int outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= out[i];
        }
        NdArray r = NdArray.zeros(first.dtype, out);
        int rowOut = NdArray.size(out) / Math.max(1, outer);
        int at = 0;
        for (NdArray a : ins) {
            int row = a.size() / Math.max(1, outer);
            for (int o = 0; o < outer; o++) {
                if (r.isFloat()) {
                    System.arraycopy(a.toFloats(), o * row, r.f, o * rowOut + at, row);
                } else {
                    System.arraycopy(a.toLongs(), o * row, r.l, o * rowOut + at, row);
                }
            }
            at += row;
        }
        return r;
    }

    static NdArray[] split(Node n, NdArray x, NdArray splitIn, int outputs) {
        int axis = axis(n.intAttr("axis"), x.rank());
        long[] parts;
        if (splitIn != null) {
            parts = splitIn.toLongs();
        } else {
            parts = new long[outputs];
            int each = (x.shape[axis] + outputs - 1) / outputs;
            for (int i = 0; i < outputs; i++) {
                parts[i] = Math.min(each, x.shape[axis] - (long) each * i);
            }
        }
        NdArray[] r = new NdArray[parts.length];
        long start = 0;
        for (int i = 0; i < parts.length; i++) {
            r[i] = sliceAxis(x, axis, (int) start, (int) (start + parts[i]));
            start += parts[i];
        }
        return r;
    }

    private static NdArray sliceAxis(NdArray x, int axis, int lo, int hi) {
        int[] starts = new int[x.rank()];
        int[] steps = new int[x.rank()];
        int[] out = x.shape.clone();
        Arrays.fill(steps, 1);
        starts[axis] = lo;
        out[axis] = hi - lo;
        return strided(x, starts, steps, out);
    }

    /** Elements x[starts + i * steps] for i over {@code out}. */
    static NdArray strided(NdArray x, int[] starts, int[] steps, int[] out) {
        int rank = x.rank();
        int[] st = NdArray.strides(x.shape);
        int n = NdArray.size(out);
        int[] map = new int[n];
        int[] idx = new int[rank];
        for (int i = 0; i < n; i++) {
            Pooling.unflatten(i, out, idx);
            int off = 0;
            for (int d = 0; d < rank; d++) {
                off += (starts[d] + idx[d] * steps[d]) * st[d];
            }
            map[i] = off;
        }
        return take(x, out, map, 0);
    }

    /** Slice with starts, ends, optional axes and steps, clamped as ONNX 13 defines. */
    static NdArray slice(NdArray x, NdArray startsIn, NdArray endsIn, NdArray axesIn, NdArray stepsIn) {
        int rank = x.rank();
        long[] s = startsIn.toLongs();
        long[] e = endsIn.toLongs();
        long[] axes = axesIn == null ? null : axesIn.toLongs();
        long[] steps = stepsIn == null ? null : stepsIn.toLongs();
        int[] st = new int[rank];
        int[] sp = new int[rank];
        int[] out = x.shape.clone();
        Arrays.fill(sp, 1);
        for (int i = 0; i < s.length; i++) {
            int a = axis(axes == null ? i : axes[i], rank);
            long dim = x.shape[a];
            long step = steps == null ? 1 : steps[i];
            long lo = s[i] < 0 ? s[i] + dim : s[i];
            long hi = e[i] < 0 ? e[i] + dim : e[i];
            if (step > 0) {
                lo = Math.max(0, Math.min(dim, lo));
                hi = Math.max(0, Math.min(dim, hi));
                out[a] = (int) Math.max(0, (hi - lo + step - 1) / step);
            } else {
                lo = Math.max(-1, Math.min(dim - 1, lo));
                hi = Math.max(-1, Math.min(dim - 1, hi));
                out[a] = (int) Math.max(0, (lo - hi + (-step) - 1) / (-step));
            }
            st[a] = (int) lo;
            sp[a] = (int) step;
        }
        return strided(x, st, sp, out);
    }

    static NdArray gather(Node n, NdArray x, NdArray indices) {
        int axis = axis(n.intAttr("axis"), x.rank());
        long[] ind = indices.toLongs();
        int outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= x.shape[i];
        }
        int inner = 1;
        for (int i = axis + 1; i < x.rank(); i++) {
            inner *= x.shape[i];
        }
        int dim = x.shape[axis];
        int[] out = new int[x.rank() - 1 + indices.rank()];
        System.arraycopy(x.shape, 0, out, 0, axis);
        System.arraycopy(indices.shape, 0, out, axis, indices.rank());
        System.arraycopy(x.shape, axis + 1, out, axis + indices.rank(), x.rank() - axis - 1);
        int[] map = new int[outer * ind.length * inner];
        int k = 0;
        for (int o = 0; o < outer; o++) {
            for (long g : ind) {
                if (g < -dim || g >= dim) {
                    throw new EvaluationException("index " + g + " is outside axis " + axis + " of size " + dim);
                }
                int gi = (int) (g < 0 ? g + dim : g);
                for (int i = 0; i < inner; i++) {
                    map[k++] = (o * dim + gi) * inner + i;
                }
            }
        }
        return take(x, out, map, 0);
    }

    /** Pad with mode constant, reflect or edge; pads are (begin..., end...) over all axes. */
    static NdArray pad(Node n, NdArray x, NdArray padsIn, NdArray valueIn) {
        String mode = n.stringAttr("mode");
        long[] pads = padsIn.toLongs();
        int rank = x.rank();
        double value = valueIn == null || valueIn.size() == 0 ? 0 : valueIn.get(0);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            out[i] = (int) (x.shape[i] + pads[i] + pads[i + rank]);
        }
        int[] st = NdArray.strides(x.shape);
        int total = NdArray.size(out);
        int[] map = new int[total];
        int[] idx = new int[rank];
        for (int i = 0; i < total; i++) {
            Pooling.unflatten(i, out, idx);
            int off = 0;
            for (int d = 0; d < rank && off >= 0; d++) {
                int p = (int) (idx[d] - pads[d]);
                int len = x.shape[d];
                if (p < 0 || p >= len) {
                    switch (mode) {
                        case "edge" -> p = p < 0 ? 0 : len - 1;
                        case "reflect" -> p = reflect(p, len);
                        default -> p = -1;
                    }
                }
                off = p < 0 ? -1 : off + p * st[d];
            }
            map[i] = off;
        }
        return take(x, out, map, value);
    }

    private static int reflect(int p, int len) {
        if (len == 1) {
            return 0;
        }
        int period = 2 * (len - 1);
        int m = Math.floorMod(p, period);
        return m < len ? m : period - m;
    }

    static NdArray shape(Node n, NdArray x) {
        int rank = x.rank();
        int start = (int) n.intAttr("start");
        int end = (int) n.intAttr("end", rank);
        start = Math.max(0, Math.min(rank, start < 0 ? start + rank : start));
        end = Math.max(0, Math.min(rank, end < 0 ? end + rank : end));
        long[] r = new long[Math.max(0, end - start)];
        for (int i = 0; i < r.length; i++) {
            r[i] = x.shape[start + i];
        }
        return NdArray.longs(DataType.INT64, new int[]{r.length}, r);
    }

    static NdArray constantOfShape(NdArray shapeIn, NdArray value) {
        int[] s = NdArray.toInts(shapeIn.toLongs());
        DataType t = value == null ? DataType.FLOAT : value.dtype;
        NdArray r = NdArray.zeros(t, s);
        double v = value == null ? 0 : value.get(0);
        if (r.isFloat()) {
            Arrays.fill(r.f, (float) v);
        } else {
            Arrays.fill(r.l, value == null ? 0 : value.getLong(0));
        }
        return r;
    }
}
