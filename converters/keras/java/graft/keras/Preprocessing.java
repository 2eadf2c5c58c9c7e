package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import graft.error.UnsupportedModelException;
import graft.ir.LayerTable;
import graft.ir.LayoutTransform;
import graft.ir.Op;
import graft.ir.Weight;
import java.util.List;
import java.util.Map;

/**
 * Keras's preprocessing layers that sit inside a model (EfficientNet's stem): {@code Rescaling}
 * ({@code x * scale + offset}) and {@code Normalization} ({@code (x - mean) / max(sqrt(variance), 1e-7)};
 * its {@code invert} is refused). Both work in whatever layout their input already has, so they add no
 * Transpose. Normalization's divisor {@code max(sqrt(variance), 1e-7)} is computed once at import
 * (one value per channel, a copy): in float32, sqrt is correctly rounded, so it is the number Keras
 * divides by. Its mean and divisor are parameters that never train (Keras's Normalization weights
 * are non-trainable); its int64 {@code count} weight is not carried into the graph, but is counted
 * where Keras counts it ({@link LayerTable#UNCARRIED}).
 */
final class Preprocessing {
    /**
     * Metadata key: per Normalization layer with Keras weights, {@code layer:count:variance}
     * (the count's value; the variance as float32 bit patterns in hex, '/'-separated). The graph
     * holds the divisor, from which the variance cannot always be had back bit for bit (two
     * variances can share a rounded square root); the Keras writers write these back when the
     * divisor is still the one they give.
     */
    static final String CARRIED = "graft.keras.normalization";

    /** Keras's backend.epsilon(), the floor of Normalization's divisor. */
    static final float EPSILON = 1e-7f;

    private final GraphBuilder b;
    private final LayerReader m;

    Preprocessing(GraphBuilder b, LayerReader m) {
        this.b = b;
        this.m = m;
    }

    /** Why graft cannot convert this Normalization config, or null. */
    static String unsupported(JsonNode c) {
        JsonNode axis = c.path("axis");
        boolean one = axis.isInt() || axis.isArray() && axis.size() == 1 && axis.get(0).isInt();
        if (!one) {
            return "axis " + axis + " (graft converts one normalized axis)";
        }
        if (c.path("invert").asBoolean(false)) {
            return "invert (graft converts the forward normalization only)";
        }
        boolean given = !c.path("mean").isNull() && !c.path("mean").isMissingNode();
        if (given && !c.path("mean").isNumber() || given && !c.path("variance").isNumber()) {
            return "mean and variance given in the config as arrays";
        }
        return null;
    }

    String rescaling(KerasConfig.Layer l, String x) {
        JsonNode c = l.cfg();
        String n = l.name();
        float scale = (float) c.path("scale").asDouble();
        float offset = (float) c.path("offset").asDouble(0);
        GraphBuilder.Layout f = b.layout(x);
        String s = b.scalar(n + "/scale", scale);
        m.constant(s);
        String y = b.node(Op.MUL, n, offset == 0f ? n : n + "/scaled", List.of(x, s), Map.of(), f);
        if (offset == 0f) {
            return y;
        }
        String o = b.scalar(n + "/offset", offset);
        m.constant(o);
        return b.node(Op.ADD, n, n, List.of(y, o), Map.of(), f);
    }

    String normalization(KerasConfig.Layer l, String x) {
        JsonNode c = l.cfg();
        String n = l.name();
        int r = b.rank(x);
        JsonNode ax = c.path("axis").isArray() ? c.path("axis").get(0) : c.path("axis");
        int a = ax.asInt() < 0 ? ax.asInt() + r : ax.asInt();
        if (r < 2 || a != r - 1) {
            throw new UnsupportedModelException("layer '" + n + "' (Normalization): axis " + ax.asInt() + " of a rank-" + r
                    + " input; graft converts normalization over the last (channel) axis", List.of(n + " (Normalization)"));
        }
        int irAxis = b.irAxis(x, a);
        long ch = b.dim(x, irAxis);
        Weight mean;
        float[] var;
        boolean given = c.path("mean").isNumber();
        if (given) {
            // mean and variance in the config: constants of the model, not Keras weights
            mean = Weight.ofFloats(n + "/mean", new long[] {1}, new float[] {(float) c.path("mean").asDouble()});
            var = new float[] {(float) c.path("variance").asDouble()};
        } else {
            List<Weight> w = m.expect(l, 3);
            mean = w.get(0);
            var = w.get(1).toFloats();
            m.checkShape(l, mean, ch);
            m.checkShape(l, w.get(1), ch);
            if (w.get(2).elementCount() > 0) {
                LayerTable.note(b.g, LayerTable.UNCARRIED, n + "=" + w.get(2).elementCount());
            }
            if (w.get(2).elementCount() == 1) {
                StringBuilder v = new StringBuilder();
                for (float f : var) {
                    v.append(v.length() == 0 ? "" : "/").append(Integer.toHexString(Float.floatToRawIntBits(f)));
                }
                LayerTable.note(b.g, CARRIED, n + ":" + w.get(2).toLongs()[0] + ":" + v);
            }
        }
        long len = mean.elementCount();
        // one value per channel, broadcast over the other non-batch axes in the IR layout
        long[] shape = new long[r - 1];
        java.util.Arrays.fill(shape, 1);
        shape[irAxis - 1] = len;
        float[] std = new float[var.length];
        for (int i = 0; i < var.length; i++) {
            std[i] = Math.max((float) Math.sqrt(var[i]), EPSILON);
        }
        String meanName = b.weight(mean.with(LayoutTransform.permute(new long[] {len}, new int[] {0}, shape)).renamed(n + "/mean"));
        String stdName = b.weight(Weight.ofFloats(n + "/std", shape, std));
        for (String w : List.of(meanName, stdName)) {
            if (given) {
                m.constant(w);
            } else {
                LayerTable.note(b.g, LayerTable.FIXED, w);
            }
        }
        GraphBuilder.Layout f = b.layout(x);
        String y = b.node(Op.SUB, n, n + "/centered", List.of(x, meanName), Map.of(), f);
        return b.node(Op.DIV, n, n, List.of(y, stdName), Map.of(), f);
    }
}
