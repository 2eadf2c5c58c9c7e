package graft.validate;

import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Tensor;
import graft.ir.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs two engines on the same inputs and compares them: every output, and with
 * {@link #perLayer} every layer the two graphs share by name, in the reference's network
 * order, naming the first beyond tolerance. The first engine is the reference that relative
 * errors are measured against; the second is the candidate.
 */
public final class Validation {
    private Validation() {
    }

    /** Everything a report shows. {@code layers} is empty unless per-layer was asked for. */
    public record Result(String reference, String candidate, Compare.Tolerance tolerance, List<Metrics> outputs, List<Metrics> layers,
                         List<String> unmatchedLayers, String firstDivergingLayer, List<String> editedLayers) {
        public boolean passed() {
            return outputs.stream().allMatch(Metrics::within) && layers.stream().allMatch(Metrics::within);
        }
    }

    public static Result outputs(Engine ref, Map<String, Tensor> refFeeds, Engine cand, Map<String, Tensor> candFeeds,
                                 Compare.Tolerance tol) {
        return outputs(ref, refFeeds, cand, candFeeds, tol, null).result();
    }

    /** An outputs comparison and, with labels, both models' accuracy on them from the same runs. */
    public record Scored(Result result, Accuracy accuracy) {
    }

    /** As {@link #outputs(Engine, Map, Engine, Map, Compare.Tolerance)}, scoring both outputs against {@code labels} when given (else accuracy null). */
    public static Scored outputs(Engine ref, Map<String, Tensor> refFeeds, Engine cand, Map<String, Tensor> candFeeds,
                                 Compare.Tolerance tol, Labels labels) {
        Map<String, Tensor> a = ref.run(refFeeds);
        Map<String, Tensor> b = cand.run(candFeeds);
        Result r = new Result(label(ref), label(cand), tol, compareOutputs(a, b, tol), List.of(), List.of(), null, List.of());
        return new Scored(r, labels == null ? null : accuracy(a, b, labels.ids(), labels.file().toString()));
    }

    /** Samples {@code from} (inclusive) to {@code to} (exclusive) of a source too large to feed at once, as one model's feeds. */
    @FunctionalInterface
    public interface Batches {
        Map<String, Tensor> feeds(int from, int to);
    }

    /**
     * As {@link #outputs(Engine, Map, Engine, Map, Compare.Tolerance, Labels)} over {@code samples}
     * samples fed {@code batch} at a time (one session per engine), so that only the outputs are
     * held, never the whole input: the outputs of the runs, joined along the batch axis, are
     * compared and scored as one run's would be. {@code done} hears the samples done so far.
     */
    public static Scored outputs(Engine ref, Batches refFeeds, Engine cand, Batches candFeeds, int samples, int batch,
                                 Compare.Tolerance tol, Labels labels, java.util.function.IntConsumer done) {
        Joined a = new Joined();
        Joined b = new Joined();
        try (Engine.Session rs = ref.open(); Engine.Session cs = cand.open()) {
            for (int from = 0; from < samples; from += batch) {
                int to = Math.min(samples, from + batch);
                a.add(rs.run(refFeeds.feeds(from, to)), to - from);
                b.add(cs.run(candFeeds.feeds(from, to)), to - from);
                done.accept(to);
            }
        }
        Map<String, Tensor> ta = a.tensors();
        Map<String, Tensor> tb = b.tensors();
        Result r = new Result(label(ref), label(cand), tol, compareOutputs(ta, tb, tol), List.of(), List.of(), null, List.of());
        return new Scored(r, labels == null ? null : accuracy(ta, tb, labels.ids(), labels.file().toString()));
    }

    /**
     * {@link #outputs(Engine, Batches, Engine, Batches, int, int, Compare.Tolerance, Labels, java.util.function.IntConsumer)}
     * over the images of two folders ({@link Images#folder}, {@link Images#batch}): each model's first batch is checked
     * against its input ({@link Feeds#checkFits}) as it is made, so no batch is decoded twice.
     */
    public static Scored overImages(Engine ref, Images.Folder refImages, Engine cand, Images.Folder candImages, int batch,
                                    Compare.Tolerance tol, Labels labels, java.util.function.IntConsumer done) {
        return outputs(ref, fitted(ref, refImages), cand, fitted(cand, candImages), refImages.size(), batch, tol, labels, done);
    }

    private static Batches fitted(Engine e, Images.Folder images) {
        return (from, to) -> {
            Map<String, Tensor> f = images.feeds(from, to);
            if (from == 0) {
                Feeds.checkFits(e.graph(), f, "--images " + images.dir());
            }
            return f;
        };
    }

    /**
     * The outputs of several runs, joined along the batch axis (one run's are returned as they are), each part copied
     * once at the end: one machine's {@code validate --images} and each Spark partition of {@code validate --spark}.
     */
    public static final class Joined {
        private final Map<String, List<Tensor>> parts = new LinkedHashMap<>();

        /** One run's outputs over {@code n} samples; refused in one line when an output does not grow with the batch. */
        public void add(Map<String, Tensor> outputs, int n) {
            outputs.forEach((name, t) -> {
                long[] s = t.shape();
                if (s.length == 0 || s[0] != n) {
                    throw new graft.error.UsageException("output '" + name + "' has shape " + java.util.Arrays.toString(s) + " for a batch of " + n
                            + " samples: it does not grow with the batch, so runs over batches cannot be joined. Compare at most " + n
                            + " samples (or an --input) at once");
                }
                parts.computeIfAbsent(name, k -> new ArrayList<>()).add(t);
            });
        }

        /** Every output so far, joined. */
        public Map<String, Tensor> tensors() {
            Map<String, Tensor> r = new LinkedHashMap<>();
            parts.forEach((name, list) -> {
                if (list.size() == 1) {
                    r.put(name, list.get(0));
                    return;
                }
                long[] shape = list.get(0).shape().clone();
                long rows = 0;
                long total = 0;
                for (Tensor t : list) {
                    rows += t.shape()[0];
                    total += t.count();
                }
                shape[0] = rows;
                float[] all = new float[Math.toIntExact(total)];
                int at = 0;
                for (Tensor t : list) {
                    float[] v = t.toFloats();
                    System.arraycopy(v, 0, all, at, v.length);
                    at += v.length;
                }
                r.put(name, Tensor.ofFloats(shape, all));
            });
            return r;
        }
    }

    /** Class ids of the fed samples ({@code validate --labels}) and the file they came from. */
    public record Labels(java.nio.file.Path file, long[] ids) {
        /** Integer class ids from an .npy of shape (N) or (N, 1); anything else refused in one line (exit 2). */
        public static Labels read(java.nio.file.Path file) {
            graft.io.Npy.Array y = graft.io.Npy.read(file);
            if (y.dtype().isFloating() || y.dtype() == graft.ir.DataType.BOOL || y.dtype().size() <= 0 || y.shape().length == 0
                    || y.shape().length > 2 || y.shape().length == 2 && y.shape()[1] != 1) {
                throw new graft.error.UsageException("--labels " + file + ": " + y.dtype().lowerName() + " " + java.util.Arrays.toString(y.shape())
                        + "; give integer class ids of shape (N)");
            }
            return new Labels(file, graft.ir.Elements.toLongs(y.dtype(), y.data(), Math.toIntExact(y.shape()[0])));
        }
    }

    /**
     * The report of an outputs-only comparison of ONNX Runtime on {@code ref} and on {@code cand}
     * whose metrics were computed elsewhere (a distributed validation), labelled as {@link #outputs} labels it.
     */
    public static Result onnxRuntimeOutputs(Graph ref, Graph cand, Compare.Tolerance tol, List<Metrics> outputs) {
        return new Result(label(Engine.onnxRuntime(ref)), label(Engine.onnxRuntime(cand)), tol, outputs, List.of(), List.of(), null, List.of());
    }

    static String label(Engine e) {
        String src = e.graph().metadata().getOrDefault("graft.source", e.graph().name());
        return src + " (" + e.describe() + ")";
    }

    /**
     * Top-1 accuracy of both models on labelled samples ({@code validate --labels}): the argmax of
     * each row of the first reference output shaped (N, K) with N = the number of labels, and of
     * the candidate's output of the same name (else position).
     */
    public record Accuracy(String output, long samples, long referenceCorrect, long candidateCorrect) {
        public double reference() {
            return referenceCorrect / (double) samples;
        }

        public double candidate() {
            return candidateCorrect / (double) samples;
        }
    }

    public static Accuracy accuracy(Map<String, Tensor> ref, Map<String, Tensor> cand, long[] labels, String labelsFile) {
        List<String> names = new ArrayList<>(ref.keySet());
        List<String> candNames = new ArrayList<>(cand.keySet());
        for (int i = 0; i < names.size(); i++) {
            Tensor a = ref.get(names.get(i));
            long[] s = a.shape();
            if (s.length != 2 || s[0] != labels.length) {
                continue;
            }
            Tensor b = cand.containsKey(names.get(i)) ? cand.get(names.get(i)) : i < candNames.size() ? cand.get(candNames.get(i)) : null;
            if (b == null || !java.util.Arrays.equals(b.shape(), s)) {
                throw new graft.error.UsageException("--labels " + labelsFile + ": the candidate has no output shaped like '" + names.get(i) + "' "
                        + java.util.Arrays.toString(s));
            }
            int k = (int) s[1];
            float[] fa = a.toFloats();
            float[] fb = b.toFloats();
            long ca = 0;
            long cb = 0;
            for (int r = 0; r < labels.length; r++) {
                if (labels[r] < 0 || labels[r] >= k) {
                    throw new graft.error.UsageException("--labels " + labelsFile + ": label " + labels[r] + " of sample " + r
                            + " is not a class of output '" + names.get(i) + "' (0.." + (k - 1) + ")");
                }
                ca += argmax(fa, r * k, k) == labels[r] ? 1 : 0;
                cb += argmax(fb, r * k, k) == labels[r] ? 1 : 0;
            }
            return new Accuracy(names.get(i), labels.length, ca, cb);
        }
        throw new graft.error.UsageException("--labels " + labelsFile + ": " + labels.length + " labels, but no output is shaped ("
                + labels.length + ", classes). Feed as many samples as there are labels");
    }

    private static int argmax(float[] x, int from, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) {
            if (x[from + j] > x[from + best]) {
                best = j;
            }
        }
        return best;
    }

    /** Output by output: matched by name when the candidate has every reference name, else by position. */
    public static List<Metrics> compareOutputs(Map<String, Tensor> ref, Map<String, Tensor> cand, Compare.Tolerance tol) {
        List<Metrics> r = new ArrayList<>();
        List<String> refNames = new ArrayList<>(ref.keySet());
        List<String> candNames = new ArrayList<>(cand.keySet());
        boolean byName = cand.keySet().containsAll(ref.keySet());
        for (int i = 0; i < refNames.size(); i++) {
            String name = refNames.get(i);
            Tensor c = byName ? cand.get(name) : i < candNames.size() ? cand.get(candNames.get(i)) : null;
            if (c == null) {
                r.add(Metrics.incomparable(name, new long[0], ref.get(name).shape(), "the candidate has no output " + i));
                continue;
            }
            String label = byName || candNames.get(i).equals(name) ? name : name + " ~ " + candNames.get(i);
            r.add(Compare.of(label, c, ref.get(name), tol));
        }
        return r;
    }

    /** One layer's comparison point: the layer's last node's first output. */
    record Point(String layer, String value, int node) {
    }

    /** Layers with a floating activation, in network order (of their last node), each with its activation's name. */
    static LinkedHashMap<String, Point> points(Graph g) {
        LinkedHashMap<String, Point> last = new LinkedHashMap<>();
        List<Node> nodes = g.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (n.outputs().isEmpty() || n.output(0).isEmpty()) {
                continue;
            }
            TensorType t = g.type(n.output(0));
            if (t != null && !t.dtype().isFloating()) {
                continue; // shape plumbing (Shape, Gather on int64...) is not a layer a user compares
            }
            last.remove(n.layer());
            last.put(n.layer(), new Point(n.layer(), n.output(0), i));
        }
        List<Point> sorted = new ArrayList<>(last.values());
        sorted.sort(java.util.Comparator.comparingInt(Point::node));
        LinkedHashMap<String, Point> r = new LinkedHashMap<>();
        for (Point p : sorted) {
            r.put(p.layer(), p);
        }
        return r;
    }

    /**
     * Walks both graphs layer by layer (each through its engine's {@link Engine.Stepper}, so only
     * live activations are held), compares every layer present in both by name, then the outputs.
     */
    public static Result perLayer(Engine ref, Map<String, Tensor> refFeeds, Engine cand, Map<String, Tensor> candFeeds,
                                  Compare.Tolerance tol) {
        LinkedHashMap<String, Point> pa = points(ref.graph());
        LinkedHashMap<String, Point> pb = points(cand.graph());
        java.util.Set<String> edited = editedLayers(ref.graph(), cand.graph());
        List<Point> matched = new ArrayList<>();
        List<String> unmatched = new ArrayList<>();
        List<String> editedShown = new ArrayList<>();
        for (Point p : pa.values()) {
            if (pb.containsKey(p.layer()) && edited.contains(p.layer())) {
                editedShown.add(p.layer());
            } else if (pb.containsKey(p.layer())) {
                matched.add(p);
            } else {
                unmatched.add(p.layer());
            }
        }
        for (String l : pb.keySet()) {
            if (!pa.containsKey(l)) {
                unmatched.add(l);
            }
        }
        List<Metrics> layers = new ArrayList<>();
        String first = null;
        try (Engine.Stepper sa = ref.stepper(refFeeds, matched.stream().map(Point::value).toList());
             Engine.Stepper sb = cand.stepper(candFeeds, matched.stream().map(p -> pb.get(p.layer()).value()).toList())) {
            long[] prevShape = null;
            String hint = null;
            List<Point> inOrder = new ArrayList<>(matched);
            for (String l : editedShown) {
                inOrder.add(pa.get(l));
            }
            inOrder.sort(java.util.Comparator.comparingInt(Point::node));
            for (Point p : inOrder) {
                if (edited.contains(p.layer())) {
                    // same name, new layer: comparing it with the old one measures the edit, not a fault
                    layers.add(Metrics.notCompared(p.layer(), EDITED));
                    continue;
                }
                Tensor a = sa.take(p.value());
                Tensor b = sb.take(pb.get(p.layer()).value());
                Metrics m = Compare.of(p.layer(), b, a, tol, hint);
                m = flattenOrder(m, p.layer(), a, b, prevShape, tol, true).withoutTopK();
                layers.add(m);
                if (first == null && !m.within()) {
                    first = p.layer();
                }
                if (a.shape().length == 4) {
                    prevShape = m.layout().startsWith("NHWC") ? b.shape() : null;
                    hint = m.layout();
                }
            }
            List<Metrics> outs = compareOutputs(sa.finish(), sb.finish(), tol);
            return new Result(label(ref), label(cand), tol, outs, layers, unmatched, first, editedShown);
        }
    }

    /** Per-layer rows against activations computed elsewhere (an oracle): see {@link #layersAgainst}. */
    public record Layers(List<Metrics> layers, List<String> unmatched, String firstDiverging) {
    }

    /**
     * Compares the candidate's layers with activations an independent implementation computed
     * ({@code ref}: layer name to activation), in the candidate's network order, every layer
     * present in both by name; the first beyond tolerance is named. Layouts are reconciled as in
     * {@link #perLayer} (an oracle may hold NHWC where graft holds NCHW).
     */
    public static Layers layersAgainst(Map<String, Tensor> ref, Engine cand, Map<String, Tensor> candFeeds, Compare.Tolerance tol) {
        LinkedHashMap<String, Point> pb = points(cand.graph());
        List<Point> matched = new ArrayList<>();
        List<String> unmatched = new ArrayList<>();
        for (Point p : pb.values()) {
            if (ref.containsKey(p.layer())) {
                matched.add(p);
            }
        }
        for (String l : ref.keySet()) {
            if (!pb.containsKey(l)) {
                unmatched.add(l);
            }
        }
        List<Metrics> layers = new ArrayList<>();
        String first = null;
        try (Engine.Stepper sb = cand.stepper(candFeeds, matched.stream().map(Point::value).toList())) {
            long[] prevShape = null;
            String hint = null;
            for (Point p : matched) {
                Tensor a = ref.get(p.layer());
                Tensor b = sb.take(p.value());
                Metrics m;
                if (a.count() != b.count() || a.shape().length != b.shape().length) {
                    // Another cut of the layer: DL4J's Keras Flatten is a preprocessor whose activation is in DL4J's own
                    // internal order, not Keras's. Not a fault, not compared; the next layer that consumes it is.
                    m = Metrics.notCompared(p.layer(), "not compared: the oracle holds it as " + java.util.Arrays.toString(a.shape())
                            + ", graft as " + java.util.Arrays.toString(b.shape()));
                } else {
                    m = Compare.of(p.layer(), b, a, tol, hint);
                    m = flattenOrder(m, p.layer(), a, b, prevShape, tol, false).withoutTopK();
                }
                layers.add(m);
                if (first == null && !m.within()) {
                    first = p.layer();
                }
                if (a.shape().length == 4 && m.layout() != null) {
                    prevShape = m.layout().equals("NCHW->NHWC") ? b.shape() : null;
                    hint = m.layout();
                }
            }
            sb.finish();
        }
        return new Layers(layers, unmatched, first);
    }

    /** What the report says of a layer an edit replaced or re-initialised. */
    public static final String EDITED = "changed by edit, not compared";

    /**
     * Layers the candidate's edits (its {@code graft.edits} metadata, beyond the reference's own)
     * replaced or re-initialised: they keep a name the reference has but are new layers. A
     * {@code replace-conv-pair A B} leaves one layer named A that computes what B did.
     */
    static java.util.Set<String> editedLayers(Graph ref, Graph cand) {
        List<String> a = lines(ref.metadata().get("graft.edits"));
        List<String> b = lines(cand.metadata().get("graft.edits"));
        int common = 0;
        while (common < a.size() && common < b.size() && a.get(common).equals(b.get(common))) {
            common++;
        }
        java.util.Set<String> r = new java.util.LinkedHashSet<>();
        for (String line : b.subList(common, b.size())) {
            r.addAll(editedBy(line));
        }
        return r;
    }

    private static List<String> lines(String s) {
        return s == null || s.isBlank() ? List.of() : List.of(s.split("\n"));
    }

    /** The layer names one edit line ({@code Edit.describe()}'s grammar) gives new weights. */
    static List<String> editedBy(String line) {
        String[] w = line.trim().split("\\s+");
        if (w.length < 2) {
            return List.of();
        }
        return switch (w[0]) {
            case "reinit", "replace" -> List.of(w[1]);
            case "replace-conv-pair" -> w.length > 2 ? List.of(w[1], w[2]) : List.of(w[1]);
            case "rename" -> line.contains("--keep-weights") || w.length < 3 ? List.of() : List.of(w[2]);
            default -> List.of();
        };
    }

    /**
     * A Flatten of an NHWC activation lists H, W, C where the NCHW one lists C, H, W: the same
     * numbers in another order. When a rank-2 layer right after a 4-D one fails as it is, it is
     * compared again with the candidate's values in the other order and the better reading kept.
     * {@code candChannelsLast}: the 4-D candidate layer was NHWC (a Keras model read by graft,
     * compared in C, H, W order); else NCHW (graft's flatten against a channels-last oracle such
     * as DL4J, compared in H, W, C order).
     */
    private static Metrics flattenOrder(Metrics m, String layer, Tensor ref, Tensor cand, long[] prevCandShape, Compare.Tolerance tol,
            boolean candChannelsLast) {
        if (m.within() || prevCandShape == null || cand.shape().length != 2 || ref.shape().length != 2) {
            return m;
        }
        long h = prevCandShape[candChannelsLast ? 1 : 2];
        long w = prevCandShape[candChannelsLast ? 2 : 3];
        long c = prevCandShape[candChannelsLast ? 3 : 1];
        if (cand.shape()[1] != h * w * c || h * w == 1) {
            return m;
        }
        long n = cand.shape()[0];
        float[] v = candChannelsLast ? Layouts.permute(cand.toFloats(), new long[]{n, h, w, c}, new int[]{0, 3, 1, 2})
                : Layouts.permute(cand.toFloats(), new long[]{n, c, h, w}, new int[]{0, 2, 3, 1});
        Metrics again = Compare.of(layer, v, ref.toFloats(), cand.shape(), ref.shape(), candChannelsLast ? "HWC->CHW" : "CHW->HWC", tol);
        return again.within() ? again : m;
    }
}
