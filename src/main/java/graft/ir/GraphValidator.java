package graft.ir;

import graft.error.InvalidGraphException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks the IR invariants every importer and edit must leave behind: each node input is a
 * graph input, a weight or an earlier node's output; no value is produced twice; catalogue
 * nodes have the arity and attributes their schema declares; there is an output and every
 * graph output is produced.
 */
public final class GraphValidator {
    private GraphValidator() {
    }

    public static List<String> problems(Graph g) {
        List<String> m = new ArrayList<>();
        for (InvalidGraphException.Problem p : structuredProblems(g)) {
            m.add(p.message());
        }
        return m;
    }

    /** The problems, each with the node it is about (null for the graph's inputs and outputs). */
    public static List<InvalidGraphException.Problem> structuredProblems(Graph g) {
        List<InvalidGraphException.Problem> p = new ArrayList<>();
        Set<String> defined = new HashSet<>();
        for (Value v : g.inputs()) {
            if (!defined.add(v.name())) {
                p.add(new InvalidGraphException.Problem(null, "input '" + v.name() + "' is declared twice"));
            }
        }
        for (String w : g.initializers().keySet()) {
            defined.add(w);
        }
        Set<String> nodeNames = new HashSet<>();
        for (Node n : g.nodes()) {
            Op op = n.op();
            if (op != null) {
                for (String m : op.problems(n)) {
                    p.add(new InvalidGraphException.Problem(n.name(), m));
                }
            }
            if (!n.name().isEmpty() && !nodeNames.add(n.name())) {
                p.add(new InvalidGraphException.Problem(n.name(), "node name '" + n.name() + "' is used twice"));
            }
            for (String in : n.inputs()) {
                if (!in.isEmpty() && !defined.contains(in) && op != null) {
                    p.add(new InvalidGraphException.Problem(n.name(), n.opType() + " '" + n.name() + "' reads '" + in + "', which nothing before it produces"));
                }
            }
            for (String out : n.outputs()) {
                if (!out.isEmpty() && !defined.add(out)) {
                    p.add(new InvalidGraphException.Problem(n.name(), n.opType() + " '" + n.name() + "' produces '" + out + "', which is already defined"));
                }
            }
        }
        if (g.outputs().isEmpty()) {
            p.add(new InvalidGraphException.Problem(null, "the graph has no outputs"));
        }
        for (Value v : g.outputs()) {
            if (!defined.contains(v.name())) {
                p.add(new InvalidGraphException.Problem(null, "output '" + v.name() + "' is produced by no node"));
            }
        }
        return p;
    }

    public static void check(Graph g) {
        List<InvalidGraphException.Problem> p = structuredProblems(g);
        if (!p.isEmpty()) {
            throw InvalidGraphException.of(g.name(), p);
        }
    }
}
