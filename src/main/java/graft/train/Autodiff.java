package graft.train;

import graft.ir.Op;
import graft.error.UnsupportedModelException;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.TensorType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode differentiation over IR nodes. Given the forward nodes (already prepared for
 * training by {@link #prepare}), seed gradients for some of their outputs and the values to
 * differentiate with respect to, it appends the backward pass as standard ONNX nodes through an
 * {@link Emitter} and returns the gradient value of each requested value.
 *
 * <p>Only the part of the graph that depends on a requested value is differentiated: a node
 * none of whose inputs needs a gradient emits nothing. Shapes come from the forward graph's
 * inferred types ({@code graft.ir.ShapeInference}); rules that need static spatial sizes
 * (Conv, pools) fail with {@link UnsupportedModelException} when they are symbolic.
 */
public final class Autodiff {
    private final Graph types;
    private final Emitter e;

    private Autodiff(Graph types, Emitter e) {
        this.types = types;
        this.e = e;
    }

    /**
     * Rewrites forward nodes whose gradient needs more than their inference form gives:
     * MaxPool gains its Indices output, GlobalMaxPool becomes such a MaxPool over the whole
     * plane, Dropout runs in training mode with its mask when {@code dropout} is true and as
     * Identity otherwise. Other nodes are returned as they are.
     */
    public static List<Node> prepare(List<Node> nodes, Graph types, Emitter e, boolean dropout) {
        return prepare(nodes, types, e, dropout, null);
    }

    /**
     * A Dropout mask fed from outside the step: {@code input} holds 0 or 1 / (1 - ratio) per
     * element of a batch shaped {@code [N, sampleShape]}; the layer's output is x * mask.
     */
    public record Mask(String input, double ratio, long[] sampleShape) {
    }

    /**
     * As above; with {@code masks} non-null, a training-mode Dropout whose ratio is a constant
     * and whose input has a fixed per-sample shape becomes x * mask with the mask an input of the
     * step (recorded in {@code masks}), so the caller draws it from its own seeded generator.
     */
    public static List<Node> prepare(List<Node> nodes, Graph types, Emitter e, boolean dropout, List<Mask> masks) {
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (n.op() == null) {
                out.add(n);
                continue;
            }
            switch (n.op()) {
                case MAX_POOL -> out.add(n.outputs().size() > 1 && !n.output(1).isEmpty() ? n
                        : n.withOutputs(List.of(n.output(0), n.output(0) + "__indices")));
                case GLOBAL_MAX_POOL -> {
                    long[] s = staticShape(types, n.input(0), n);
                    long[] k = new long[s.length - 2];
                    System.arraycopy(s, 2, k, 0, k.length);
                    out.add(new Node(n.name(), "MaxPool", "", n.layer(), n.inputs(),
                            List.of(n.output(0), n.output(0) + "__indices"), Emitter.attrs("kernel_shape", k), Map.of()));
                }
                case DROPOUT -> {
                    Mask m = dropout && masks != null ? mask(n, types) : null;
                    if (m != null) {
                        masks.add(m);
                        out.add(new Node(n.name(), "Mul", "", n.layer(), List.of(n.input(0), m.input()), List.of(n.output(0)), Map.of(),
                                Map.of()));
                    } else if (dropout) {
                        String ratio = n.input(1).isEmpty() ? e.scalar(0.5) : n.input(1);
                        String mode = e.bool(true);
                        out.add(n.withInputs(List.of(n.input(0), ratio, mode))
                                .withOutputs(List.of(n.output(0), n.output(0) + "__mask")));
                    } else {
                        out.add(new Node(n.name(), "Identity", "", n.layer(), List.of(n.input(0)), List.of(n.output(0)),
                                Map.of(), Map.of()));
                    }
                }
                default -> out.add(n);
            }
        }
        return out;
    }

    /** The fed mask of a Dropout node, or null when its ratio or its per-sample shape is not constant. */
    private static Mask mask(Node n, Graph types) {
        double ratio = 0.5;
        if (n.inputs().size() > 1 && !n.input(1).isEmpty()) {
            graft.ir.Weight w = types.initializer(n.input(1));
            if (w == null || w.elementCount() != 1) {
                return null;
            }
            ratio = w.toFloats()[0];
        }
        graft.ir.TensorType t = types.type(n.input(0));
        if (t == null || t.shape() == null || t.shape().rank() < 1) {
            return null;
        }
        long[] s = new long[t.shape().rank() - 1];
        for (int i = 0; i < s.length; i++) {
            if (!t.shape().dim(i + 1).isFixed()) {
                return null;
            }
            s[i] = t.shape().dim(i + 1).value();
        }
        return new Mask(n.output(0) + "__mask_in", ratio, s);
    }

    /**
     * Appends the backward pass of {@code nodes} and returns, for each value of {@code wrt}, the
     * name of its gradient. {@code seeds} maps forward values to their given gradients.
     */
    public static Map<String, String> backward(List<Node> nodes, Graph types, Emitter e, Map<String, String> seeds,
                                               Set<String> wrt) {
        return new Autodiff(types, e).run(nodes, seeds, wrt);
    }

    private Map<String, String> run(List<Node> nodes, Map<String, String> seeds, Set<String> wrt) {
        Set<String> needs = new HashSet<>(wrt);
        for (Node n : nodes) {
            if (n.inputs().stream().anyMatch(needs::contains)) {
                needs.addAll(n.outputs());
            }
        }
        Map<String, List<String>> parts = new LinkedHashMap<>();
        seeds.forEach((v, g) -> parts.computeIfAbsent(v, k -> new ArrayList<>()).add(g));
        GradRules rules = new GradRules(this);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            boolean[] want = new boolean[n.inputs().size()];
            boolean any = false;
            for (int j = 0; j < want.length; j++) {
                want[j] = needs.contains(n.input(j));
                any |= want[j];
            }
            String dy = total(parts, n.output(0));
            if (!any || dy == null) {
                continue;
            }
            String[] dx = rules.apply(n, dy, want);
            for (int j = 0; j < want.length; j++) {
                if (want[j] && dx[j] != null) {
                    parts.computeIfAbsent(n.input(j), k -> new ArrayList<>()).add(dx[j]);
                }
            }
        }
        Map<String, String> r = new LinkedHashMap<>();
        for (String w : wrt) {
            String g = total(parts, w);
            if (g == null) {
                throw new UnsupportedModelException("parameter '" + w + "' (training step): the loss does not depend on it. "
                        + "Freeze it or check the graph");
            }
            r.put(w, g);
        }
        return r;
    }

    /** The sum of a value's gradient contributions, emitted once and cached. */
    private String total(Map<String, List<String>> parts, String v) {
        List<String> p = parts.get(v);
        if (p == null || p.isEmpty()) {
            return null;
        }
        if (p.size() > 1) {
            String s = e.op("Sum", p.toArray(new String[0]));
            p.clear();
            p.add(s);
        }
        return p.get(0);
    }

    Emitter emitter() {
        return e;
    }

    /** Dimensions of a forward value, -1 where symbolic; null when its type is unknown. */
    long[] shape(String v) {
        TensorType t = types.type(v);
        if (t == null || t.shape() == null) {
            return null;
        }
        long[] s = new long[t.shape().rank()];
        for (int i = 0; i < s.length; i++) {
            Dim d = t.shape().dim(i);
            s[i] = d.isFixed() ? d.value() : -1;
        }
        return s;
    }

    /**
     * The values of a constant integer input, or null when it is computed or absent: an
     * initializer, or the output of a Constant node (PyTorch's export gives Pad its pads that way,
     * e.g. densenet121's all-zero pads before each transition's AveragePool).
     */
    long[] constantLongs(String v) {
        graft.ir.Weight w = v == null || v.isEmpty() ? null : types.initializer(v);
        Node c = w == null && v != null && !v.isEmpty() ? types.producer(v) : null;
        if (c != null && c.op() == graft.ir.Op.CONSTANT) {
            w = graft.ir.Weight.ofConstant(c);
        }
        if (w == null) {
            return null;
        }
        float[] f = w.toFloats();
        long[] r = new long[f.length];
        for (int i = 0; i < f.length; i++) {
            r[i] = (long) f[i];
        }
        return r;
    }

    long[] staticShape(String v, Node n) {
        return staticShape(types, v, n);
    }

    static long[] staticShape(Graph types, String v, Node n) {
        TensorType t = types.type(v);
        if (t == null || t.shape() == null) {
            throw new UnsupportedModelException(n.opType() + " '" + n.name() + "' (training step): the shape of '" + v
                    + "' is unknown. Fix the input size so shape inference can run");
        }
        long[] s = new long[t.shape().rank()];
        for (int i = 0; i < s.length; i++) {
            Dim d = t.shape().dim(i);
            if (!d.isFixed() && i > 0) {
                throw new UnsupportedModelException(n.opType() + " '" + n.name() + "' (training step): dimension " + i + " of '"
                        + v + "' is symbolic (" + d + "). Fix the input size, e.g. with --size");
            }
            s[i] = d.isFixed() ? d.value() : -1;
        }
        return s;
    }
}
