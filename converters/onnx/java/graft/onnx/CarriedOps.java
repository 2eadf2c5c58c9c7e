package graft.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import graft.ir.Attr;
import graft.ir.Node;
import graft.ir.Weight;
import graft.onnx.proto.Onnx.NodeProto;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Default-domain nodes graft carries without modelling them (kept as the source file's
 * NodeProto), written at another opset: unchanged between equivalent versions of their op,
 * rewritten where graft knows the exact equivalent (Reduce axes, Resize/Upsample), refused
 * otherwise.
 */
final class CarriedOps {
    private CarriedOps() {
    }

    /** Reduce ops whose axes became an input: ReduceSum at opset 13, the others at 18. */
    private static int reduceAxesInputSince(String op) {
        return switch (op) {
            case "ReduceSum" -> 13;
            case "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin",
                 "ReduceProd", "ReduceSumSquare" -> 18;
            default -> -1;
        };
    }

    /**
     * Versions at which an op's meaning changed while its inputs and attributes kept their
     * names: a node is not carried across them unchanged.
     */
    private static final Map<String, Integer> MEANING_CHANGED = Map.ofEntries(
            Map.entry("Softmax", 13), Map.entry("LogSoftmax", 13), Map.entry("Hardmax", 13),
            Map.entry("GridSample", 20), Map.entry("GroupNormalization", 21));

    /**
     * Versions that only widened what an op accepts (broadcasting, new mode or reduction values):
     * a node is carried up across them, not down.
     */
    private static final Map<String, Integer> WIDENED = Map.ofEntries(
            Map.entry("Sum", 8), Map.entry("Max", 8), Map.entry("Min", 8), Map.entry("Mean", 8),
            Map.entry("Resize", 19), Map.entry("Pad", 19), Map.entry("ScatterElements", 18), Map.entry("ScatterND", 18));

    /**
     * A node graft carries without modelling it, read at the source file's opset: written as it
     * is while the target opset has the same version of its op, or one with the same inputs
     * whose changes only widened the types or added optional attributes (whose defaults keep
     * the old meaning; {@link #verify} refuses a node using an attribute the target lacks); the
     * Reduce ops' axes move between attribute and input; anything else is refused.
     */
    static Node opaque(Node n, OpsetWriting w) {
        String op = n.opType();
        if (w.source != w.target) {
            String inner = changedInSubgraphs(n, w);
            if (inner != null) {
                w.problems.add(op + " '" + n.name() + "': its subgraph holds " + inner + ", whose version differs between opset "
                        + w.source + " and opset " + w.target + "; graft does not rewrite subgraphs");
                return n;
            }
        }
        OpSchemas.Schema src = OpSchemas.at(op, w.source);
        OpSchemas.Schema dst = OpSchemas.at(op, w.target);
        boolean resample = op.equals("Upsample") || op.equals("Resize");
        if (resample && src != null && (dst == null || dst.deprecated()
                || (src.since() != dst.since() && !carriable(op, w.source, w.target)))) {
            return resample(n, w, src);
        }
        if (src == null || dst == null || src.since() == dst.since()) {
            return n; // verify() names a missing op
        }
        int pivot = reduceAxesInputSince(op);
        if (pivot > 0 && (w.source < pivot) != (w.target < pivot)) {
            return reduceAxes(n, w, w.target >= pivot);
        }
        if (w.target < 11 && w.source >= 11) {
            for (String k : List.of("axis", "axes")) {
                Attr v = n.attr(k);
                if (v != null && (v.kind() == Attr.Kind.INT ? v.asInt() < 0
                        : v.kind() == Attr.Kind.INTS && java.util.Arrays.stream(v.asInts()).anyMatch(x -> x < 0))) {
                    w.problems.add(op + " '" + n.name() + "' with a negative " + k + " needs opset 11");
                }
            }
        }
        if (!carriable(op, w.source, w.target)) {
            w.problems.add(op + " '" + n.name() + "' was read at opset " + w.source + " (" + op + "-" + src.since()
                    + "); opset " + w.target + " has " + op + "-" + dst.since() + ", which graft does not translate it to");
        }
        return n;
    }

    /**
     * True when a node of {@code op} means the same at both opsets: every version between them
     * kept the inputs and required attributes and did not change the op's meaning.
     */
    static boolean carriable(String op, long source, long target) {
        long lo = Math.min(source, target);
        long hi = Math.max(source, target);
        OpSchemas.Schema prev = null;
        for (OpSchemas.Schema s : OpSchemas.versions(op)) {
            if (s.since() > lo && s.since() <= hi && prev != null && !s.sameInputs(prev)) {
                return false;
            }
            prev = s.since() <= hi ? s : prev;
        }
        Integer changed = MEANING_CHANGED.get(op);
        Integer widened = target < source ? WIDENED.get(op) : null;
        return prev != null && OpSchemas.at(op, lo) != null && !(changed != null && changed > lo && changed <= hi)
                && !(widened != null && widened > lo && widened <= hi);
    }

    /**
     * Upsample and Resize between their forms, where they mean the same: nearest (with floor
     * rounding) or linear interpolation by constant scales over asymmetric coordinates, which is
     * what Upsample (opsets 7-9) and Resize-10 compute, and Resize-11 on with
     * coordinate_transformation_mode=asymmetric (and nearest_mode=floor) says.
     */
    private static Node resample(Node n, OpsetWriting w, OpSchemas.Schema src) {
        String who = n.opType() + " '" + n.name() + "'";
        String mode = n.stringAttr("mode", "nearest");
        float[] scales;
        if (src.op().equals("Upsample") && src.since() < 9) {
            Attr a = n.attr("scales");
            scales = a == null ? null : a.asFloats();
        } else {
            int at = src.op().equals("Resize") && src.since() >= 11 ? 2 : 1;
            String in = n.inputs().size() > at ? n.inputs().get(at) : "";
            Weight c = in.isEmpty() ? null : w.constant(in);
            scales = c == null ? null : c.toFloats();
        }
        String why = null;
        if (scales == null || scales.length == 0) {
            why = "its scales are not constant, or it resizes to sizes";
        } else if (!mode.equals("nearest") && !mode.equals("linear")) {
            why = "it uses mode '" + mode + "'";
        } else if (src.op().equals("Resize") && src.since() >= 11) {
            if (!n.stringAttr("coordinate_transformation_mode", "half_pixel").equals("asymmetric")) {
                why = "it uses coordinate_transformation_mode '" + n.stringAttr("coordinate_transformation_mode", "half_pixel") + "'";
            } else if (mode.equals("nearest") && !n.stringAttr("nearest_mode", "round_prefer_floor").equals("floor")) {
                why = "it uses nearest_mode '" + n.stringAttr("nearest_mode", "round_prefer_floor") + "'";
            } else if (n.intAttr("exclude_outside", 0) != 0 || n.intAttr("antialias", 0) != 0 || n.attr("axes") != null
                    || (n.inputs().size() > 3 && !n.inputs().get(3).isEmpty())) {
                why = "it uses exclude_outside, antialias, axes or sizes";
            }
        }
        if (why != null) {
            w.problems.add(who + " has no equivalent at opset " + w.target + " (" + why + ")");
            return n;
        }
        Map<String, Attr> a = new LinkedHashMap<>();
        a.put("mode", Attr.of(mode));
        List<String> in = new ArrayList<>();
        in.add(n.input(0));
        String type;
        if (w.target < 9) {
            type = "Upsample";
            a.put("scales", Attr.floats(scales));
        } else {
            String sc = w.addFloats(n, "scales", new long[]{scales.length}, scales);
            if (w.target == 9) {
                type = "Upsample";
                in.add(sc);
            } else if (w.target == 10) {
                type = "Resize";
                in.add(sc);
            } else {
                type = "Resize";
                in.add(w.target < 13 ? w.addFloats(n, "roi", new long[]{0}, new float[0]) : "");
                in.add(sc);
                a.put("coordinate_transformation_mode", Attr.of("asymmetric"));
                if (mode.equals("nearest")) {
                    a.put("nearest_mode", Attr.of("floor"));
                }
            }
        }
        Map<String, byte[]> e = new LinkedHashMap<>(n.extras());
        e.remove(OnnxImporter.NODE_PROTO);
        return new Node(n.name(), type, "", n.layer(), in, n.outputs(), a, e);
    }

    /** The first default-domain op inside the node's graph attributes whose version differs between source and target; null if none. */
    private static String changedInSubgraphs(Node n, OpsetWriting w) {
        byte[] proto = n.extras().get(OnnxImporter.NODE_PROTO);
        if (proto == null) {
            return null;
        }
        try {
            return changedIn(NodeProto.parseFrom(proto), w);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String changedIn(NodeProto np, OpsetWriting w) {
        List<graft.onnx.proto.Onnx.GraphProto> graphs = new ArrayList<>();
        for (graft.onnx.proto.Onnx.AttributeProto a : np.getAttributeList()) {
            if (a.hasG()) {
                graphs.add(a.getG());
            }
            graphs.addAll(a.getGraphsList());
        }
        for (graft.onnx.proto.Onnx.GraphProto gp : graphs) {
            for (NodeProto inner : gp.getNodeList()) {
                if (inner.getDomain().isEmpty() || inner.getDomain().equals("ai.onnx")) {
                    OpSchemas.Schema a = OpSchemas.at(inner.getOpType(), w.source);
                    OpSchemas.Schema b = OpSchemas.at(inner.getOpType(), w.target);
                    boolean sameVersion = a != null && b != null && a.since() == b.since();
                    boolean attrsKnown = b != null && inner.getAttributeList().stream().allMatch(x -> b.attrs().contains(x.getName()));
                    if (!sameVersion && !(a != null && b != null && attrsKnown && carriable(inner.getOpType(), w.source, w.target))) {
                        return inner.getOpType() + " '" + inner.getName() + "'";
                    }
                }
                String deeper = changedIn(inner, w);
                if (deeper != null) {
                    return deeper;
                }
            }
        }
        return null;
    }

    /** A Reduce node's axes moved from attribute to input ({@code toInput}) or back. */
    private static Node reduceAxes(Node n, OpsetWriting w, boolean toInput) {
        NodeProto np;
        try {
            np = NodeProto.parseFrom(n.extras().get(OnnxImporter.NODE_PROTO));
        } catch (InvalidProtocolBufferException | NullPointerException e) {
            throw new IllegalStateException(e);
        }
        Map<String, Attr> a = new LinkedHashMap<>(n.attrs());
        List<String> in = new ArrayList<>(n.inputs());
        NodeProto.Builder b = np.toBuilder().clearAttribute();
        if (toInput) {
            Attr axes = a.remove("axes");
            in = new ArrayList<>(in.subList(0, 1));
            if (axes != null) {
                in.add(w.addLongs(n, "axes", axes.asInts()));
            }
        } else {
            String axesIn = in.size() > 1 ? in.get(1) : "";
            Attr noop = a.remove("noop_with_empty_axes");
            if (!axesIn.isEmpty()) {
                Weight c = w.constant(axesIn);
                if (c == null) {
                    w.problems.add(n.opType() + " '" + n.name() + "' with axes computed at run time needs opset "
                            + reduceAxesInputSince(n.opType()));
                    return n;
                }
                if (c.toLongs().length > 0) {
                    a.put("axes", Attr.ints(c.toLongs()));
                } else {
                    axesIn = "";
                }
            }
            if (axesIn.isEmpty() && noop != null && noop.asInt() != 0) {
                w.problems.add(n.opType() + " '" + n.name() + "' with noop_with_empty_axes and no axes needs opset "
                        + reduceAxesInputSince(n.opType()));
                return n;
            }
            in = new ArrayList<>(in.subList(0, 1));
        }
        for (graft.onnx.proto.Onnx.AttributeProto ap : np.getAttributeList()) {
            if (a.containsKey(ap.getName())) {
                b.addAttribute(ap);
            }
        }
        if (a.containsKey("axes") && b.getAttributeList().stream().noneMatch(ap -> ap.getName().equals("axes"))) {
            b.addAttribute(OnnxAttributes.toProto("axes", a.get("axes")));
        }
        Map<String, byte[]> e = new LinkedHashMap<>(n.extras());
        e.put(OnnxImporter.NODE_PROTO, b.build().toByteArray());
        return new Node(n.name(), n.opType(), n.domain(), n.layer(), in, n.outputs(), a, e);
    }
}
