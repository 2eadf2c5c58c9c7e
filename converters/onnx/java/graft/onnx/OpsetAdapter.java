package graft.onnx;

import graft.error.InvalidGraphException;
import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.TensorType;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moves catalogue nodes between the opset a file uses and the IR's opset-17 semantics.
 * Reading upgrades (attributes that later opsets turned into inputs become constant inputs);
 * writing to a chosen opset is {@link OpsetWriting}'s.
 */
final class OpsetAdapter {
    static final int IR_OPSET = 17;

    private OpsetAdapter() {
    }

    /** Upgrades one imported node to IR semantics; may add weights to {@code g}. */
    static List<Node> upgrade(Node n, long opset, Graph g) {
        Op op = n.op();
        List<Node> out = new ArrayList<>();
        Map<String, Attr> a = new LinkedHashMap<>(n.attrs());
        List<String> in = new ArrayList<>(n.inputs());
        switch (op) {
            case SQUEEZE, UNSQUEEZE -> {
                if (opset < 13 && a.containsKey("axes")) {
                    long[] axes = take(a, "axes", Attr.Kind.INTS, n, opset).asInts();
                    in.add(constant(g, n, "axes", axes));
                }
            }
            case CLIP -> {
                if (opset < 11) {
                    Attr min = optional(a, "min", Attr.Kind.FLOAT, n, opset);
                    Attr max = optional(a, "max", Attr.Kind.FLOAT, n, opset);
                    in.add(min == null ? "" : scalar(g, n, "min", min.asFloat()));
                    if (max != null) {
                        in.add(scalar(g, n, "max", max.asFloat()));
                    }
                    trimTrailingEmpty(in);
                }
            }
            case PAD -> {
                if (opset < 11) {
                    long[] pads = take(a, "pads", Attr.Kind.INTS, n, opset).asInts();
                    Attr value = optional(a, "value", Attr.Kind.FLOAT, n, opset);
                    in.add(constant(g, n, "pads", pads));
                    if (value != null && value.asFloat() != 0f) {
                        in.add(scalar(g, n, "value", value.asFloat()));
                    }
                }
            }
            case DROPOUT -> {
                if (opset < 12) {
                    Attr ratio = optional(a, "ratio", Attr.Kind.FLOAT, n, opset);
                    if (ratio != null) {
                        in.add(scalar(g, n, "ratio", ratio.asFloat()));
                    }
                }
            }
            case SPLIT -> {
                if (opset < 13 && a.containsKey("split")) {
                    in.add(constant(g, n, "split", take(a, "split", Attr.Kind.INTS, n, opset).asInts()));
                }
                a.remove("num_outputs");
            }
            case SLICE -> {
                if (opset < 10) {
                    long[] starts = take(a, "starts", Attr.Kind.INTS, n, opset).asInts();
                    long[] ends = take(a, "ends", Attr.Kind.INTS, n, opset).asInts();
                    Attr axes = optional(a, "axes", Attr.Kind.INTS, n, opset);
                    in.add(constant(g, n, "starts", starts));
                    in.add(constant(g, n, "ends", ends));
                    if (axes != null) {
                        in.add(constant(g, n, "axes", axes.asInts()));
                    }
                }
            }
            case BATCH_NORMALIZATION -> {
                Attr spatial = optional(a, "spatial", Attr.Kind.INT, n, opset);
                if (spatial != null && spatial.asInt() != 1) {
                    throw new UnsupportedModelException("BatchNormalization '" + n.name() + "': spatial=0 is not supported", List.of(n.name()));
                }
                a.remove("consumed_inputs");
                a.remove("is_test");
            }
            case SOFTMAX, LOG_SOFTMAX -> {
                if (opset < 13) {
                    // Before opset 13 the input is coerced to 2-D at axis (default 1). The
                    // rank is known only after shape inference: see fixLegacySoftmax.
                    Attr axis = optional(a, "axis", Attr.Kind.INT, n, opset);
                    a.put("axis", Attr.of(axis != null ? axis.asInt() : 1));
                    out.add(n.withInputs(in).withAttrs(a).withExtras(legacyMark(n)));
                    return out;
                }
            }
            default -> {
            }
        }
        out.add(n.withInputs(in).withAttrs(a));
        return out;
    }

    /**
     * The attribute an older opset requires, removed from {@code a}. Absent or of another kind
     * is the file's fault, reported as a graph problem (never as the NullPointerException or
     * IllegalStateException reading it would raise, which would be graft's own).
     */
    private static Attr take(Map<String, Attr> a, String name, Attr.Kind kind, Node n, long opset) {
        Attr v = optional(a, name, kind, n, opset);
        if (v == null) {
            throw new InvalidGraphException(n.name(), List.of(n.opType() + " '" + n.name() + "' lacks attribute '" + name
                    + "', which opset " + opset + " requires"));
        }
        return v;
    }

    /** The attribute, removed from {@code a}, or null; of another kind (an INT where a FLOAT goes is fine) is refused. */
    private static Attr optional(Map<String, Attr> a, String name, Attr.Kind kind, Node n, long opset) {
        Attr v = a.remove(name);
        if (v != null && v.kind() != kind && !(kind == Attr.Kind.FLOAT && v.kind() == Attr.Kind.INT)) {
            throw new InvalidGraphException(n.name(), List.of(n.opType() + " '" + n.name() + "' has attribute '" + name + "' of kind "
                    + v.kind() + " where opset " + opset + " has " + kind));
        }
        return v;
    }

    private static Map<String, byte[]> legacyMark(Node n) {
        Map<String, byte[]> e = new LinkedHashMap<>(n.extras());
        e.put("onnx.legacy_softmax", new byte[]{1});
        return e;
    }

    /**
     * After shape inference: a legacy Softmax whose axis is the last one means the same in
     * opset 13; any other is expanded to Flatten, Softmax, Reshape back.
     */
    static boolean fixLegacySoftmax(Graph g) {
        boolean changed = false;
        List<Node> nodes = g.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (!n.extras().containsKey("onnx.legacy_softmax")) {
                continue;
            }
            Map<String, byte[]> e = new LinkedHashMap<>(n.extras());
            e.remove("onnx.legacy_softmax");
            TensorType t = g.type(n.input(0));
            long axis = n.intAttr("axis", 1);
            if (t != null && t.shape() != null) {
                int rank = t.shape().rank();
                long ax = axis < 0 ? axis + rank : axis;
                if (ax == rank - 1) {
                    nodes.set(i, n.withAttr("axis", Attr.of(-1L)).withExtras(e));
                    changed = true;
                    continue;
                }
            }
            String x = n.input(0);
            String flat = n.name() + "_flat2d";
            String sm = n.name() + "_2d";
            String shape = n.name() + "_shape";
            Node f = new Node(n.name() + "_flatten", "Flatten", "", n.layer(), List.of(x), List.of(flat), Map.of("axis", Attr.of(axis)), Map.of());
            Node s = new Node(n.name(), n.opType(), "", n.layer(), List.of(flat), List.of(sm), Map.of("axis", Attr.of(1L)), e);
            Node sh = new Node(n.name() + "_shapeof", "Shape", "", n.layer(), List.of(x), List.of(shape), Map.of(), Map.of());
            Node r = new Node(n.name() + "_reshape", "Reshape", "", n.layer(), List.of(sm, shape), n.outputs(), Map.of(), Map.of());
            nodes.remove(i);
            nodes.addAll(i, List.of(f, s, sh, r));
            i += 3;
            changed = true;
        }
        return changed;
    }

    private static void trimTrailingEmpty(List<String> in) {
        while (!in.isEmpty() && in.get(in.size() - 1).isEmpty()) {
            in.remove(in.size() - 1);
        }
    }

    private static String unique(Graph g, Node n, String what) {
        String base = (n.name().isEmpty() ? n.output(0) : n.name()) + "_" + what;
        String name = base;
        int k = 1;
        while (g.initializers().containsKey(name)) {
            name = base + "_" + k++;
        }
        return name;
    }

    static String constant(Graph g, Node n, String what, long[] values) {
        String name = unique(g, n, what);
        g.addInitializer(Weight.ofLongs(name, new long[]{values.length}, values));
        return name;
    }

    static String scalar(Graph g, Node n, String what, float value) {
        String name = unique(g, n, what);
        g.addInitializer(Weight.ofFloats(name, new long[0], new float[]{value}));
        return name;
    }

    /** Opset in which each catalogue op first exists in the default domain. */
    static int since(Op op) {
        return switch (op) {
            case CONSTANT_OF_SHAPE -> 9;
            case THRESHOLDED_RELU -> 10;
            default -> 1;
        };
    }
}
