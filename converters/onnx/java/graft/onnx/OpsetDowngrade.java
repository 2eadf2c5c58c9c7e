package graft.onnx;

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
import java.util.Set;

/**
 * Catalogue nodes (IR, opset-17 semantics) rewritten exactly for an older or newer opset: inputs
 * that were attributes before become attributes again when constant, pooling's ceil_mode becomes
 * end padding, and so on; what the target cannot say is refused by node name with the first
 * opset that can.
 */
final class OpsetDowngrade {
    private OpsetDowngrade() {
    }

    static Node catalogue(Node n, OpsetWriting w) {
        Op op = n.op();
        int target = w.target;
        Graph g = w.g;
        List<String> problems = w.problems;
        if (OpsetAdapter.since(op) > target) {
            problems.add(n.opType() + " '" + n.name() + "' does not exist before opset " + OpsetAdapter.since(op));
            return n;
        }
        Map<String, Attr> a = new LinkedHashMap<>(n.attrs());
        List<String> in = new ArrayList<>(n.inputs());
        List<String> out = new ArrayList<>(n.outputs());
        if ((op == Op.MAX_POOL || op == Op.AVERAGE_POOL) && target < 10 && n.intAttr("ceil_mode") != 0) {
            ceilModeAsPadding(n, a, w);
        }
        dropNewerAttributes(n, a, target, problems);
        if (target < 11 && (op == Op.CONCAT || op == Op.GATHER || op == Op.FLATTEN || op == Op.SPLIT)
                && n.intAttr("axis") < 0) {
            TensorType t = g.type(n.input(0));
            if (t == null || t.shape() == null) {
                problems.add(n.opType() + " '" + n.name() + "' with a negative axis over an input of unknown rank needs opset 11");
            } else {
                a.put("axis", Attr.of(n.intAttr("axis") + t.shape().rank()));
            }
        }
        switch (op) {
            case SQUEEZE, UNSQUEEZE -> {
                if (target < 13 && in.size() > 1 && !in.get(1).isEmpty()) {
                    long[] axes = constInts(w, n, in.get(1)).clone();
                    if (target < 11 && java.util.Arrays.stream(axes).anyMatch(x -> x < 0)) {
                        TensorType t = g.type(op == Op.SQUEEZE ? n.input(0) : n.output(0));
                        if (t == null || t.shape() == null) {
                            problems.add(n.opType() + " '" + n.name() + "' with negative axes of unknown rank needs opset 11");
                        } else {
                            for (int i = 0; i < axes.length; i++) {
                                axes[i] = axes[i] < 0 ? axes[i] + t.shape().rank() : axes[i];
                            }
                        }
                    }
                    a.put("axes", Attr.ints(axes));
                    in.remove(1);
                }
            }
            case SPLIT -> {
                if (target < 13 && in.size() > 1 && !in.get(1).isEmpty()) {
                    a.put("split", Attr.ints(constInts(w, n, in.get(1))));
                    in.remove(1);
                } else if (target >= 18 && (in.size() < 2 || in.get(1).isEmpty())) {
                    a.put("num_outputs", Attr.of((long) n.outputs().size()));
                }
            }
            case SOFTMAX, LOG_SOFTMAX -> {
                if (target < 13) {
                    TensorType t = g.type(n.input(0));
                    long axis = n.intAttr("axis");
                    if (t == null || t.shape() == null) {
                        problems.add(n.opType() + " '" + n.name() + "': input rank unknown, cannot write it below opset 13");
                    } else {
                        int rank = t.shape().rank();
                        long ax = axis < 0 ? axis + rank : axis;
                        if (ax != rank - 1) {
                            // before 13 the op coerces its input to 2-D at axis: over the last axis that is exact,
                            // so swap the axis last and back (a swap is its own inverse)
                            long[] perm = new long[rank];
                            for (int i = 0; i < rank; i++) {
                                perm[i] = i;
                            }
                            perm[(int) ax] = rank - 1;
                            perm[rank - 1] = ax;
                            String last = w.freshName(n, "axis_last");
                            String result = w.freshName(n, "over_last");
                            w.before.add(Node.of(Op.TRANSPOSE, last, n.layer(), List.of(in.get(0)), List.of(last),
                                    Map.of("perm", Attr.ints(perm))));
                            w.after.add(Node.of(Op.TRANSPOSE, out.get(0) + "_axis_back", n.layer(), List.of(result), List.of(out.get(0)),
                                    Map.of("perm", Attr.ints(perm))));
                            in.set(0, last);
                            out.set(0, result);
                        }
                        a.put("axis", Attr.of((long) rank - 1));
                    }
                }
            }
            case DROPOUT -> {
                if (target < 12) {
                    if (in.size() > 2 && !in.get(2).isEmpty()) {
                        Weight t = w.constant(in.get(2));
                        if (t == null || t.toLongs().length != 1 || t.toLongs()[0] != 0) {
                            problems.add("Dropout '" + n.name() + "' in training mode needs opset 12");
                        }
                    }
                    if (in.size() > 1 && !in.get(1).isEmpty()) {
                        a.put("ratio", Attr.of(constFloat(w, n, in.get(1))));
                    }
                    in = new ArrayList<>(in.subList(0, 1));
                    a.remove("seed");
                }
            }
            case CLIP -> {
                if (target < 11) {
                    if (in.size() > 1 && !in.get(1).isEmpty()) {
                        a.put("min", Attr.of(constFloat(w, n, in.get(1))));
                    }
                    if (in.size() > 2 && !in.get(2).isEmpty()) {
                        a.put("max", Attr.of(constFloat(w, n, in.get(2))));
                    }
                    in = new ArrayList<>(in.subList(0, 1));
                }
            }
            case PAD -> {
                if (target < 19 && "wrap".equals(n.stringAttr("mode"))) {
                    problems.add("Pad '" + n.name() + "' with mode 'wrap' needs opset 19");
                }
                boolean axes = in.size() > 3 && !in.get(3).isEmpty();
                long[] pads = null;
                if (axes && target < 18) {
                    pads = fullPads(n, w, in.get(1), in.get(3));
                    in = new ArrayList<>(in.subList(0, 3));
                    if (pads != null && target >= 11) {
                        in.set(1, w.addLongs(n, "pads", pads));
                    }
                }
                if (target < 11) {
                    a.put("pads", Attr.ints(pads != null ? pads : constInts(w, n, in.get(1))));
                    if (in.size() > 2 && !in.get(2).isEmpty()) {
                        a.put("value", Attr.of(constFloat(w, n, in.get(2))));
                    }
                    in = new ArrayList<>(in.subList(0, 1));
                }
            }
            case SLICE -> {
                if (target < 10) {
                    a.put("starts", Attr.ints(constInts(w, n, in.get(1))));
                    a.put("ends", Attr.ints(constInts(w, n, in.get(2))));
                    if (in.size() > 3 && !in.get(3).isEmpty()) {
                        a.put("axes", Attr.ints(constInts(w, n, in.get(3))));
                    }
                    if (in.size() > 4 && !in.get(4).isEmpty()) {
                        Weight steps = w.constant(in.get(4));
                        if (steps == null || java.util.Arrays.stream(steps.toLongs()).anyMatch(x -> x != 1)) {
                            problems.add("Slice '" + n.name() + "' with steps other than 1 needs opset 10");
                        }
                    }
                    in = new ArrayList<>(in.subList(0, 1));
                }
            }
            case MAX_POOL, AVERAGE_POOL -> {
                if (target < 19 && op == Op.AVERAGE_POOL && n.attr("dilations") != null
                        && java.util.Arrays.stream(n.attr("dilations").asInts()).anyMatch(x -> x != 1)) {
                    problems.add("AveragePool '" + n.name() + "' with dilations needs opset 19");
                }
                if (target < 19 && op == Op.AVERAGE_POOL) {
                    a.remove("dilations");
                }
                if (op == Op.MAX_POOL && target < 8 && out.size() > 1 && !out.get(1).isEmpty()) {
                    if (consumed(g, out.get(1))) {
                        problems.add("MaxPool '" + n.name() + "' with an Indices output needs opset 8");
                    } else {
                        out = new ArrayList<>(out.subList(0, 1));
                    }
                }
            }
            case GEMM -> {
                if (target < 11 && (in.size() < 3 || in.get(2).isEmpty())) {
                    TensorType t = g.type(n.output(0));
                    if (t == null || t.shape() == null || t.shape().rank() != 2 || !t.shape().dim(1).isFixed()
                            || t.dtype() != graft.ir.DataType.FLOAT) {
                        problems.add("Gemm '" + n.name() + "' without C needs opset 11 (its output width is not known to add a zero C)");
                    } else {
                        long width = t.shape().dim(1).value();
                        in = new ArrayList<>(in.subList(0, 2));
                        in.add(w.addFloats(n, "zero_c", new long[]{width}, new float[(int) width]));
                    }
                }
            }
            case SUM, MAX, MIN, MEAN -> {
                if (target < 8 && in.size() > 1 && !sameShapes(g, in)) {
                    problems.add(n.opType() + " '" + n.name() + "' over inputs of different or unknown shapes needs opset 8 (broadcasting)");
                }
            }
            case CONSTANT -> {
                Weight v = Weight.ofConstant(n);
                OpSchemas.Schema cs = OpSchemas.at("Constant", target);
                Set<String> allowed = cs == null ? null : cs.allowedOut(0);
                if (v != null && allowed != null && !allowed.contains(OpSchemas.typeName(v.dtype()))) {
                    // Constant-1 holds floats only; an initializer holds any type at every opset.
                    w.added.add(v.renamed(n.output(0)));
                    w.dropped.add(n.name());
                    return n;
                }
                if (target < 12 && n.attr("value") == null) {
                    if (v != null) {
                        a.clear();
                        a.put("value", Attr.tensor(v));
                    }
                }
            }
            case SHAPE -> {
                if (target < 15 && (n.attr("start") != null || n.attr("end") != null)) {
                    problems.add("Shape '" + n.name() + "' with start/end needs opset 15");
                }
            }
            case RESHAPE -> {
                if (target < 14 && n.intAttr("allowzero") != 0) {
                    problems.add("Reshape '" + n.name() + "' with allowzero needs opset 14");
                }
            }
            case BATCH_NORMALIZATION -> {
                if (target < 14) {
                    if (n.intAttr("training_mode") != 0) {
                        problems.add("BatchNormalization '" + n.name() + "' in training mode needs opset 14");
                    }
                    a.remove("training_mode");
                }
                if (target < 9) {
                    a.put("spatial", Attr.of(1L));
                }
            }
            default -> {
            }
        }
        return new Node(n.name(), n.opType(), n.domain(), n.layer(), in, out, a, n.extras());
    }

    private static boolean consumed(Graph g, String value) {
        for (Node m : g.nodes()) {
            if (m.inputs().contains(value)) {
                return true;
            }
        }
        return g.outputs().stream().anyMatch(v -> v.name().equals(value));
    }

    private static boolean sameShapes(Graph g, List<String> in) {
        graft.ir.Shape first = null;
        for (String x : in) {
            TensorType t = g.type(x);
            if (t == null || t.shape() == null) {
                return false;
            }
            if (first == null) {
                first = t.shape();
            } else if (!first.equals(t.shape()) || t.shape().dims().stream().anyMatch(d -> !d.isFixed())) {
                return false;
            }
        }
        return first != null && first.dims().stream().allMatch(graft.ir.Dim::isFixed);
    }

    /** Pad's (pads, axes) as pads over every axis, for opsets before 18; null (and a refusal) when unknown. */
    private static long[] fullPads(Node n, OpsetWriting w, String padsName, String axesName) {
        Weight p = w.constant(padsName);
        Weight ax = w.constant(axesName);
        TensorType t = w.g.type(n.input(0));
        if (p == null || ax == null || t == null || t.shape() == null) {
            w.problems.add("Pad '" + n.name() + "' with axes needs opset 18 (its pads, axes or input rank are not constant)");
            return null;
        }
        int rank = t.shape().rank();
        long[] axes = ax.toLongs();
        long[] pads = p.toLongs();
        long[] full = new long[2 * rank];
        for (int j = 0; j < axes.length; j++) {
            int k = (int) (axes[j] < 0 ? axes[j] + rank : axes[j]);
            full[k] = pads[j];
            full[k + rank] = pads[j + axes.length];
        }
        return full;
    }

    /**
     * Pooling with ceil_mode, for opsets before 10: the same windows in floor mode with extra
     * padding at the end of each spatial axis. Exact for MaxPool (padding never wins a max) and
     * for AveragePool that excludes padding from the divisor; refused where the last window
     * would start inside the end padding (runtimes disagree there) or where an including-pad
     * AveragePool would count the extra cells.
     */
    private static void ceilModeAsPadding(Node n, Map<String, Attr> a, OpsetWriting w) {
        String what = n.opType() + " '" + n.name() + "' with ceil_mode";
        String autoPad = n.stringAttr("auto_pad");
        long[] k = n.intsAttr("kernel_shape", new long[0]);
        int sp = k.length;
        TensorType t = w.g.type(n.input(0));
        if (!autoPad.equals("NOTSET") && !autoPad.isEmpty()) {
            w.problems.add(what + " and auto_pad " + autoPad + " needs opset 10");
            return;
        }
        if (t == null || t.shape() == null || t.shape().rank() != sp + 2) {
            w.problems.add(what + " needs opset 10 (its input's spatial size is not known)");
            return;
        }
        long[] s = n.intsAttr("strides", ones(sp));
        long[] d = n.intsAttr("dilations", ones(sp));
        long[] pads = n.intsAttr("pads", new long[2 * sp]).clone();
        boolean extra = false;
        for (int i = 0; i < sp; i++) {
            graft.ir.Dim dim = t.shape().dim(2 + i);
            if (!dim.isFixed()) {
                w.problems.add(what + " needs opset 10 (spatial axis " + i + " of its input is not fixed)");
                return;
            }
            long h = dim.value();
            long ke = (k[i] - 1) * d[i] + 1;
            long span = h + pads[i] + pads[i + sp] - ke;
            long ceil = Math.floorDiv(span + s[i] - 1, s[i]) + 1;
            long floor = Math.floorDiv(span, s[i]) + 1;
            if (ceil == floor) {
                continue;
            }
            if ((ceil - 1) * s[i] >= h + pads[i]) {
                w.problems.add(what + " needs opset 10 (its last window on axis " + i + " starts in the end padding)");
                return;
            }
            pads[i + sp] += (ceil - 1) * s[i] + ke - (h + pads[i] + pads[i + sp]);
            extra = true;
        }
        if (extra && n.op() == Op.AVERAGE_POOL && n.intAttr("count_include_pad") != 0) {
            w.problems.add(what + " and count_include_pad needs opset 10 (explicit padding would enter the divisor)");
            return;
        }
        a.remove("ceil_mode");
        if (extra) {
            a.put("pads", Attr.ints(pads));
        }
    }

    private static long[] ones(int n) {
        long[] r = new long[n];
        java.util.Arrays.fill(r, 1);
        return r;
    }

    /** Attributes added to an op after opset 7: (op, attribute, opset introduced, default). */
    private record Introduced(Op op, String attr, int since, long dflt) {
    }

    private static final List<Introduced> INTRODUCED = List.of(
            new Introduced(Op.MAX_POOL, "storage_order", 8, 0), new Introduced(Op.MAX_POOL, "ceil_mode", 10, 0),
            new Introduced(Op.MAX_POOL, "dilations", 10, 1), new Introduced(Op.AVERAGE_POOL, "ceil_mode", 10, 0),
            new Introduced(Op.SHAPE, "start", 15, 0),
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

    private static long[] constInts(OpsetWriting w, Node n, String value) {
        Weight c = w.constant(value);
        if (c == null) {
            w.problems.add(n.opType() + " '" + n.name() + "': input '" + value + "' is computed at run time; opset " + w.target
                    + " takes it as a constant attribute" + inputSince(n.op()));
            return new long[0];
        }
        return c.toLongs();
    }

    private static float constFloat(OpsetWriting w, Node n, String value) {
        Weight c = w.constant(value);
        if (c == null || c.dtype() == DataType.STRING) {
            w.problems.add(n.opType() + " '" + n.name() + "': input '" + value + "' is computed at run time; opset " + w.target
                    + " takes it as a constant attribute" + inputSince(n.op()));
            return 0f;
        }
        return c.toFloats()[0];
    }

    /** Where a constant attribute became an input, for refusals. */
    private static String inputSince(Op op) {
        int v = switch (op) {
            case SLICE -> 10;
            case CLIP, PAD -> 11;
            case DROPOUT -> 12;
            case SQUEEZE, UNSQUEEZE, SPLIT -> 13;
            default -> -1;
        };
        return v > 0 ? " (an input from opset " + v + ")" : "";
    }
}
