package graft.onnx;

import graft.ir.Attr;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.TensorType;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writing one graph at one opset: each node rewritten for it ({@link OpsetDowngrade} for
 * catalogue ops, {@link CarriedOps} for those graft carries unmodelled) and then checked
 * against its op's schema at that opset ({@link OpSchemas}). Holds the opset the graph's carried
 * nodes were read at, the constants (initializers and Constant nodes) that an older opset takes
 * as attributes, the weights a rewrite adds, and the refusals collected so far.
 */
final class OpsetWriting {
    final Graph g;
    final int target;
    final long source;
    final Map<String, Node> constantNodes = new HashMap<>();
    final List<Weight> added = new ArrayList<>();
    final List<String> problems = new ArrayList<>();
    /** Nodes not written: their value became an initializer. */
    final Set<String> dropped = new HashSet<>();
    private final Set<String> names = new HashSet<>();
    /** Nodes a rewrite of the current node needs written before and after it (cleared per node by the exporter). */
    final List<Node> before = new ArrayList<>();
    final List<Node> after = new ArrayList<>();

    OpsetWriting(Graph g, int target) {
        this.g = g;
        this.target = target;
        this.source = g.opsets().getOrDefault("", (long) OpsetAdapter.IR_OPSET);
        for (Node n : g.nodes()) {
            if (n.op() == Op.CONSTANT && n.outputs().size() == 1) {
                constantNodes.put(n.output(0), n);
            }
            names.addAll(n.outputs());
        }
        names.addAll(g.initializers().keySet());
    }

    /** The value of a constant input: an initializer or the output of a Constant node; null otherwise. */
    Weight constant(String value) {
        Weight w = g.initializer(value);
        if (w != null) {
            return w;
        }
        for (Weight a : added) {
            if (a.name().equals(value)) {
                return a;
            }
        }
        Node c = constantNodes.get(value);
        return c == null ? null : Weight.ofConstant(c);
    }

    String addLongs(Node n, String what, long[] values) {
        Weight w = Weight.ofLongs(fresh(n, what), new long[]{values.length}, values);
        added.add(w);
        return w.name();
    }

    String addFloats(Node n, String what, long[] shape, float[] values) {
        Weight w = Weight.ofFloats(fresh(n, what), shape, values);
        added.add(w);
        return w.name();
    }

    /** A value or node name not used in the graph, from the node's name and {@code what}. */
    String freshName(Node n, String what) {
        return fresh(n, what);
    }

    private String fresh(Node n, String what) {
        String base = (n.name().isEmpty() ? n.output(0) : n.name()) + "_" + what;
        String name = base;
        for (int k = 1; names.contains(name); k++) {
            name = base + "_" + k;
        }
        names.add(name);
        return name;
    }

    /**
     * Rewrites one IR node for the target opset, exactly, or records in {@code w.problems} why
     * that opset cannot say what it says (naming the node and the first opset that can); then
     * checks the result against the op's schema at the target opset ({@link OpSchemas}).
     */
    static Node downgrade(Node n, OpsetWriting w) {
        Node d = n.op() != null ? OpsetDowngrade.catalogue(n, w) : n.domain().isEmpty() ? CarriedOps.opaque(n, w) : n;
        if (d.domain().isEmpty() && !w.dropped.contains(n.name())) {
            verify(d, w);
        }
        return d;
    }

    /** Checks a node as it will be written against its op's schema at the target opset. */
    private static void verify(Node n, OpsetWriting w) {
        String op = n.opType();
        String who = op + " '" + n.name() + "'";
        OpSchemas.Schema s = OpSchemas.at(op, w.target);
        if (s == null) {
            List<OpSchemas.Schema> all = OpSchemas.versions(op);
            w.problems.add(all.isEmpty() ? who + " is not an op of the default ONNX domain up to opset 21"
                    : who + " does not exist before opset " + all.get(0).since());
            return;
        }
        if (s.deprecated()) {
            w.problems.add(who + ": " + op + " was removed from ONNX at opset " + s.since());
            return;
        }
        for (String attr : n.attrs().keySet()) {
            if (!s.attrs().contains(attr)) {
                int first = -1;
                for (OpSchemas.Schema v : OpSchemas.versions(op)) {
                    if (v.since() > w.target && v.attrs().contains(attr) && first < 0) {
                        first = v.since();
                    }
                }
                w.problems.add(who + ": attribute '" + attr + "' is not part of " + op + "-" + s.since() + " (opset " + w.target + ")"
                        + (first > 0 ? "; it needs opset " + first : ""));
            }
        }
        for (String r : s.required()) {
            if (!n.attrs().containsKey(r)) {
                w.problems.add(who + ": " + op + "-" + s.since() + " requires attribute '" + r + "'");
            }
        }
        int count = n.inputs().size();
        while (count > 0 && n.inputs().get(count - 1).isEmpty()) {
            count--;
        }
        if (count > s.maxInputs() || count < s.minInputs()) {
            w.problems.add(who + ": " + count + " inputs, " + op + "-" + s.since() + " (opset " + w.target + ") takes "
                    + s.minInputs() + " to " + (s.maxInputs() == Integer.MAX_VALUE ? "any number" : s.maxInputs()));
            return;
        }
        for (int i = 0; i < n.inputs().size(); i++) {
            checkType(n, w, s, i, n.inputs().get(i), true);
        }
        for (int i = 0; i < n.outputs().size(); i++) {
            checkType(n, w, s, i, n.outputs().get(i), false);
        }
    }

    private static void checkType(Node n, OpsetWriting w, OpSchemas.Schema s, int i, String value, boolean input) {
        if (value.isEmpty()) {
            return;
        }
        TensorType t = w.g.type(value);
        if (t == null) {
            Weight c = w.constant(value);
            t = c == null ? null : new TensorType(c.dtype(), null);
        }
        Set<String> allowed = input ? s.allowed(i) : s.allowedOut(i);
        if (t == null || allowed == null) {
            return;
        }
        String name = OpSchemas.typeName(t.dtype());
        OpSchemas.Schema atSource = OpSchemas.at(s.op(), w.source);
        Set<String> before = atSource == null ? null : input ? atSource.allowed(i) : atSource.allowedOut(i);
        if (before != null && !before.contains(name)) {
            // Not allowed where the model was read either: a type graft guessed behind an op it does not model.
            return;
        }
        if (!allowed.contains(name)) {
            int first = -1;
            for (OpSchemas.Schema v : OpSchemas.versions(s.op())) {
                Set<String> a = input ? v.allowed(i) : v.allowedOut(i);
                if (first < 0 && v.since() > w.target && !v.deprecated() && (a == null || a.contains(name))) {
                    first = v.since();
                }
            }
            w.problems.add(s.op() + " '" + n.name() + "': " + (input ? "input " : "output ") + i + " of type " + name
                    + " is not allowed at opset " + w.target + (first > 0 ? "; it needs opset " + first : ""));
        }
    }
}
