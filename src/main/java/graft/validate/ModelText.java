package graft.validate;

import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Elements;
import graft.ir.LayerTable;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A model as stable, line-oriented text for {@code git diff} ({@code graft inspect --textconv},
 * the {@code textconv} of a git diff driver): one line per layer (name, ops with their
 * attributes, output shape, parameter count, training state), one line per weight under its
 * layer (name, dtype, shape, SHA-256 of its bytes, min/max/mean/std to 4 significant digits),
 * then the model's inputs, outputs and metadata, sorted. Nothing in it depends on where the file
 * was read from (its path or file hash): the same content gives the same text, so a no-op
 * re-save diffs as nothing and an edit shows exactly the layers and weights it changed.
 */
public final class ModelText {
    /** Metadata that describes the file read, not the model: left out of the text. */
    private static final Set<String> LOCATION_KEYS = Set.of("graft.read_format", "graft.source", "graft.source_sha256", "graft.weights", "graft.weights_sha256");

    private ModelText() {
    }

    /** Writes {@code g}'s text to {@code out}. */
    public static void write(Graph g, PrintWriter out) {
        out.println("model " + g.name());
        StringBuilder ops = new StringBuilder();
        g.opsets().forEach((d, v) -> ops.append(ops.length() == 0 ? "" : " ").append(d.isEmpty() ? "ai.onnx" : d).append('=').append(v));
        if (ops.length() > 0) {
            out.println("opsets " + ops);
        }
        for (Value v : g.inputs()) {
            out.println("input " + v.name() + " " + type(g, v));
        }
        for (Value v : g.outputs()) {
            out.println("output " + v.name() + " " + type(g, v));
        }
        Map<String, List<Node>> byLayer = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            byLayer.computeIfAbsent(n.layer(), k -> new ArrayList<>()).add(n);
        }
        Map<String, LayerTable.Row> rows = new LinkedHashMap<>();
        for (LayerTable.Row r : LayerTable.of(g)) {
            rows.put(r.layer(), r);
        }
        Set<String> listed = new LinkedHashSet<>();
        for (Map.Entry<String, List<Node>> e : byLayer.entrySet()) {
            String layer = e.getKey();
            StringBuilder line = new StringBuilder("layer ").append(layer).append(':');
            for (Node n : e.getValue()) {
                line.append(' ').append(node(g, n));
            }
            LayerTable.Row r = rows.get(layer);
            if (r != null) {
                line.append(" -> ").append(r.output());
                if (r.params() > 0) {
                    line.append(String.format(Locale.ROOT, "; params %,d", r.params()));
                }
            }
            LayerTraining t = g.trainingOf(layer);
            if (r != null && r.params() > 0 || !t.equals(LayerTraining.DEFAULT)) {
                line.append(t.trainable() ? "; trainable" : "; frozen");
                if (!t.lrMult().isEmpty()) {
                    line.append(" lr_mult ").append(nums(t.lrMult()));
                }
                if (!t.decayMult().isEmpty()) {
                    line.append(" decay_mult ").append(nums(t.decayMult()));
                }
            }
            out.println(line);
            for (Node n : e.getValue()) {
                for (String in : n.inputs()) {
                    Weight w = g.initializer(in);
                    if (w != null && listed.add(in)) {
                        out.println("  " + weight(w));
                    }
                }
            }
        }
        for (Weight w : g.initializers().values()) {
            if (listed.add(w.name())) {
                out.println("unused " + weight(w));
            }
        }
        Map<String, String> meta = new TreeMap<>(g.metadata());
        g.training().forEach((layer, t) -> {
            if (!byLayer.containsKey(layer) && !t.equals(LayerTraining.DEFAULT)) {
                meta.put("training." + layer, t.toString());
            }
        });
        meta.forEach((k, v) -> {
            if (!LOCATION_KEYS.contains(k)) {
                out.println("metadata " + k + " = " + v.replace("\\", "\\\\").replace("\n", "\\n"));
            }
        });
        out.flush();
    }

    private static String type(Graph g, Value v) {
        TensorType t = g.type(v.name()) != null ? g.type(v.name()) : v.type();
        if (t == null) {
            return "?";
        }
        return t.dtype().lowerName() + " " + (t.shape() == null ? "?" : t.shape().toString());
    }

    private static String node(Graph g, Node n) {
        StringBuilder s = new StringBuilder(n.opType());
        if (!n.domain().isEmpty()) {
            s.insert(0, n.domain() + ".");
        }
        Map<String, Attr> attrs = new TreeMap<>(n.attrs());
        if (!attrs.isEmpty()) {
            s.append('(');
            boolean first = true;
            for (Map.Entry<String, Attr> a : attrs.entrySet()) {
                s.append(first ? "" : " ").append(a.getKey()).append('=').append(attr(a.getValue()));
                first = false;
            }
            s.append(')');
        }
        return s.toString();
    }

    private static String attr(Attr a) {
        return switch (a.kind()) {
            case TENSOR -> {
                Weight w = a.asTensor();
                yield w.dtype().lowerName() + java.util.Arrays.toString(w.shape()) + " sha256:" + sha(w).substring(0, 16);
            }
            case OPAQUE -> "<" + a.asOpaque().length + " bytes sha256:" + hex(digest().digest(a.asOpaque())).substring(0, 16) + ">";
            default -> a.toString();
        };
    }

    private static String nums(List<Float> v) {
        List<String> s = new ArrayList<>();
        for (float f : v) {
            s.add(f == Math.rint(f) && Math.abs(f) < 1e9 ? Long.toString((long) f) : Float.toString(f));
        }
        return String.join("/", s);
    }

    /** {@code name dtype [shape] sha256:... min=... max=... mean=... std=...}. */
    static String weight(Weight w) {
        StringBuilder s = new StringBuilder("weight ").append(w.name()).append(' ').append(w.dtype().lowerName())
                .append(java.util.Arrays.toString(w.shape()));
        ByteBuffer b = w.buffer();
        MessageDigest md = digest();
        md.update(b.duplicate());
        s.append(" sha256:").append(hex(md.digest()));
        double[] st = stats(w, b);
        if (st != null) {
            s.append(String.format(Locale.ROOT, " min=%.4g max=%.4g mean=%.4g std=%.4g", st[0], st[1], st[2], st[3]));
        }
        return s.toString();
    }

    private static String sha(Weight w) {
        MessageDigest md = digest();
        md.update(w.buffer().duplicate());
        return hex(md.digest());
    }

    /** min, max, mean, population std (Welford, in double), or null for a type without numbers or no elements. */
    private static double[] stats(Weight w, ByteBuffer buffer) {
        int n = Math.toIntExact(w.elementCount());
        if (n == 0) {
            return null;
        }
        DataType t = w.dtype();
        if (t == DataType.STRING) {
            return null;
        }
        ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double mean = 0;
        double m2 = 0;
        long nanCount = 0;
        for (int i = 0; i < n; i++) {
            double x = Elements.get(t, b, i);
            if (Double.isNaN(x)) {
                nanCount++;
                continue;
            }
            min = Math.min(min, x);
            max = Math.max(max, x);
            long k = i + 1 - nanCount;
            double d = x - mean;
            mean += d / k;
            m2 += d * (x - mean);
        }
        long k = n - nanCount;
        if (k == 0) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
        }
        return new double[] {min, max, mean, Math.sqrt(m2 / k)};
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
