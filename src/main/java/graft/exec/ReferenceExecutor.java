package graft.exec;

import graft.error.UnsupportedModelException;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Tensor;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Runs an IR graph without ONNX Runtime: every node of the core catalogue is interpreted by a
 * few lines of Java (float32 storage, float64 accumulation), so that ONNX Runtime can be checked
 * against an implementation that shares no code with it. Convolutions, Gemm and pools use both
 * cores. Opaque (non-catalogue) nodes are refused by name before anything runs.
 *
 * <p>Stateless and thread-safe; each {@link #start} makes an independent {@link Execution}.
 */
public final class ReferenceExecutor {
    /** Every catalogue op the executor interprets (all of them, today). */
    public static final Set<Op> SUPPORTED = EnumSet.allOf(Op.class);

    private ReferenceExecutor() {
    }

    /** The supported op names, sorted (the README's list). */
    public static List<String> supportedOpNames() {
        TreeSet<String> s = new TreeSet<>();
        for (Op op : SUPPORTED) {
            s.add(op.opName());
        }
        return new ArrayList<>(s);
    }

    /** Nodes the executor cannot run, as "OpType 'name'"; empty when it can run the graph. */
    public static List<String> unsupported(Graph g) {
        List<String> r = new ArrayList<>();
        for (Node n : g.nodes()) {
            Op op = n.op();
            if (op == null || !SUPPORTED.contains(op)) {
                r.add(n.opType() + " '" + n.name() + "'");
            }
        }
        return r;
    }

    /** Refuses, naming every offending node, a graph with ops the executor does not know. */
    public static void checkSupported(Graph g) {
        List<String> bad = unsupported(g);
        if (!bad.isEmpty()) {
            throw new UnsupportedModelException("graph '" + g.name() + "' (reference executor): " + bad.size()
                    + " node(s) outside the core op catalogue: " + String.join(", ", bad.subList(0, Math.min(5, bad.size())))
                    + ". Compare these models with ONNX Runtime only.", bad);
        }
    }

    /** Starts an execution; {@code keep} names values to hold after their last use (graph outputs are always kept). */
    public static Execution start(Graph g, Map<String, Tensor> feeds, Set<String> keep) {
        checkSupported(g);
        return new Execution(g, feeds, keep);
    }

    /** Runs the whole graph and returns its outputs in declaration order. */
    public static Map<String, Tensor> run(Graph g, Map<String, Tensor> feeds) {
        Execution e = start(g, feeds, Set.of());
        e.runThrough(g.nodes().size() - 1);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Value v : g.outputs()) {
            out.put(v.name(), e.value(v.name()).toTensor());
        }
        return out;
    }
}
