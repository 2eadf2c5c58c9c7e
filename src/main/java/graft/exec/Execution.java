package graft.exec;

import graft.error.InvalidGraphException;
import graft.error.MissingInputException;
import graft.error.UnsupportedModelException;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One run of a graph, advanced node by node. Values live only until their last consumer has
 * run (weights are decoded on first use and dropped after their last), so the memory held is
 * the live set of activations, not every activation: the per-layer comparison walks VGG16 this
 * way. Not thread-safe (the kernels it calls parallelise internally).
 */
public final class Execution {
    private final Graph g;
    private final Map<String, NdArray> values = new HashMap<>();
    private final Map<String, Integer> uses = new HashMap<>();
    private final Set<String> keep = new HashSet<>();
    private final Set<String> outputs = new HashSet<>();
    private int next;

    Execution(Graph g, Map<String, Tensor> feeds, Set<String> keepAlso) {
        this.g = g;
        for (Value v : g.outputs()) {
            outputs.add(v.name());
        }
        keep.addAll(outputs);
        keep.addAll(keepAlso);
        for (Node n : g.nodes()) {
            for (String in : n.inputs()) {
                if (!in.isEmpty()) {
                    uses.merge(in, 1, Integer::sum);
                }
            }
        }
        for (Value v : g.inputs()) {
            Tensor t = feeds.get(v.name());
            if (t != null) {
                values.put(v.name(), NdArray.of(t));
            } else if (g.initializer(v.name()) == null) {
                throw new MissingInputException("input '" + v.name() + "' (reference executor): no value was fed");
            }
        }
    }

    /** Index of the next node to run. */
    public int position() {
        return next;
    }

    /** Runs nodes up to and including index {@code last}. */
    public void runThrough(int last) {
        List<Node> nodes = g.nodes();
        while (next <= last && next < nodes.size()) {
            Node n = nodes.get(next++);
            List<NdArray> in = new ArrayList<>();
            for (String name : n.inputs()) {
                in.add(name.isEmpty() ? null : fetch(name, n));
            }
            // trailing absent optionals are dropped so that kernels see the arity they expect
            while (!in.isEmpty() && in.get(in.size() - 1) == null) {
                in.remove(in.size() - 1);
            }
            NdArray[] out;
            try {
                graft.error.TestFault.at("exec");
                out = Kernels.eval(n, n.op(), in);
            } catch (EvaluationException | ArithmeticException e) {
                // The inputs' fault (exit 3). Anything else a kernel throws is graft's bug and goes on (exit 4).
                throw new UnsupportedModelException(n.opType() + " '" + n.name() + "' (reference executor): cannot evaluate on inputs "
                        + in + ": " + (e instanceof EvaluationException ? e.getMessage() : e.toString()) + ". Check the model with ONNX Runtime");
            }
            for (int i = 0; i < n.outputs().size() && i < out.length; i++) {
                String o = n.output(i);
                if (!o.isEmpty() && (uses.containsKey(o) || keep.contains(o))) {
                    values.put(o, out[i]);
                }
            }
            for (String name : n.inputs()) {
                if (!name.isEmpty()) {
                    int left = uses.merge(name, -1, Integer::sum);
                    if (left <= 0 && !keep.contains(name)) {
                        values.remove(name);
                    }
                }
            }
        }
    }

    private NdArray fetch(String name, Node n) {
        NdArray v = values.get(name);
        if (v == null) {
            Weight w = g.initializer(name);
            if (w == null) {
                throw new InvalidGraphException(g.name(), java.util.List.of(n.opType() + " '" + n.name() + "' (reference executor): input '" + name + "' has no value"));
            }
            v = NdArray.of(w);
            values.put(name, v);
        }
        return v;
    }

    /** A computed value still held (a kept value, or one with consumers still to run); null otherwise. */
    public NdArray value(String name) {
        return values.get(name);
    }

    /** The value as a host tensor, or null. */
    public Tensor tensor(String name) {
        NdArray a = values.get(name);
        return a == null ? null : a.toTensor();
    }

    /** Stops keeping a value (once compared); it is dropped now if no consumer still needs it. Graph outputs stay. */
    public void release(String name) {
        if (outputs.contains(name)) {
            return; // graph outputs stay until the run is over
        }
        keep.remove(name);
        if (uses.getOrDefault(name, 0) <= 0) {
            values.remove(name);
        }
    }
}
