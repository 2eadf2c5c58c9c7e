package graft.ir;

import static graft.ir.ShapeFaults.elementCount;
import static graft.ir.ShapeFaults.fault;

import graft.error.InvalidGraphException;
import java.util.Arrays;
import java.util.List;

/**
 * Shape rules of the ops that make shapes and constants, evaluating small int64 values on the way: Constant,
 * ConstantOfShape, Shape, Cast. Part of {@link ShapeInference}.
 */
final class ConstantShapes {
    private ConstantShapes() {
    }

    static List<TensorType> infer(ShapeInference si, Op op, Node n, String x, DataType xt, Shape xs) {
        switch (op) {
            case CONSTANT: {
                Attr v = n.attr("value");
                if (v != null) {
                    Weight w = v.asTensor();
                    if ((w.dtype() == DataType.INT64 || w.dtype() == DataType.INT32) && w.elementCount() <= 64) {
                        si.known.put(n.output(0), w.toLongs());
                    }
                    return ShapeInference.one(w.dtype(), Shape.of(w.shape()));
                }
                if (n.attr("value_int") != null) {
                    si.known.put(n.output(0), new long[]{n.attr("value_int").asInt()});
                    return ShapeInference.one(DataType.INT64, new Shape(List.of()));
                }
                if (n.attr("value_ints") != null) {
                    long[] v2 = n.attr("value_ints").asInts();
                    si.known.put(n.output(0), v2);
                    return ShapeInference.one(DataType.INT64, Shape.of(v2.length));
                }
                if (n.attr("value_float") != null) {
                    return ShapeInference.one(DataType.FLOAT, new Shape(List.of()));
                }
                if (n.attr("value_floats") != null) {
                    return ShapeInference.one(DataType.FLOAT, Shape.of(n.attr("value_floats").asFloats().length));
                }
                return ShapeInference.one(DataType.FLOAT, null);
            }
            case CONSTANT_OF_SHAPE: {
                long[] s = si.known.get(x);
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
                    si.known.put(n.output(0), vals);
                }
                return ShapeInference.one(t, s == null ? null : Shape.of(s));
            }
            case SHAPE: {
                if (xs == null) {
                    return ShapeInference.one(DataType.INT64, null);
                }
                int r = xs.rank();
                int start = (int) clampAxis(n.intAttr("start"), r);
                int end = (int) clampAxis(n.intAttr("end", r), r);
                int len = Math.max(0, end - start);
                Shape sub = new Shape(xs.dims().subList(start, start + len));
                if (sub.isFixed()) {
                    si.known.put(n.output(0), sub.toArray());
                }
                return ShapeInference.one(DataType.INT64, Shape.of(len));
            }
            case CAST: {
                DataType to = DataType.fromCode((int) n.intAttr("to", 0));
                if (to == null) {
                    si.problems.add(new InvalidGraphException.Problem(n.name(), "Cast '" + n.name() + "': unknown target type " + n.intAttr("to", 0)));
                    return ShapeInference.one(xt, xs);
                }
                if (!to.isFloating() && !xt.isFloating() && si.known.containsKey(x) && to != DataType.BOOL) {
                    si.known.put(n.output(0), si.known.get(x));
                }
                return ShapeInference.one(to, xs);
            }
            default:
                throw new IllegalStateException("no shape rule for " + op + " in ConstantShapes");
        }
    }

    private static long clampAxis(long a, int r) {
        if (a < 0) {
            a += r;
        }
        return Math.max(0, Math.min(r, a));
    }
}
