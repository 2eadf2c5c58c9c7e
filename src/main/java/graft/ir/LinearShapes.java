package graft.ir;

import static graft.ir.ShapeFaults.fault;
import static graft.ir.ShapeFaults.requireRank;

import java.util.ArrayList;
import java.util.List;

/** Shape rules of Gemm and MatMul (exec: Linear). Part of {@link ShapeInference}. */
final class LinearShapes {
    private LinearShapes() {
    }

    static List<TensorType> infer(ShapeInference si, Op op, Node n, String x, DataType xt, Shape xs) {
        switch (op) {
            case GEMM: {
                Shape a = xs;
                Shape b = si.shape(n.input(1));
                if (a == null || b == null) {
                    return ShapeInference.one(xt, null);
                }
                requireRank(a, 2, "A");
                requireRank(b, 2, "B");
                Dim m = n.intAttr("transA") == 0 ? a.dim(0) : a.dim(1);
                Dim k = n.intAttr("transA") == 0 ? a.dim(1) : a.dim(0);
                Dim kb = n.intAttr("transB") == 0 ? b.dim(0) : b.dim(1);
                Dim nn = n.intAttr("transB") == 0 ? b.dim(1) : b.dim(0);
                requireEqual(n, k, kb, "inner dimensions");
                return ShapeInference.one(xt, Shape.of(m, nn));
            }
            case MAT_MUL: {
                Shape a = xs;
                Shape b = si.shape(n.input(1));
                if (a == null || b == null) {
                    return ShapeInference.one(xt, null);
                }
                if (a.rank() == 0 || b.rank() == 0) {
                    throw fault("MatMul of a scalar " + a + " x " + b);
                }
                if (a.rank() == 1 || b.rank() == 1) {
                    return ShapeInference.one(xt, null);
                }
                requireEqual(n, a.dim(-1), b.dim(-2), "inner dimensions");
                List<Dim> batch = ElementwiseShapes.broadcast(n, new Shape(a.dims().subList(0, a.rank() - 2)),
                        new Shape(b.dims().subList(0, b.rank() - 2))).dims();
                List<Dim> d = new ArrayList<>(batch);
                d.add(a.dim(-2));
                d.add(b.dim(-1));
                return ShapeInference.one(xt, new Shape(d));
            }
            default:
                throw new IllegalStateException("no shape rule for " + op + " in LinearShapes");
        }
    }

    static void requireEqual(Node n, Dim a, Dim b, String what) {
        if (a.isFixed() && b.isFixed() && a.value() != b.value()) {
            throw fault(what + " " + a + " and " + b + " differ");
        }
    }
}
