package graft.ir;

import static graft.ir.ShapeFaults.fault;

import java.util.ArrayList;
import java.util.List;

/**
 * Shape rules of the element-wise ops: broadcasting arithmetic (with small int64 constants folded), activations,
 * Dropout, BatchNormalization (exec: Elementwise, Normalization). Part of {@link ShapeInference}.
 */
final class ElementwiseShapes {
    private ElementwiseShapes() {
    }

    static List<TensorType> infer(ShapeInference si, Op op, Node n, String x, DataType xt, Shape xs) {
        switch (op) {
            case ADD, SUB, MUL, DIV, POW, MAX, MIN, SUM, MEAN, PRELU: {
                Shape s = xs;
                for (int i = 1; i < n.inputs().size(); i++) {
                    Shape o = si.shape(n.input(i));
                    s = s == null || o == null ? null : broadcast(n, s, o);
                }
                if (op == Op.PRELU) {
                    s = xs;
                }
                List<TensorType> r = ShapeInference.one(xt, s);
                foldArithmetic(si, op, n);
                return r;
            }
            case RELU, LEAKY_RELU, ELU, SELU, THRESHOLDED_RELU, SIGMOID, HARD_SIGMOID, TANH, SOFTPLUS, SOFTSIGN,
                 EXP, LOG, ABS, NEG, SQRT, SOFTMAX, LOG_SOFTMAX, LRN, CLIP, IDENTITY: {
                if (op == Op.IDENTITY && si.known.containsKey(x)) {
                    si.known.put(n.output(0), si.known.get(x));
                }
                return ShapeInference.one(xt, xs);
            }
            case DROPOUT: {
                List<TensorType> r = ShapeInference.one(xt, xs);
                r.add(new TensorType(DataType.BOOL, xs));
                return r;
            }
            case BATCH_NORMALIZATION:
                return ShapeInference.one(xt, xs);
            default:
                throw new IllegalStateException("no shape rule for " + op + " in ElementwiseShapes");
        }
    }

    private static void foldArithmetic(ShapeInference si, Op op, Node n) {
        if (n.inputs().size() != 2) {
            return;
        }
        long[] a = si.known.get(n.input(0));
        long[] b = si.known.get(n.input(1));
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
        si.known.put(n.output(0), r);
    }

    static Shape broadcast(Node n, Shape a, Shape b) {
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
}
