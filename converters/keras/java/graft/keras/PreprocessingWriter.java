package graft.keras;

import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Weight;
import graft.keras.KerasExporter.KLayer;
import graft.keras.KerasExporter.KTensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Keras writers' half of {@link Preprocessing}: the nodes the importer makes of Keras's
 * {@code Rescaling} (a Mul by a scalar constant, then an Add of one when it has an offset) and
 * {@code Normalization} (a Sub of a per-channel constant, then a Div by one) are written back
 * as those layers, whatever the graph's source: the layers compute exactly these float32
 * operations. Normalization's weights are {@code mean}, {@code variance} and {@code count}; the
 * graph holds the divisor {@code max(sqrt(variance), 1e-7)}. The variance and count the
 * importer carried ({@link Preprocessing#CARRIED}) are written when the divisor is still the one
 * that variance gives (bit for bit); otherwise the variance written is divisor squared, kept
 * only when Keras's divisor from it is the graph's divisor bit for bit, and the count is 0 (the
 * number of samples an adapt() saw, which only a later adapt() reads). A divisor no float32
 * variance gives is refused by name.
 */
final class PreprocessingWriter {
    private PreprocessingWriter() {
    }

    /** Writes {@code mul} (and its offset Add) as a Rescaling; false when it is not one (the caller writes a Multiply). */
    static boolean rescaling(KerasExporter x, Node mul) {
        Graph g = x.graph();
        int in = constantSide(x, mul);
        if (in < 0) {
            return false;
        }
        Weight scale = g.initializer(mul.input(1 - in));
        if (scale.elementCount() != 1 || scale.dtype() != DataType.FLOAT) {
            return false;
        }
        KTensor t = x.tensor(mul.input(in));
        float offset = 0f;
        Node last = mul;
        Node add = LayerWriter.next(x, mul, Op.ADD);
        if (add != null) {
            int side = constantSide(x, add);
            Weight o = side < 0 ? null : g.initializer(add.input(1 - side));
            if (o != null && o.elementCount() == 1 && o.dtype() == DataType.FLOAT && add.input(side).equals(mul.output(0))) {
                offset = o.toFloats()[0];
                last = add;
                x.markFused(add);
            }
        }
        ObjectNode c = x.config(x.newName(mul), mul);
        c.put("scale", scale.toFloats()[0]);
        c.put("offset", offset);
        x.needsPreprocessing();
        x.add(new KLayer("Rescaling", c.get("name").asText(), c, List.of(t.layer()), List.of()), last.output(0), t.nchw(), null);
        return true;
    }

    /**
     * Writes {@code sub} and the Div after it as a Normalization over the channel axis; false
     * when they are not one (the caller writes a Subtract, refused for its constant input).
     */
    static boolean normalization(KerasExporter x, Node sub) {
        Graph g = x.graph();
        KTensor t = x.tensor(sub.input(0));
        Weight mean = g.initializer(sub.input(1));
        Node div = LayerWriter.next(x, sub, Op.DIV);
        if (t == null || mean == null || div == null || !div.input(0).equals(sub.output(0)) || g.initializer(div.input(1)) == null) {
            return false;
        }
        Weight std = g.initializer(div.input(1));
        graft.ir.Shape shape = g.type(sub.input(0)).shape();
        int rank = shape.rank();
        // the Keras tensor's last axis must be the channel one: IR axis 1 of an NCHW value, else the IR's last
        int kerasLast = t.nchw() && rank == 4 ? 1 : rank - 1;
        if (mean.dtype() != DataType.FLOAT || std.dtype() != DataType.FLOAT || !shape.dim(kerasLast).isFixed()) {
            return false;
        }
        long channels = shape.dim(kerasLast).value();
        for (Weight w : List.of(mean, std)) {
            // one value per channel of the Keras tensor's last axis, or one value for all (repeated per channel)
            boolean scalar = w.elementCount() == 1;
            if (!scalar && (w.elementCount() != channels || channelAxis(w, rank) < 0)) {
                return false;
            }
            if (!scalar && channelAxis(w, rank) != kerasLast) {
                x.refuseNode(sub, "normalizes IR axis " + channelAxis(w, rank) + ", not the Keras tensor's last (channel) axis");
                x.markFused(div);
                return true;
            }
        }
        float[] m = perChannel(mean, channels);
        float[] d = perChannel(std, channels);
        String name = x.newName(sub);
        float[] v = carriedVariance(g, sub.layer(), d);
        long count = v == null ? 0 : carriedCount(g, sub.layer());
        if (v == null) {
            v = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                v[i] = d[i] * d[i];
                if (divisor(v[i]) != d[i]) {
                    x.refuseNode(div, "divisor " + d[i] + " is not max(sqrt(variance), 1e-7) of any float32 variance");
                    x.markFused(div);
                    return true;
                }
            }
        }
        x.markFused(div);
        ObjectNode c = x.config(name, sub);
        c.putArray("axis").add(rank - 1);
        c.put("invert", false);
        c.putNull("mean");
        c.putNull("variance");
        long[] dims = {m.length};
        Weight count0 = x.keras3() ? Weight.ofInts("count:0", new long[0], new int[] {Math.toIntExact(count)}) : Weight.ofLongs("count:0", new long[0], new long[] {count});
        x.needsPreprocessing();
        x.add(new KLayer("Normalization", name, c, List.of(t.layer()),
                List.of(Weight.ofFloats("mean:0", dims, m), Weight.ofFloats("variance:0", dims, v), count0)), div.output(0), t.nchw(), null);
        return true;
    }

    /** A constant's values, one per channel (a single value repeated). */
    private static float[] perChannel(Weight w, long channels) {
        float[] v = w.toFloats();
        if (v.length == channels) {
            return v;
        }
        float[] r = new float[Math.toIntExact(channels)];
        java.util.Arrays.fill(r, v[0]);
        return r;
    }

    /** Keras's divisor for a variance, in float32 (sqrt is correctly rounded in both). */
    static float divisor(float variance) {
        return Math.max((float) Math.sqrt(variance), Preprocessing.EPSILON);
    }

    /** The index of a constant input of a two-input node whose other input is a Keras tensor, or -1. */
    private static int constantSide(KerasExporter x, Node n) {
        if (n.inputs().size() != 2) {
            return -1;
        }
        Graph g = x.graph();
        for (int i = 0; i < 2; i++) {
            if (x.tensor(n.input(i)) != null && g.initializer(n.input(1 - i)) != null) {
                return i;
            }
        }
        return -1;
    }

    /** The one axis (of a rank-{@code rank} value) a per-channel constant varies along, or -1. */
    private static int channelAxis(Weight w, int rank) {
        long[] s = w.shape();
        if (s.length > rank || s.length < 1) {
            return -1;
        }
        int axis = -1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] != 1) {
                if (axis >= 0) {
                    return -1;
                }
                axis = i + rank - s.length;
            }
        }
        // a constant of one element is one channel: it normalizes the last axis of a one-channel tensor only
        return axis >= 0 ? axis : (s[s.length - 1] == 1 ? rank - 1 : -1);
    }

    private static Map<String, String[]> carried(Graph g) {
        Map<String, String[]> r = new HashMap<>();
        for (String e : g.metadata().getOrDefault(Preprocessing.CARRIED, "").split(",")) {
            int b = e.lastIndexOf(':');
            int a = b < 0 ? -1 : e.lastIndexOf(':', b - 1);
            if (a > 0) {
                r.put(e.substring(0, a), new String[] {e.substring(a + 1, b), e.substring(b + 1)});
            }
        }
        return r;
    }

    /** The variance the importer carried for {@code layer}, when it still gives exactly {@code divisor}; else null. */
    private static float[] carriedVariance(Graph g, String layer, float[] divisor) {
        String[] c = carried(g).get(layer);
        if (c == null) {
            return null;
        }
        String[] hex = c[1].split("/");
        if (hex.length != divisor.length) {
            return null;
        }
        float[] v = new float[hex.length];
        for (int i = 0; i < hex.length; i++) {
            v[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(hex[i], 16));
            if (Float.floatToRawIntBits(divisor(v[i])) != Float.floatToRawIntBits(divisor[i])) {
                return null;
            }
        }
        return v;
    }

    private static long carriedCount(Graph g, String layer) {
        return Long.parseLong(carried(g).get(layer)[0]);
    }
}
