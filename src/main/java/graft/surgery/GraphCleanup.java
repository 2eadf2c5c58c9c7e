package graft.surgery;

import graft.ir.Attr;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Value;
import graft.ir.Weight;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.ListIterator;
import java.util.Map;
import java.util.Set;

/**
 * {@link Simplify}'s clean-up passes in full mode: pass-through nodes, consecutive Transposes and
 * Reshapes, duplicate constant initializers, and inputs nothing reads.
 */
final class GraphCleanup {
    /** The ONNX reader's record of initializers that were also graph inputs (OnnxImporter.INIT_INPUTS). */
    static final String INIT_INPUTS = "onnx.initializer_inputs";

    private GraphCleanup() {
    }

    /** Identity and inference-mode Dropout: readers read the input instead. */
    static int removePassThrough(Graph g) {
        int removed = 0;
        Set<String> outputs = new HashSet<>();
        g.outputs().forEach(v -> outputs.add(v.name()));
        Set<String> inputs = new HashSet<>();
        g.inputs().forEach(v -> inputs.add(v.name()));
        for (Node n : new ArrayList<>(g.nodes())) {
            boolean identity = n.op() == Op.IDENTITY;
            boolean dropout = n.op() == Op.DROPOUT && inferenceDropout(g, n);
            if (!identity && !dropout) {
                continue;
            }
            String in = n.input(0);
            String out = n.output(0);
            if (outputs.contains(out)) {
                Node p = g.producer(in);
                if (p == null || outputs.contains(in) || inputs.contains(in)) {
                    continue;
                }
                // the graph output keeps its name: the producer writes it directly
                renameValue(g, in, out);
                g.nodes().remove(n);
            } else {
                Remove.bypass(g, out, in);
                g.nodes().remove(n);
            }
            removed++;
        }
        return removed;
    }

    static boolean inferenceDropout(Graph g, Node n) {
        for (int i = 1; i < n.outputs().size(); i++) {
            if (!n.output(i).isEmpty() && !g.consumers(n.output(i)).isEmpty()) {
                return false;
            }
            String o = n.output(i);
            if (g.outputs().stream().anyMatch(v -> v.name().equals(o))) {
                return false;
            }
        }
        String training = n.input(2);
        if (training.isEmpty()) {
            return true;
        }
        Weight w = g.initializer(training);
        return w != null && g.inputs().stream().noneMatch(v -> v.name().equals(training)) && w.toLongs().length == 1 && w.toLongs()[0] == 0;
    }

    static void renameValue(Graph g, String from, String to) {
        for (ListIterator<Node> it = g.nodes().listIterator(); it.hasNext();) {
            Node n = it.next();
            if (n.inputs().contains(from) || n.outputs().contains(from)) {
                List<String> in = new ArrayList<>(n.inputs());
                in.replaceAll(s -> s.equals(from) ? to : s);
                List<String> out = new ArrayList<>(n.outputs());
                out.replaceAll(s -> s.equals(from) ? to : s);
                it.set(n.withInputs(in).withOutputs(out));
            }
        }
    }

    /** The single node reading {@code v}, when {@code v} is no graph output; else null. */
    static Node soleReader(Graph g, String v) {
        if (g.outputs().stream().anyMatch(o -> o.name().equals(v))) {
            return null;
        }
        List<Node> c = g.consumers(v);
        return c.size() == 1 ? c.get(0) : null;
    }

    static void mergeTransposes(Graph g) {
        boolean changed = true;
        while (changed) {
            changed = false;
            for (Node a : g.nodes()) {
                Node b = a.op() == Op.TRANSPOSE ? soleReader(g, a.output(0)) : null;
                if (b == null || b.op() != Op.TRANSPOSE || a.attr("perm") == null || b.attr("perm") == null) {
                    continue;
                }
                long[] p1 = a.intsAttr("perm", null);
                long[] p2 = b.intsAttr("perm", null);
                long[] p = new long[p2.length];
                boolean identity = true;
                for (int i = 0; i < p.length; i++) {
                    p[i] = p1[(int) p2[i]];
                    identity &= p[i] == i;
                }
                g.nodes().remove(a);
                int at = g.nodes().indexOf(b);
                boolean namedOutput = g.outputs().stream().anyMatch(o -> o.name().equals(b.output(0)));
                if (identity && !namedOutput) {
                    g.nodes().remove(at);
                    Remove.bypass(g, b.output(0), a.input(0));
                } else {
                    // a graph output keeps its name, so an identity permutation there stays one node
                    g.nodes().set(at, b.withInputs(List.of(a.input(0))).withAttr("perm", Attr.ints(p)));
                }
                changed = true;
                break;
            }
        }
    }

    /** Reshape of a Reshape: the second one reads the first's input (a 0 in its shape would then copy another dim, so not then). */
    static void mergeReshapes(Graph g) {
        boolean changed = true;
        while (changed) {
            changed = false;
            for (Node a : g.nodes()) {
                Node b = a.op() == Op.RESHAPE || a.op() == Op.FLATTEN ? soleReader(g, a.output(0)) : null;
                if (b == null || b.op() != Op.RESHAPE || b.input(0).equals(a.output(0)) == false) {
                    continue;
                }
                Weight s = g.initializer(b.input(1));
                if (s == null || Arrays.stream(s.toLongs()).anyMatch(v -> v == 0)) {
                    continue;
                }
                g.nodes().remove(a);
                g.nodes().set(g.nodes().indexOf(b), b.withInputs(List.of(a.input(0), b.input(1))));
                changed = true;
                break;
            }
        }
    }

    /** Identical initializers (type, shape and bytes) read under one name. */
    static int dedupe(Graph g) {
        Map<String, String> firstByKey = new HashMap<>();
        Map<String, String> rename = new HashMap<>();
        Set<String> slotted = new HashSet<>();
        for (Node n : g.nodes()) {
            if (n.op() != null) {
                n.op().weightSlots().forEach(s -> slotted.add(n.input(s.input())));
            }
        }
        for (Weight w : g.initializers().values()) {
            // a layer's own weights stay its own (merging two would tie them when trained); constants are shared
            if (slotted.contains(w.name()) || w.byteSize() > (1 << 20)) {
                continue; // large weights are layers' own; two equal ones are a coincidence not worth hashing
            }
            ByteBuffer b = w.buffer();
            byte[] bytes = new byte[b.remaining()];
            b.duplicate().get(bytes);
            String key = w.dtype() + Arrays.toString(w.shape()) + java.util.Base64.getEncoder().encodeToString(bytes);
            String first = firstByKey.putIfAbsent(key, w.name());
            if (first != null) {
                rename.put(w.name(), first);
            }
        }
        if (rename.isEmpty()) {
            return 0;
        }
        Set<String> inputs = new HashSet<>();
        g.inputs().forEach(v -> inputs.add(v.name()));
        g.outputs().forEach(v -> inputs.add(v.name()));
        rename.keySet().removeIf(inputs::contains);
        for (ListIterator<Node> it = g.nodes().listIterator(); it.hasNext();) {
            Node n = it.next();
            if (n.inputs().stream().anyMatch(rename::containsKey)) {
                List<String> in = new ArrayList<>(n.inputs());
                in.replaceAll(s -> rename.getOrDefault(s, s));
                it.set(n.withInputs(in));
            }
        }
        g.initializers().keySet().removeAll(rename.keySet());
        return rename.size();
    }

    /** Inputs nothing reads, and initializers listed as inputs (defaults a caller could override: simplify fixes them). */
    static int dropInputs(Graph g) {
        int n = 0;
        byte[] listed = g.extras().remove(INIT_INPUTS);
        if (listed != null) {
            n += countListed(listed);
        }
        Set<String> read = new HashSet<>();
        g.nodes().forEach(x -> read.addAll(x.inputs()));
        g.outputs().forEach(v -> read.add(v.name()));
        for (ListIterator<Value> it = g.inputs().listIterator(); it.hasNext();) {
            if (!read.contains(it.next().name())) {
                it.remove();
                n++;
            }
        }
        return n;
    }

    /**
     * How many initializer-inputs the ONNX reader recorded: its packing is a GraphProto holding
     * only value_info entries (field 13), counted here without the ONNX classes.
     */
    static int countListed(byte[] packed) {
        int c = 0;
        int[] pos = {0};
        while (pos[0] < packed.length) {
            long tag = varint(packed, pos);
            if ((tag & 7) != 2) {
                return c; // not the packing this expects; count what was read
            }
            long len = varint(packed, pos);
            pos[0] += (int) len;
            if (tag >>> 3 == 13) {
                c++;
            }
        }
        return c;
    }

    static long varint(byte[] b, int[] pos) {
        long v = 0;
        for (int shift = 0; pos[0] < b.length; shift += 7) {
            byte x = b[pos[0]++];
            v |= (long) (x & 0x7f) << shift;
            if (x >= 0) {
                break;
            }
        }
        return v;
    }
}
