package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import graft.error.MalformedModelException;
import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.LayoutTransform;
import graft.ir.Op;
import graft.ir.Weight;
import graft.keras.GraphBuilder.Layout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one Keras layer into IR nodes tagged with the layer's name: fused activations become
 * separate nodes, "same" padding becomes explicit (possibly asymmetric) pads, kernels get
 * pending layout transforms (HWIO to OIHW; Theano-saved kernels flipped, since Theano
 * convolved where TensorFlow and ONNX correlate), and the first Dense after a channels_last Flatten gets its rows permuted from
 * H,W,C to C,H,W order. Not thread-safe.
 */
final class LayerReader {
    /** The weights of a layer, in weight_names order. */
    interface WeightSource {
        List<Weight> of(KerasConfig.Layer layer);
    }

    private final GraphBuilder b;
    private final WeightSource weights;
    private final Path file;
    private final ConvLayerReader convs;
    private final Preprocessing preprocessing;
    /** Flatten outputs whose Dense consumers must permute their rows: the permutation to apply. */
    private final Map<String, LayoutTransform.Permute> pendingRows = new LinkedHashMap<>();

    /**
     * The file was saved by Keras 3 (a .keras zip, or keras_version 3.x): its 'hard_sigmoid' is
     * relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1), not Keras 2's clip(0.2 x + 0.5, 0, 1).
     */
    private final boolean keras3;

    LayerReader(GraphBuilder b, WeightSource weights, Path file, boolean theano, boolean keras3) {
        this.keras3 = keras3;
        this.b = b;
        this.weights = weights;
        this.file = file;
        this.convs = new ConvLayerReader(b, this, theano);
        this.preprocessing = new Preprocessing(b, this);
    }

    /** Maps {@code l} reading IR values {@code in}; returns the IR value holding its output. */
    String map(KerasLayer kind, KerasConfig.Layer l, List<String> in, boolean onlyDenseConsumers) {
        JsonNode c = l.cfg();
        String name = l.name();
        String x = in.isEmpty() ? null : in.get(0);
        return switch (kind) {
            case INPUT_LAYER -> throw new IllegalStateException("input layers are graph inputs");
            case CONV2D -> convs.conv(l, x);
            case CONV2D_TRANSPOSE -> convs.convTranspose(l, x);
            case DEPTHWISE_CONV2D -> convs.depthwise(l, x);
            case SEPARABLE_CONV2D -> convs.separable(l, x);
            case LOCALLY_CONNECTED2D -> convs.locallyConnected(l, x);
            case MAX_POOLING2D, AVERAGE_POOLING2D -> pool(l, x, kind == KerasLayer.MAX_POOLING2D);
            case GLOBAL_AVERAGE_POOLING2D, GLOBAL_MAX_POOLING2D -> globalPool(l, x, kind == KerasLayer.GLOBAL_MAX_POOLING2D);
            case ZERO_PADDING2D -> zeroPad(l, x);
            case CROPPING2D -> crop(l, x);
            case UP_SAMPLING2D -> upSample(l, x);
            case FLATTEN -> flatten(l, x, onlyDenseConsumers);
            case DENSE -> dense(l, x);
            // Identity at inference; kept as Dropout with its rate so that writing Keras or ONNX keeps
            // it and finetune trains with it (SpatialDropout2D's channel-wise mask becomes Dropout's).
            case DROPOUT, SPATIAL_DROPOUT2D -> b.node(Op.DROPOUT, name, name,
                    List.of(x, b.scalar(name + "_ratio", (float) c.path("rate").asDouble(c.path("p").asDouble(0.5)))), Map.of(), b.layout(x));
            case GAUSSIAN_NOISE, GAUSSIAN_DROPOUT, ALPHA_DROPOUT ->
                    b.node(Op.IDENTITY, name, name, List.of(x), Map.of(), b.layout(x));
            case ACTIVATION -> {
                String y = activation(name, x, c.path("activation").asText("linear"), name);
                yield y.equals(x) ? b.node(Op.IDENTITY, name, name, List.of(x), Map.of(), b.layout(x)) : y;
            }
            case RELU -> relu(l, x);
            case LEAKY_RELU -> b.node(Op.LEAKY_RELU, name, name, List.of(x),
                    Map.of("alpha", Attr.of((float) c.path("alpha").asDouble(c.path("negative_slope").asDouble(0.3)))), b.layout(x));
            case ELU -> b.node(Op.ELU, name, name, List.of(x), Map.of("alpha", Attr.of((float) c.path("alpha").asDouble(1.0))), b.layout(x));
            case THRESHOLDED_RELU -> b.node(Op.THRESHOLDED_RELU, name, name, List.of(x),
                    Map.of("alpha", Attr.of((float) c.path("theta").asDouble(1.0))), b.layout(x));
            case PRELU -> prelu(l, x);
            case SOFTMAX -> b.node(Op.SOFTMAX, name, name, List.of(x), Map.of("axis", Attr.of((long) b.irAxis(x, c.path("axis").asInt(-1)))), b.layout(x));
            case BATCH_NORMALIZATION -> batchNorm(l, x);
            case ADD -> merge(l, in, Op.SUM);
            case SUBTRACT -> merge(l, in, Op.SUB);
            case MULTIPLY -> merge(l, in, Op.MUL);
            case AVERAGE -> merge(l, in, Op.MEAN);
            case MAXIMUM -> merge(l, in, Op.MAX);
            case MINIMUM -> merge(l, in, Op.MIN);
            case CONCATENATE -> concat(l, in);
            case RESHAPE -> reshape(l, x);
            case PERMUTE -> permute(l, x);
            case RESCALING -> preprocessing.rescaling(l, x);
            case NORMALIZATION -> preprocessing.normalization(l, x);
        };
    }

    // ---- convolutions -------------------------------------------------------------------

    static Layout format(JsonNode c) {
        return c.path("data_format").asText("channels_last").equals("channels_first") ? Layout.KERAS : Layout.NCHW_OF_NHWC;
    }

    /**
     * A pair that must be positive (kernel_size, strides, dilation_rate, pool_size): a zero or
     * negative one is a corrupted config, refused here rather than dividing by it later.
     */
    long[] positivePair(KerasConfig.Layer l, String key, long dflt) {
        long[] v = pair(l.cfg().path(key), dflt);
        if (v[0] < 1 || v[1] < 1) {
            throw corrupted(l, key + " " + Arrays.toString(v) + " must be positive");
        }
        return v;
    }

    MalformedModelException corrupted(KerasConfig.Layer l, String why) {
        return new MalformedModelException(file, "layer '" + l.name() + "' (" + l.cls() + "): " + why);
    }

    static long[] pair(JsonNode v, long dflt) {
        if (v.isArray() && v.size() >= 2) {
            return new long[] {v.get(0).asLong(), v.get(1).asLong()};
        }
        if (v.isNumber()) {
            return new long[] {v.asLong(), v.asLong()};
        }
        return new long[] {dflt, dflt};
    }

    // ---- pooling, padding, resizing -----------------------------------------------------

    private String pool(KerasConfig.Layer l, String x0, boolean max) {
        JsonNode c = l.cfg();
        Layout f = format(c);
        String x = b.as(x0, f, l.name());
        long[] k = positivePair(l, "pool_size", 2);
        long[] s = c.path("strides").isNull() || c.path("strides").isMissingNode() ? k.clone() : positivePair(l, "strides", 1);
        Map<String, Attr> a = new LinkedHashMap<>();
        a.put("kernel_shape", Attr.ints(k));
        a.put("strides", Attr.ints(s));
        long[] p = convs.pads(x, c.path("padding").asText("valid"), k, s, new long[] {1, 1});
        if (p == null) {
            a.put("auto_pad", Attr.of("SAME_UPPER"));
        } else {
            a.put("pads", Attr.ints(p));
        }
        if (!max) {
            a.put("count_include_pad", Attr.of(0L)); // Keras averages over the real pixels only
        }
        return b.node(max ? Op.MAX_POOL : Op.AVERAGE_POOL, l.name(), l.name(), List.of(x), a, f);
    }

    private String globalPool(KerasConfig.Layer l, String x0, boolean max) {
        JsonNode c = l.cfg();
        Layout f = format(c);
        String x = b.as(x0, f, l.name());
        boolean keep = c.path("keepdims").asBoolean(false);
        String y = b.node(max ? Op.GLOBAL_MAX_POOL : Op.GLOBAL_AVERAGE_POOL, l.name(), keep ? l.name() : l.name() + "/pool", List.of(x), Map.of(), f);
        return keep ? y : b.node(Op.FLATTEN, l.name(), l.name(), List.of(y), Map.of("axis", Attr.of(1L)), Layout.KERAS);
    }

    /** Keras 2-D padding/cropping spec as [top, bottom, left, right]. */
    private static long[] fourSides(JsonNode p) {
        if (p.isNumber()) {
            return new long[] {p.asLong(), p.asLong(), p.asLong(), p.asLong()};
        }
        if (p.isArray() && p.size() == 2 && p.get(0).isNumber()) {
            return new long[] {p.get(0).asLong(), p.get(0).asLong(), p.get(1).asLong(), p.get(1).asLong()};
        }
        long[] h = pair(p.path(0), 0);
        long[] w = pair(p.path(1), 0);
        return new long[] {h[0], h[1], w[0], w[1]};
    }

    private String zeroPad(KerasConfig.Layer l, String x0) {
        Layout f = format(l.cfg());
        String x = b.as(x0, f, l.name());
        long[] p = fourSides(l.cfg().path("padding"));
        String pads = b.longs(l.name() + "/pads", 0, 0, p[0], p[2], 0, 0, p[1], p[3]);
        return b.node(Op.PAD, l.name(), l.name(), List.of(x, pads), Map.of("mode", Attr.of("constant")), f);
    }

    private String crop(KerasConfig.Layer l, String x0) {
        Layout f = format(l.cfg());
        String x = b.as(x0, f, l.name());
        long[] p = fourSides(l.cfg().path("cropping"));
        String starts = b.longs(l.name() + "/starts", p[0], p[2]);
        String ends = b.longs(l.name() + "/ends", p[1] == 0 ? Long.MAX_VALUE : -p[1], p[3] == 0 ? Long.MAX_VALUE : -p[3]);
        String axes = b.longs(l.name() + "/axes", 2, 3);
        return b.node(Op.SLICE, l.name(), l.name(), List.of(x, starts, ends, axes), Map.of(), f);
    }

    /**
     * Nearest-neighbour upsampling from catalogue ops only: repeating the last axis is
     * Unsqueeze + Concat of copies + Reshape(0,0,0,-1), which works with symbolic sizes; rows
     * are repeated the same way between two Transposes.
     */
    private String upSample(KerasConfig.Layer l, String x0) {
        Layout f = format(l.cfg());
        String x = b.as(x0, f, l.name());
        long[] s = pair(l.cfg().path("size"), 2);
        String y = repeatLast(l.name(), x, s[1], f);
        if (s[0] != 1) {
            String t = b.node(Op.TRANSPOSE, l.name(), l.name() + "/swap", List.of(y), Map.of("perm", Attr.ints(0, 1, 3, 2)), f);
            t = repeatLast(l.name(), t, s[0], f);
            y = b.node(Op.TRANSPOSE, l.name(), l.name(), List.of(t), Map.of("perm", Attr.ints(0, 1, 3, 2)), f);
        }
        return y;
    }

    private String repeatLast(String layer, String x, long times, Layout f) {
        if (times == 1) {
            return x;
        }
        String u = b.node(Op.UNSQUEEZE, layer, layer + "/unsqueeze", List.of(x, b.longs(layer + "/axes", 4)), Map.of(), f);
        List<String> copies = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            copies.add(u);
        }
        String c = b.node(Op.CONCAT, layer, layer + "/repeat", copies, Map.of("axis", Attr.of(4L)), f);
        return b.node(Op.RESHAPE, layer, layer + "/merge", List.of(c, b.longs(layer + "/shape", 0, 0, 0, -1)), Map.of(), f);
    }

    // ---- dense, flatten, reshaping ------------------------------------------------------

    private String flatten(KerasConfig.Layer l, String x, boolean onlyDenseConsumers) {
        if (b.rank(x) != 4) {
            String xk = b.as(x, Layout.KERAS, l.name());
            return b.node(Op.FLATTEN, l.name(), l.name(), List.of(xk), Map.of("axis", Attr.of(1L)), Layout.KERAS);
        }
        // Keras flattens its own tensor in H,W,C order (channels_first Flatten: it moves C last first).
        int[] wanted = l.cfg().path("data_format").asText("channels_last").equals("channels_first") ? new int[] {2, 3, 1} : new int[] {1, 2, 3};
        int[] irOrder = b.layout(x) == Layout.NCHW_OF_NHWC ? new int[] {3, 1, 2} : new int[] {1, 2, 3};
        long[] kerasDims = new long[4];
        for (int i = 1; i < 4; i++) {
            kerasDims[irOrder[i - 1]] = b.dim(x, i);
        }
        boolean fixed = kerasDims[1] > 0 && kerasDims[2] > 0 && kerasDims[3] > 0;
        // Test-only: a deliberately wrong rule (no reordering), so that tests can show that validation against an
        // independent oracle catches an importer bug that graft-vs-graft validation cannot (OracleValidationTest).
        if (Arrays.equals(wanted, irOrder) || Boolean.getBoolean("graft.test.breakFlatten")) {
            return b.node(Op.FLATTEN, l.name(), l.name(), List.of(x), Map.of("axis", Attr.of(1L)), Layout.KERAS);
        }
        if (onlyDenseConsumers && fixed) {
            String y = b.node(Op.FLATTEN, l.name(), l.name(), List.of(x), Map.of("axis", Attr.of(1L)), Layout.KERAS);
            // Dense rows come in `wanted` order; the IR flattens in `irOrder`: view the kernel as (wanted dims, out) and permute.
            long[] view = {kerasDims[wanted[0]], kerasDims[wanted[1]], kerasDims[wanted[2]], -1};
            int[] perm = new int[4];
            for (int p = 0; p < 3; p++) {
                for (int q = 0; q < 3; q++) {
                    if (wanted[q] == irOrder[p]) {
                        perm[p] = q;
                    }
                }
            }
            perm[3] = 3;
            pendingRows.put(y, new LayoutTransform.Permute(view, perm, new long[] {view[0] * view[1] * view[2], -1}));
            return y;
        }
        long[] perm = new long[4];
        for (int i = 0; i < 3; i++) {
            for (int p = 0; p < 3; p++) {
                if (irOrder[p] == wanted[i]) {
                    perm[i + 1] = p + 1;
                }
            }
        }
        String t = b.node(Op.TRANSPOSE, l.name(), l.name() + "/order", List.of(x), Map.of("perm", Attr.ints(perm)), Layout.KERAS);
        return b.node(Op.FLATTEN, l.name(), l.name(), List.of(t), Map.of("axis", Attr.of(1L)), Layout.KERAS);
    }

    private String dense(KerasConfig.Layer l, String x) {
        JsonNode c = l.cfg();
        if (b.rank(x) != 2) {
            throw new UnsupportedModelException("layer '" + l.name() + "' (Dense): input of rank " + b.rank(x)
                    + "; graft converts Dense on (batch, features) inputs. Put a Flatten before it", List.of(l.name() + " (Dense)"));
        }
        List<Weight> w = expect(l, c.path("use_bias").asBoolean(true) ? 2 : 1);
        long units = c.path("units").asLong();
        Weight kernel = w.get(0);
        checkShape(l, kernel, b.dim(x, 1), units);
        LayoutTransform.Permute rows = pendingRows.get(x);
        if (rows != null) {
            long out = kernel.shape()[1];
            long[] v = rows.view().clone();
            v[3] = out;
            kernel = kernel.with(LayoutTransform.permute(v, rows.perm(), new long[] {v[0] * v[1] * v[2], out}));
        }
        // Gemm with transB=0 takes Keras's (in, out) kernel as it is: no transpose.
        List<String> ins = new ArrayList<>(List.of(x, b.weight(kernel.renamed(l.name() + "/kernel"))));
        if (w.size() > 1) {
            checkShape(l, w.get(1), units);
            ins.add(b.weight(w.get(1).renamed(l.name() + "/bias")));
        }
        String act = c.path("activation").asText("linear");
        String y = b.node(Op.GEMM, l.name(), act.equals("linear") ? l.name() : l.name() + "/dense", ins, Map.of(), Layout.KERAS);
        return activation(l.name(), y, act, l.name());
    }

    private String reshape(KerasConfig.Layer l, String x) {
        String xk = b.as(x, Layout.KERAS, l.name());
        JsonNode t = l.cfg().path("target_shape");
        long[] shape = new long[t.size() + 1];
        for (int i = 0; i < t.size(); i++) {
            shape[i + 1] = t.get(i).asLong();
        }
        return b.node(Op.RESHAPE, l.name(), l.name(), List.of(xk, b.longs(l.name() + "/shape", shape)), Map.of(), Layout.KERAS);
    }

    private String permute(KerasConfig.Layer l, String x) {
        String xk = b.as(x, Layout.KERAS, l.name());
        JsonNode d = l.cfg().path("dims");
        long[] perm = new long[d.size() + 1];
        for (int i = 0; i < d.size(); i++) {
            perm[i + 1] = d.get(i).asLong();
        }
        return b.node(Op.TRANSPOSE, l.name(), l.name(), List.of(xk), Map.of("perm", Attr.ints(perm)), Layout.KERAS);
    }

    // ---- activations, normalisation, merges ---------------------------------------------

    /** Keras 3's hard_sigmoid slope: relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1). */
    static final float KERAS3_HARD_SIGMOID_ALPHA = 1f / 6f;

    /** Appends the Keras activation {@code act} to {@code x}; the last node's output is named {@code out}. */
    String activation(String layer, String x, String act, String out) {
        Layout f = b.layout(x);
        return switch (act) {
            case "linear", "" -> x;
            case "relu" -> b.node(Op.RELU, layer, out, List.of(x), Map.of(), f);
            case "sigmoid" -> b.node(Op.SIGMOID, layer, out, List.of(x), Map.of(), f);
            case "tanh" -> b.node(Op.TANH, layer, out, List.of(x), Map.of(), f);
            case "softmax" -> b.node(Op.SOFTMAX, layer, out, List.of(x), Map.of("axis", Attr.of((long) b.irAxis(x, -1))), f);
            case "log_softmax" -> b.node(Op.LOG_SOFTMAX, layer, out, List.of(x), Map.of("axis", Attr.of((long) b.irAxis(x, -1))), f);
            case "elu" -> b.node(Op.ELU, layer, out, List.of(x), Map.of("alpha", Attr.of(1.0f)), f);
            case "selu" -> b.node(Op.SELU, layer, out, List.of(x),
                    Map.of("alpha", Attr.of(1.6732632423543772f), "gamma", Attr.of(1.0507009873554805f)), f);
            case "softplus" -> b.node(Op.SOFTPLUS, layer, out, List.of(x), Map.of(), f);
            case "softsign" -> b.node(Op.SOFTSIGN, layer, out, List.of(x), Map.of(), f);
            case "hard_sigmoid" -> b.node(Op.HARD_SIGMOID, layer, out, List.of(x),
                    Map.of("alpha", Attr.of(keras3 ? KERAS3_HARD_SIGMOID_ALPHA : 0.2f), "beta", Attr.of(0.5f)), f);
            case "exponential" -> b.node(Op.EXP, layer, out, List.of(x), Map.of(), f);
            case "relu6" -> b.node(Op.CLIP, layer, out, List.of(x, b.scalar(layer + "/min", 0f), b.scalar(layer + "/max", 6f)), Map.of(), f);
            case "swish", "silu" -> {
                String s = b.node(Op.SIGMOID, layer, layer + "/sigmoid", List.of(x), Map.of(), f);
                yield b.node(Op.MUL, layer, out, List.of(x, s), Map.of(), f);
            }
            default -> throw new UnsupportedModelException("layer '" + layer + "': activation '" + act + "' is not supported", List.of(layer));
        };
    }

    static boolean knownActivation(String act) {
        return switch (act) {
            case "linear", "", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "softplus", "softsign",
                 "hard_sigmoid", "exponential", "relu6", "swish", "silu" -> true;
            default -> false;
        };
    }

    private String relu(KerasConfig.Layer l, String x) {
        JsonNode c = l.cfg();
        double slope = c.path("negative_slope").asDouble(0);
        double th = c.path("threshold").asDouble(0);
        JsonNode max = c.path("max_value");
        boolean hasMax = max.isNumber();
        Layout f = b.layout(x);
        String n = l.name();
        if (th != 0) {
            return b.node(Op.THRESHOLDED_RELU, n, n, List.of(x), Map.of("alpha", Attr.of((float) th)), f);
        }
        if (slope != 0) {
            String y = b.node(Op.LEAKY_RELU, n, hasMax ? n + "/leaky" : n, List.of(x), Map.of("alpha", Attr.of((float) slope)), f);
            return hasMax ? b.node(Op.CLIP, n, n, List.of(y, b.scalar(n + "/min", -Float.MAX_VALUE), b.scalar(n + "/max", (float) max.asDouble())), Map.of(), f) : y;
        }
        if (hasMax) {
            return b.node(Op.CLIP, n, n, List.of(x, b.scalar(n + "/min", 0f), b.scalar(n + "/max", (float) max.asDouble())), Map.of(), f);
        }
        return b.node(Op.RELU, n, n, List.of(x), Map.of(), f);
    }

    private String prelu(KerasConfig.Layer l, String x) {
        Weight alpha = expect(l, 1).get(0);
        long[] s = alpha.shape();
        if (s.length == 3 && b.layout(x) == Layout.NCHW_OF_NHWC) {
            alpha = alpha.with(LayoutTransform.transpose(s, 2, 0, 1));
        }
        return b.node(Op.PRELU, l.name(), l.name(), List.of(x, b.weight(alpha.renamed(l.name() + "/alpha"))), Map.of(), b.layout(x));
    }

    private String batchNorm(KerasConfig.Layer l, String x0) {
        JsonNode c = l.cfg();
        JsonNode axisNode = c.path("axis");
        int axis = axisNode.isArray() ? axisNode.get(0).asInt() : axisNode.asInt(-1);
        String x = x0;
        int r = b.rank(x);
        if (r == 4) {
            int a = axis < 0 ? axis + 4 : axis;
            if (a == 3) {
                x = b.as(x0, Layout.NCHW_OF_NHWC, l.name());
            } else if (a == 1) {
                x = b.as(x0, Layout.KERAS, l.name());
            } else {
                throw new UnsupportedModelException("layer '" + l.name() + "' (BatchNormalization): axis " + axis
                        + " is not the channel axis; graft converts channel-axis batch normalization", List.of(l.name() + " (BatchNormalization)"));
            }
        }
        boolean scale = c.path("scale").asBoolean(true);
        boolean center = c.path("center").asBoolean(true);
        List<Weight> w = expect(l, 2 + (scale ? 1 : 0) + (center ? 1 : 0));
        int i = 0;
        long ch = w.get(w.size() - 1).elementCount();
        Weight gamma = scale ? w.get(i++) : Weight.ofFloats(l.name() + "/gamma", new long[] {ch}, filled((int) ch, 1f));
        Weight beta = center ? w.get(i++) : Weight.ofFloats(l.name() + "/beta", new long[] {ch}, filled((int) ch, 0f));
        Weight mean = w.get(i++);
        Weight var = w.get(i);
        for (Weight v : List.of(gamma, beta, mean, var)) {
            checkShape(l, v, b.dim(x, 1) < 0 ? ch : b.dim(x, 1));
        }
        List<String> ins = List.of(x, b.weight(gamma.renamed(l.name() + "/gamma")), b.weight(beta.renamed(l.name() + "/beta")),
                b.weight(mean.renamed(l.name() + "/moving_mean")), b.weight(var.renamed(l.name() + "/moving_variance")));
        // Keras has no weight for a gamma (beta) that scale (center) turns off: the filled ones are constants, not parameters.
        if (!scale) {
            constant(ins.get(1));
        }
        if (!center) {
            constant(ins.get(2));
        }
        return b.node(Op.BATCH_NORMALIZATION, l.name(), l.name(), ins,
                // Keras's momentum (default 0.99) is ONNX's: running = running * momentum + batch * (1 - momentum)
                Map.of("epsilon", Attr.of((float) c.path("epsilon").asDouble(1e-3)), "momentum", Attr.of((float) c.path("momentum").asDouble(0.99))),
                b.layout(x));
    }

    void constant(String weight) {
        String prev = b.g.metadata().get(graft.ir.LayerTable.CONSTANTS);
        b.g.metadata().put(graft.ir.LayerTable.CONSTANTS, prev == null ? weight : prev + "," + weight);
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    private String merge(KerasConfig.Layer l, List<String> in, Op op) {
        Layout f = b.layout(in.get(0));
        List<String> xs = new ArrayList<>();
        for (String v : in) {
            xs.add(b.as(v, f, l.name()));
        }
        if (op == Op.SUB || op == Op.MUL) {
            String acc = xs.get(0);
            for (int i = 1; i < xs.size(); i++) {
                acc = b.node(op, l.name(), i == xs.size() - 1 ? l.name() : l.name() + "/part", List.of(acc, xs.get(i)), Map.of(), f);
            }
            return acc;
        }
        return b.node(op, l.name(), l.name(), xs, Map.of(), f);
    }

    private String concat(KerasConfig.Layer l, List<String> in) {
        Layout f = b.layout(in.get(0));
        List<String> xs = new ArrayList<>();
        for (String v : in) {
            xs.add(b.as(v, f, l.name()));
        }
        long axis = b.irAxis(xs.get(0), l.cfg().path("axis").asInt(-1));
        return b.node(Op.CONCAT, l.name(), l.name(), xs, Map.of("axis", Attr.of(axis)), f);
    }

    // ---- weights ------------------------------------------------------------------------

    List<Weight> expect(KerasConfig.Layer l, int count) {
        List<Weight> w = weights.of(l);
        if (w.size() != count) {
            throw new MalformedModelException(file, "layer '" + l.name() + "' (" + l.cls() + ") has " + w.size()
                    + " weights in the file, its config needs " + count);
        }
        return w;
    }

    /** Checks a weight's source shape against what the config implies (-1: any size). */
    void checkShape(KerasConfig.Layer l, Weight w, long... dims) {
        long[] s = w.shape();
        boolean ok = s.length == dims.length;
        for (int i = 0; ok && i < dims.length; i++) {
            ok = dims[i] < 0 || s[i] == dims[i];
        }
        if (!ok) {
            throw new MalformedModelException(file, "weight '" + w.name() + "' of layer '" + l.name() + "' has shape " + Arrays.toString(s)
                    + ", the layer's config and input need " + Arrays.toString(dims).replace("-1", "?"));
        }
    }
}
