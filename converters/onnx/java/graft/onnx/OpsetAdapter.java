package graft.onnx;

import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.TensorType;
import graft.ir.Weight;
import com.google.protobuf.InvalidProtocolBufferException;
import graft.onnx.proto.Onnx.NodeProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
     * What writing one graph at one opset needs: the opset the graph's opaque nodes were read
     * at, the constants (initializers and Constant nodes) that an older opset takes as
     * attributes, the weights a rewrite adds, and the refusals collected so far.
     */
    static final class Writing {
        final Graph g;
        final int target;
        final long source;
        final Map<String, Node> constantNodes = new HashMap<>();
        final List<Weight> added = new ArrayList<>();
        final List<String> problems = new ArrayList<>();
        /** Nodes not written: their value became an initializer. */
        final Set<String> dropped = new HashSet<>();
        private final Set<String> names = new HashSet<>();

        Writing(Graph g, int target) {
            this.g = g;
            this.target = target;
            this.source = g.opsets().getOrDefault("", (long) IR_OPSET);
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
            return c == null ? null : constantValue(c, value);
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

        private String fresh(Node n, String what) {
            String base = (n.name().isEmpty() ? n.output(0) : n.name()) + "_" + what;
            String name = base;
            for (int k = 1; names.contains(name); k++) {
                name = base + "_" + k;
            }
            names.add(name);
            return name;
        }
    }

    /** The tensor a Constant node holds, whichever attribute holds it; null for sparse or string values. */
    static Weight constantValue(Node c, String name) {
        Attr v = c.attr("value");
        if (v != null && v.kind() == Attr.Kind.TENSOR) {
            return v.asTensor();
        }
        if ((v = c.attr("value_int")) != null) {
            return Weight.ofLongs(name, new long[0], new long[]{v.asInt()});
        }
        if ((v = c.attr("value_ints")) != null) {
            return Weight.ofLongs(name, new long[]{v.asInts().length}, v.asInts());
        }
        if ((v = c.attr("value_float")) != null) {
            return Weight.ofFloats(name, new long[0], new float[]{v.asFloat()});
        }
        if ((v = c.attr("value_floats")) != null) {
            return Weight.ofFloats(name, new long[]{v.asFloats().length}, v.asFloats());
        }
        return null;
    }

    /**
     * Rewrites one IR node for the target opset, exactly, or records in {@code w.problems} why
     * that opset cannot say what it says (naming the node and the first opset that can); then
     * checks the result against the op's schema at the target opset ({@link OpSchemas}).
     */
    static Node downgrade(Node n, Writing w) {
        Node d = n.op() != null ? catalogue(n, w) : n.domain().isEmpty() ? opaque(n, w) : n;
        if (d.domain().isEmpty() && !w.dropped.contains(n.name())) {
            verify(d, w);
        }
        return d;
    }

    private static Node catalogue(Node n, Writing w) {
        Op op = n.op();
        int target = w.target;
        Graph g = w.g;
        List<String> problems = w.problems;
        if (since(op) > target) {
            problems.add(n.opType() + " '" + n.name() + "' does not exist before opset " + since(op));
            return n;
        }
        Map<String, Attr> a = new LinkedHashMap<>(n.attrs());
        List<String> in = new ArrayList<>(n.inputs());
        List<String> out = new ArrayList<>(n.outputs());
        if ((op == Op.MAX_POOL || op == Op.AVERAGE_POOL) && target < 10 && n.intAttr("ceil_mode", 0) != 0) {
            ceilModeAsPadding(n, a, w);
        }
        dropNewerAttributes(n, a, target, problems);
        if (target < 11 && (op == Op.CONCAT || op == Op.GATHER || op == Op.FLATTEN || op == Op.SPLIT)
                && n.intAttr("axis", 0) < 0) {
            TensorType t = g.type(n.input(0));
            if (t == null || t.shape() == null) {
                problems.add(n.opType() + " '" + n.name() + "' with a negative axis over an input of unknown rank needs opset 11");
            } else {
                a.put("axis", Attr.of(n.intAttr("axis", 0) + t.shape().rank()));
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
                    long axis = n.intAttr("axis", -1);
                    if (t == null || t.shape() == null) {
                        problems.add(n.opType() + " '" + n.name() + "': input rank unknown, cannot write it below opset 13");
                    } else {
                        int rank = t.shape().rank();
                        long ax = axis < 0 ? axis + rank : axis;
                        if (ax != rank - 1) {
                            problems.add(n.opType() + " '" + n.name() + "' over axis " + ax + " of a rank-" + rank
                                    + " input needs opset 13");
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
                if (target < 19 && "wrap".equals(n.stringAttr("mode", "constant"))) {
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
                Weight v = constantValue(n, n.output(0));
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
                if (target < 14 && n.intAttr("allowzero", 0) != 0) {
                    problems.add("Reshape '" + n.name() + "' with allowzero needs opset 14");
                }
            }
            case BATCH_NORMALIZATION -> {
                if (target < 14) {
                    if (n.intAttr("training_mode", 0) != 0) {
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
    private static long[] fullPads(Node n, Writing w, String padsName, String axesName) {
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
    private static void ceilModeAsPadding(Node n, Map<String, Attr> a, Writing w) {
        String what = n.opType() + " '" + n.name() + "' with ceil_mode";
        String autoPad = n.stringAttr("auto_pad", "NOTSET");
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
        if (extra && n.op() == Op.AVERAGE_POOL && n.intAttr("count_include_pad", 0) != 0) {
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
    private static Node opaque(Node n, Writing w) {
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
    private static Node resample(Node n, Writing w, OpSchemas.Schema src) {
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
    private static String changedInSubgraphs(Node n, Writing w) {
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

    private static String changedIn(NodeProto np, Writing w) {
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
    private static Node reduceAxes(Node n, Writing w, boolean toInput) {
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

    /** Checks a node as it will be written against its op's schema at the target opset. */
    private static void verify(Node n, Writing w) {
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

    private static void checkType(Node n, Writing w, OpSchemas.Schema s, int i, String value, boolean input) {
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

    private static long[] constInts(Writing w, Node n, String value) {
        Weight c = w.constant(value);
        if (c == null) {
            w.problems.add(n.opType() + " '" + n.name() + "': input '" + value + "' is computed at run time; opset " + w.target
                    + " takes it as a constant attribute" + inputSince(n.op()));
            return new long[0];
        }
        return c.toLongs();
    }

    private static float constFloat(Writing w, Node n, String value) {
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
