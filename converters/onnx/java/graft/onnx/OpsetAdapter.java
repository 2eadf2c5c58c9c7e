package graft.onnx;

import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.DataType;
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
 * writing downgrades to the chosen opset, or refuses by node name what that opset cannot say.
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
                    long[] axes = a.remove("axes").asInts();
                    in.add(constant(g, n, "axes", axes));
                }
            }
            case CLIP -> {
                if (opset < 11) {
                    Attr min = a.remove("min");
                    Attr max = a.remove("max");
                    in.add(min == null ? "" : scalar(g, n, "min", min.asFloat()));
                    if (max != null) {
                        in.add(scalar(g, n, "max", max.asFloat()));
                    }
                    trimTrailingEmpty(in);
                }
            }
            case PAD -> {
                if (opset < 11) {
                    long[] pads = a.remove("pads").asInts();
                    Attr value = a.remove("value");
                    in.add(constant(g, n, "pads", pads));
                    if (value != null && value.asFloat() != 0f) {
                        in.add(scalar(g, n, "value", value.asFloat()));
                    }
                }
            }
            case DROPOUT -> {
                if (opset < 12) {
                    Attr ratio = a.remove("ratio");
                    if (ratio != null) {
                        in.add(scalar(g, n, "ratio", ratio.asFloat()));
                    }
                }
            }
            case SPLIT -> {
                if (opset < 13 && a.containsKey("split")) {
                    in.add(constant(g, n, "split", a.remove("split").asInts()));
                }
                a.remove("num_outputs");
            }
            case SLICE -> {
                if (opset < 10) {
                    long[] starts = a.remove("starts").asInts();
                    long[] ends = a.remove("ends").asInts();
                    Attr axes = a.remove("axes");
                    in.add(constant(g, n, "starts", starts));
                    in.add(constant(g, n, "ends", ends));
                    if (axes != null) {
                        in.add(constant(g, n, "axes", axes.asInts()));
                    }
                }
            }
            case BATCH_NORMALIZATION -> {
                Attr spatial = a.remove("spatial");
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
                    a.put("axis", Attr.of(a.containsKey("axis") ? a.get("axis").asInt() : 1));
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

    /**
     * Rewrites IR nodes for the target opset. Returns the nodes to write; constant inputs that
     * become attributes are read from the graph's weights. Collects refusals in {@code problems}.
     */
    static Node downgrade(Node n, int target, Graph g, List<String> problems) {
        Op op = n.op();
        if (op == null) {
            return n;
        }
        if (since(op) > target) {
            problems.add(n.opType() + " '" + n.name() + "' does not exist before opset " + since(op));
            return n;
        }
        Map<String, Attr> a = new LinkedHashMap<>(n.attrs());
        List<String> in = new ArrayList<>(n.inputs());
        dropNewerAttributes(n, a, target, problems);
        switch (op) {
            case SQUEEZE, UNSQUEEZE -> {
                if (target < 13 && in.size() > 1 && !in.get(1).isEmpty()) {
                    a.put("axes", Attr.ints(constInts(g, n, in.get(1), problems)));
                    in.remove(1);
                }
            }
            case SPLIT -> {
                if (target < 13 && in.size() > 1 && !in.get(1).isEmpty()) {
                    a.put("split", Attr.ints(constInts(g, n, in.get(1), problems)));
                    in.remove(1);
                } else if (target >= 18 && (in.size() < 2 || in.get(1).isEmpty())) {
                    a.put("num_outputs", Attr.of((long) n.outputs().size()));
                }
            }
            case SOFTMAX, LOG_SOFTMAX -> {
                if (target < 13) {
                    TensorType t = g.type(n.input(0));
                    long axis = n.intAttr("axis", -1);
                    if (t == null || t.shape() == null) {
                        problems.add(n.opType() + " '" + n.name() + "': input rank unknown, cannot write it below opset 13");
                    } else {
                        int rank = t.shape().rank();
                        long ax = axis < 0 ? axis + rank : axis;
                        if (ax != rank - 1) {
                            problems.add(n.opType() + " '" + n.name() + "' over axis " + ax + " of a rank-" + rank
                                    + " input cannot be written below opset 13");
                        }
                        a.put("axis", Attr.of((long) rank - 1));
                    }
                }
            }
            case DROPOUT -> {
                if (target < 12) {
                    if (in.size() > 2 && !in.get(2).isEmpty()) {
                        problems.add("Dropout '" + n.name() + "' in training mode cannot be written below opset 12");
                    }
                    if (in.size() > 1 && !in.get(1).isEmpty()) {
                        a.put("ratio", Attr.of(constFloat(g, n, in.get(1), problems)));
                    }
                    in = new ArrayList<>(in.subList(0, 1));
                    a.remove("seed");
                }
            }
            case CLIP -> {
                if (target < 11) {
                    if (in.size() > 1 && !in.get(1).isEmpty()) {
                        a.put("min", Attr.of(constFloat(g, n, in.get(1), problems)));
                    }
                    if (in.size() > 2 && !in.get(2).isEmpty()) {
                        a.put("max", Attr.of(constFloat(g, n, in.get(2), problems)));
                    }
                    in = new ArrayList<>(in.subList(0, 1));
                }
            }
            case PAD -> {
                if (in.size() > 3 && !in.get(3).isEmpty() && target < 18) {
                    problems.add("Pad '" + n.name() + "' with axes needs opset 18");
                }
                if (target < 11) {
                    a.put("pads", Attr.ints(constInts(g, n, in.get(1), problems)));
                    if (in.size() > 2 && !in.get(2).isEmpty()) {
                        a.put("value", Attr.of(constFloat(g, n, in.get(2), problems)));
                    }
                    in = new ArrayList<>(in.subList(0, 1));
                }
            }
            case SLICE -> {
                if (target < 10) {
                    a.put("starts", Attr.ints(constInts(g, n, in.get(1), problems)));
                    a.put("ends", Attr.ints(constInts(g, n, in.get(2), problems)));
                    if (in.size() > 3 && !in.get(3).isEmpty()) {
                        a.put("axes", Attr.ints(constInts(g, n, in.get(3), problems)));
                    }
                    if (in.size() > 4 && !in.get(4).isEmpty()) {
                        problems.add("Slice '" + n.name() + "' with steps needs opset 10");
                    }
                    in = new ArrayList<>(in.subList(0, 1));
                }
            }
            case MAX_POOL, AVERAGE_POOL -> {
                if (target < 10 && n.intAttr("ceil_mode", 0) != 0) {
                    problems.add(n.opType() + " '" + n.name() + "' with ceil_mode needs opset 10");
                }
                if (target < 19 && op == Op.AVERAGE_POOL && n.attr("dilations") != null) {
                    problems.add("AveragePool '" + n.name() + "' with dilations needs opset 19");
                }
            }
            case SHAPE -> {
                if (target < 15 && (n.attr("start") != null || n.attr("end") != null)) {
                    problems.add("Shape '" + n.name() + "' with start/end needs opset 15");
                }
            }
            case RESHAPE -> {
                if (target < 14 && n.intAttr("allowzero", 0) != 0) {
                    problems.add("Reshape '" + n.name() + "' with allowzero needs opset 14");
                }
            }
            case BATCH_NORMALIZATION -> {
                if (target < 14) {
                    a.remove("training_mode");
                }
                if (target < 9) {
                    a.put("spatial", Attr.of(1L));
                }
            }
            default -> {
            }
        }
        return new Node(n.name(), n.opType(), n.domain(), n.layer(), in, n.outputs(), a, n.extras());
    }

    /** Attributes added to an op after opset 7: (op, attribute, opset introduced, default). */
    private record Introduced(Op op, String attr, int since, long dflt) {
    }

    private static final List<Introduced> INTRODUCED = List.of(
            new Introduced(Op.MAX_POOL, "storage_order", 8, 0), new Introduced(Op.MAX_POOL, "ceil_mode", 10, 0),
            new Introduced(Op.MAX_POOL, "dilations", 10, 1), new Introduced(Op.AVERAGE_POOL, "ceil_mode", 10, 0),
            new Introduced(Op.AVERAGE_POOL, "dilations", 19, 1), new Introduced(Op.SHAPE, "start", 15, 0),
            new Introduced(Op.RESHAPE, "allowzero", 14, 0), new Introduced(Op.DROPOUT, "seed", 12, Long.MIN_VALUE));

    /** Drops attributes the target opset does not know when they hold their default; refuses otherwise. */
    private static void dropNewerAttributes(Node n, Map<String, Attr> a, int target, List<String> problems) {
        for (Introduced i : INTRODUCED) {
            if (i.op() != n.op() || target >= i.since() || !a.containsKey(i.attr())) {
                continue;
            }
            Attr v = a.remove(i.attr());
            boolean isDefault = switch (v.kind()) {
                case INT -> v.asInt() == i.dflt();
                case INTS -> java.util.Arrays.stream(v.asInts()).allMatch(x -> x == i.dflt());
                default -> false;
            };
            if (!isDefault && i.dflt() != Long.MIN_VALUE) {
                problems.add(n.opType() + " '" + n.name() + "' attribute " + i.attr() + "=" + v + " needs opset " + i.since());
            }
        }
    }

    private static long[] constInts(Graph g, Node n, String value, List<String> problems) {
        Weight w = g.initializer(value);
        if (w == null) {
            problems.add(n.opType() + " '" + n.name() + "': input '" + value + "' must be a constant to be written at this opset");
            return new long[0];
        }
        return w.toLongs();
    }

    private static float constFloat(Graph g, Node n, String value, List<String> problems) {
        Weight w = g.initializer(value);
        if (w == null || w.dtype() == DataType.STRING) {
            problems.add(n.opType() + " '" + n.name() + "': input '" + value + "' must be a constant to be written at this opset");
            return 0f;
        }
        return w.toFloats()[0];
    }
}
