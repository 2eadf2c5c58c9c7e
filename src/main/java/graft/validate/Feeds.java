package graft.validate;

import graft.error.UsageException;
import graft.io.Npy;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.ir.Value;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The inputs both models see: seeded random tensors, .npy files, or decoded images, made for
 * the first model and carried over to the second by name (or position), permuted NCHW<->NHWC
 * when the second model keeps the other layout.
 */
public final class Feeds {
    private Feeds() {
    }

    /** Concrete sizes for symbolic dimensions: the batch (axis 0) and, when given, H x W. */
    public record Sizes(long batch, long[] hw) {
    }

    /** A feed for every input of {@code g}: from {@code npy} where named, otherwise seeded random. */
    public static Map<String, Tensor> make(Graph g, Map<String, Path> npy, long seed, Sizes sizes) {
        return make(g, npy, seed, sizes, note -> { });
    }

    /**
     * As {@link #make(Graph, Map, long, Sizes)}, telling {@code notes} what was changed on the way
     * (a float64 file converted to the input's float32). A file whose shape does not fit the
     * input's fixed dimensions, or whose type cannot be converted without changing its
     * meaning, is refused naming both.
     */
    public static Map<String, Tensor> make(Graph g, Map<String, Path> npy, long seed, Sizes sizes, java.util.function.Consumer<String> notes) {
        Map<String, Path> left = new LinkedHashMap<>(npy);
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        long k = 0;
        for (Value v : inputs(g)) {
            Path p = left.remove(v.name());
            TensorType t = g.type(v.name()) != null ? g.type(v.name()) : v.type();
            if (p != null) {
                Npy.Array a = Npy.read(p);
                feeds.put(v.name(), fitFile(v.name(), p, a, t, notes));
            } else {
                feeds.put(v.name(), Tensor.random(t == null ? DataType.FLOAT : t.dtype(), concrete(v.name(), t, sizes), seed + k));
            }
            k++;
        }
        if (!left.isEmpty()) {
            throw new UsageException("--input " + left.keySet() + " (" + g.name() + "): not inputs of the model. Its inputs are "
                    + g.inputs().stream().map(Value::name).toList());
        }
        return feeds;
    }

    private static Tensor fitFile(String name, Path file, Npy.Array a, TensorType want, java.util.function.Consumer<String> notes) {
        if (want != null && want.shape() != null && !matches(a.shape(), want)) {
            throw new UsageException("--input " + name + "=" + file + ": shape " + Arrays.toString(a.shape()) + " does not fit the model's input "
                    + want.shape() + (a.shape().length == want.shape().rank() && want.shape().dim(0).isFixed()
                    && want.shape().dim(0).value() != a.shape()[0] ? " (batch " + a.shape()[0] + ", the model takes a fixed batch of "
                    + want.shape().dim(0).value() + ")" : "") + ". Give a file of the input's shape");
        }
        Tensor t = new Tensor(a.dtype(), a.shape(), direct(a.data()));
        if (want == null || want.dtype() == a.dtype()) {
            return t;
        }
        if (a.dtype().isFloating() && a.dtype() != DataType.BFLOAT16 && (want.dtype() == DataType.FLOAT || want.dtype() == DataType.DOUBLE
                || want.dtype() == DataType.FLOAT16)) {
            notes.accept("--input " + name + "=" + file.getFileName() + ": " + numpy(a.dtype()) + " values converted to "
                    + numpy(want.dtype()) + ", the model's input type (rounded to nearest, as numpy's astype)");
            return converted(t, want.dtype());
        }
        throw new UsageException("--input " + name + "=" + file + ": " + numpy(a.dtype()) + " values, but the model's input is "
                + numpy(want.dtype()) + ". Save the array as " + numpy(want.dtype()));
    }

    /** numpy's name of a type, the one a user saved the file with. */
    static String numpy(DataType t) {
        return switch (t) {
            case FLOAT -> "float32";
            case DOUBLE -> "float64";
            case FLOAT16 -> "float16";
            default -> t.lowerName();
        };
    }

    /** A floating tensor in another floating type; float64 -> float32 rounds to nearest even. */
    static Tensor converted(Tensor t, DataType to) {
        int n = Math.toIntExact(t.count());
        ByteBuffer src = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer b = ByteBuffer.allocateDirect(n * to.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            if (!t.dtype().isFloating()) {
                throw new IllegalStateException("not a floating type: " + t.dtype());
            }
            double x = graft.ir.Elements.get(t.dtype(), src, i);
            switch (to) {
                case DOUBLE -> b.putDouble(i * 8, x);
                case FLOAT -> b.putFloat(i * 4, (float) x);
                case FLOAT16 -> b.putShort(i * 2, graft.ir.Half.fromFloat((float) x));
                default -> throw new IllegalStateException("not a floating type: " + to);
            }
        }
        return new Tensor(to, t.shape().clone(), b);
    }

    /** The inputs a caller feeds: graph inputs that are not also weights (IR 3 lists weights as inputs). */
    static List<Value> inputs(Graph g) {
        return g.inputs().stream().filter(v -> g.initializer(v.name()) == null).toList();
    }

    static ByteBuffer direct(ByteBuffer b) {
        if (b.isDirect()) {
            return b;
        }
        ByteBuffer d = ByteBuffer.allocateDirect(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        d.put(b.duplicate()).flip();
        return d;
    }

    /** The declared shape with symbolic dimensions replaced by {@code sizes}. */
    public static long[] concrete(String name, TensorType t, Sizes sizes) {
        if (t == null || t.shape() == null) {
            throw new UsageException("input '" + name + "': no declared shape. Feed it with --input " + name + "=FILE.npy");
        }
        List<Dim> dims = t.shape().dims();
        long[] r = new long[dims.size()];
        int spatial = 0;
        boolean channelsLast = dims.size() == 4 && dims.get(3).isFixed() && dims.get(3).value() <= 4
                && !(dims.get(1).isFixed() && dims.get(1).value() <= 4);
        for (int i = 0; i < r.length; i++) {
            Dim d = dims.get(i);
            int firstSpatial = channelsLast ? 1 : r.length - 2;
            if (d.isFixed()) {
                r[i] = d.value();
            } else if (i == 0) {
                r[i] = sizes.batch();
            } else if (sizes.hw() != null && i >= firstSpatial && spatial < 2) {
                r[i] = sizes.hw()[spatial++];
            } else {
                throw new UsageException("input '" + name + "': symbolic dimension '" + d + "' at axis " + i
                        + ". Give it with --size HxW or feed a .npy file");
            }
        }
        return r;
    }

    /**
     * Refuses feeds that fit the declared inputs but not the layers behind them: a model whose H
     * and W are symbolic may still fix them further on (a Flatten into an InnerProduct of fixed
     * width). Shape inference is run on the graph with the fed shapes in place of the symbolic
     * ones, and the first clash is reported with the shapes fed, as a usage error (exit 2) rather
     * than ONNX Runtime failing mid-run. Models with fully fixed inputs are not re-checked.
     */
    public static void checkFits(Graph g, Map<String, Tensor> feeds, String how) {
        boolean symbolic = false;
        Graph probe = new Graph(g.name());
        List<String> fed = new java.util.ArrayList<>();
        for (Value v : g.inputs()) {
            Tensor t = feeds.get(v.name());
            TensorType declared = g.type(v.name()) != null ? g.type(v.name()) : v.type();
            if (t == null || declared == null || declared.shape() == null) {
                probe.inputs().add(v);
                continue;
            }
            if (declared.shape().dims().stream().anyMatch(d -> !d.isFixed())) {
                symbolic = true;
            }
            probe.inputs().add(new Value(v.name(), new TensorType(declared.dtype(), graft.ir.Shape.of(t.shape()))));
            fed.add("'" + v.name() + "' " + declared.shape() + " fed as " + graft.ir.Shape.of(t.shape()));
        }
        if (!symbolic) {
            return;
        }
        probe.outputs().addAll(g.outputs());
        probe.nodes().addAll(g.nodes());
        g.initializers().values().forEach(probe::addInitializer);
        probe.types().putAll(g.types());
        try {
            graft.ir.ShapeInference.run(probe);
        } catch (graft.error.InvalidGraphException e) {
            throw new UsageException("model '" + g.name() + "': input " + String.join(", ", fed) + (how == null ? "" : " (" + how + ")")
                    + " does not fit its layers: " + e.problems().get(0)
                    + ". The model fixes its input size further on; give a size its layers take");
        }
    }

    /**
     * The first model's feeds re-keyed and re-laid-out for the second: matched by input name,
     * else by position; a tensor whose shape is the second input's under NCHW<->NHWC is permuted.
     */
    public static Map<String, Tensor> carryOver(Map<String, Tensor> feeds, Graph to) {
        return carryOver(feeds, null, to);
    }

    /**
     * As {@link #carryOver(Map, Graph)}, knowing the first model: when one model's image input is
     * channels-last and the other's is not ({@link graft.data.InputLayout#channelsLast}: a Keras
     * model and the Caffe file graft wrote from it), the tensor is permuted by that knowledge, not
     * by its shape, which cannot tell NHWC from NCHW when H, W and C are equal (5x5x5).
     */
    public static Map<String, Tensor> carryOver(Map<String, Tensor> feeds, Graph from, Graph to) {
        List<String> names = List.copyOf(feeds.keySet());
        List<Value> ins = inputs(to);
        if (ins.size() != names.size()) {
            throw new UsageException("model '" + to.name() + "': has " + ins.size() + " inputs, the first model has "
                    + names.size() + ". Compare models with the same inputs");
        }
        Map<String, Tensor> r = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            Value v = ins.get(i);
            Tensor t = feeds.containsKey(v.name()) ? feeds.get(v.name()) : feeds.get(names.get(i));
            TensorType tt = to.type(v.name()) != null ? to.type(v.name()) : v.type();
            if (from != null && names.size() == 1 && t.shape().length == 4) {
                boolean a = graft.data.InputLayout.channelsLast(from);
                boolean b = graft.data.InputLayout.channelsLast(to);
                long[] s = t.shape();
                if (a && !b && tt != null && tt.shape() != null && matches(new long[] {s[0], s[3], s[1], s[2]}, tt)) {
                    r.put(v.name(), permuted(t, new int[] {0, 3, 1, 2}));
                    continue;
                }
                if (!a && b && tt != null && tt.shape() != null && matches(new long[] {s[0], s[2], s[3], s[1]}, tt)) {
                    r.put(v.name(), permuted(t, new int[] {0, 2, 3, 1}));
                    continue;
                }
            }
            r.put(v.name(), fit(t, tt, v.name()));
        }
        return r;
    }

    private static Tensor fit(Tensor t, TensorType want, String name) {
        if (want == null || want.shape() == null || matches(t.shape(), want)) {
            return t;
        }
        long[] s = t.shape();
        if (s.length == 4) {
            long[] nhwc = {s[0], s[2], s[3], s[1]};
            long[] nchw = {s[0], s[3], s[1], s[2]};
            if (matches(nhwc, want)) {
                return permuted(t, new int[]{0, 2, 3, 1});
            }
            if (matches(nchw, want)) {
                return permuted(t, new int[]{0, 3, 1, 2});
            }
        }
        throw new UsageException("input '" + name + "': the first model's input " + Arrays.toString(s) + " does not fit "
                + want + ", even with NCHW<->NHWC. Feed each model with matching --input files");
    }

    private static boolean matches(long[] s, TensorType want) {
        List<Dim> d = want.shape().dims();
        if (d.size() != s.length) {
            return false;
        }
        for (int i = 0; i < s.length; i++) {
            if (d.get(i).isFixed() && d.get(i).value() != s[i]) {
                return false;
            }
        }
        return true;
    }

    static Tensor permuted(Tensor t, int[] perm) {
        float[] v = Layouts.permute(t.toFloats(), t.shape(), perm);
        if (t.dtype() == DataType.FLOAT) {
            return Tensor.ofFloats(Layouts.permuted(t.shape(), perm), v);
        }
        throw new UsageException("input of type " + t.dtype().lowerName() + ": only float32 inputs are re-laid-out between models");
    }
}
