package graft.caffe;

import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The graph Caffe is written from when the model is channels-last (a Keras model as graft reads
 * it: the input layer transposes NHWC to the IR's NCHW, and a 4-D output is transposed back).
 * Caffe blobs are NCHW, so those layout Transposes are not layers: the input becomes an NCHW
 * input of the same name and a 4-D output the NCHW activation itself, and the metadata says so
 * ({@code preprocess.layout=NCHW}, {@code graft.source_layout=NHWC}) so that images are fed
 * channels-first. A shallow copy: nodes, weights and types are shared, the caller's graph is
 * not changed.
 */
final class NchwView {
    private static final long[] TO_NCHW = {0, 3, 1, 2};
    private static final long[] TO_NHWC = {0, 2, 3, 1};

    private NchwView() {
    }

    static Graph of(Graph g) {
        List<Value> nhwcInputs = new ArrayList<>();
        for (Value v : g.inputs()) {
            List<Node> readers = g.consumers(v.name());
            if (rank(g, v.name()) == 4 && !readers.isEmpty() && readers.stream().allMatch(n -> isPerm(n, TO_NCHW))) {
                nhwcInputs.add(v);
            }
        }
        if (nhwcInputs.isEmpty()) {
            return g;
        }
        Graph c = g.copy();
        for (Value v : nhwcInputs) {
            TensorType t = g.type(v.name());
            Shape s = t.shape();
            TensorType nchw = new TensorType(t.dtype(), Shape.of(s.dim(0), s.dim(3), s.dim(1), s.dim(2)));
            for (Node tr : g.consumers(v.name())) {
                c.nodes().remove(tr);
                c.renameValue(tr.output(0), v.name());
            }
            c.inputs().set(c.inputs().indexOf(v), new Value(v.name(), nchw));
            c.types().put(v.name(), nchw);
        }
        for (int i = 0; i < c.outputs().size(); i++) {
            Node tr = c.producer(c.outputs().get(i).name());
            if (tr != null && isPerm(tr, TO_NHWC) && c.consumers(tr.output(0)).isEmpty() && rank(c, tr.input(0)) == 4
                    && c.outputs().stream().noneMatch(o -> o.name().equals(tr.input(0)))) {
                c.nodes().remove(tr);
                c.outputs().set(i, new Value(tr.input(0), c.type(tr.input(0))));
            }
        }
        c.metadata().put("preprocess.layout", "NCHW");
        c.metadata().put("graft.source_layout", "NHWC");
        return c;
    }

    private static int rank(Graph g, String v) {
        TensorType t = g.type(v);
        return t == null || t.shape() == null ? -1 : t.shape().rank();
    }

    private static boolean isPerm(Node n, long[] perm) {
        return n.op() == Op.TRANSPOSE && Arrays.equals(n.intsAttr("perm", new long[0]), perm);
    }
}
