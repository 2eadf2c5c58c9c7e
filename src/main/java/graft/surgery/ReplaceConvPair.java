package graft.surgery;

import graft.ir.Op;
import graft.io.Npy;
import graft.ir.Attr;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Weight;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ListIterator;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code replace-conv-pair A B --kernel 5 --init random|compose|fit [--calibration DIR|N] [--seed S]}:
 * two stacked convolutions (VGG's block1_conv1, block1_conv2) become one with kernel
 * kA + kB - 1 and B's filters and activation, named A. {@code random}: He-initialised.
 * {@code compose}: the exact composition of the two kernels (exact when nothing non-linear sits
 * between them, away from padded borders; a starting point otherwise). {@code fit}: least
 * squares against B's pre-activation output on calibration inputs fed to A ({@code N} seeded
 * uniform [-1, 1) batches of 64x64 at most, or every {@code .npy} in DIR holding (N, C, H, W)
 * inputs of A), normal equations solved in double.
 */
public record ReplaceConvPair(String first, String second, int kernel, String mode, String calibration, long seed) implements Edit {
    /** The edit with a layer given by its 'graft inspect' number replaced by its name. */
    @Override
    public Edit resolved(Graph g) {
        return new ReplaceConvPair(Layers.resolve(g, describe(), first), Layers.resolve(g, describe(), second), kernel, mode, calibration, seed);
    }

    @Override
    public String describe() {
        return "replace-conv-pair " + first + " " + second + " --kernel " + kernel + " --init " + mode
                + (calibration == null ? "" : " --calibration " + calibration) + (seed == 0 ? "" : " --seed " + seed);
    }

    private record Pair(Node a, Node b, List<Node> aRest, List<Node> bRest) {
    }

    @Override
    public void check(Graph g) {
        pair(g);
        if (!List.of("random", "compose", "fit").contains(mode)) {
            throw new EditException(describe(), "--init '" + mode + "' is none of random, compose, fit");
        }
        if (calibration != null && !calibration.matches("\\d+") && !Files.isDirectory(Path.of(calibration))) {
            throw new EditException(describe(), "--calibration '" + calibration + "' is neither a count nor a folder");
        }
    }

    private Pair pair(Graph g) {
        Layers.require(g, describe(), first);
        Layers.require(g, describe(), second);
        Node a = conv(g, first);
        Node b = conv(g, second);
        List<Node> aRest = rest(g, first, a);
        List<Node> bRest = rest(g, second, b);
        // Activation layers of their own between the two (Caffe's relu1_1, a torch export's Relu)
        // belong to the pair: they are what makes compose inexact, and fit simulates them.
        String aOut = Layers.output(g, first);
        List<Node> between = new ArrayList<>();
        for (String v = b.input(0); !v.equals(aOut);) {
            Node p = g.producer(v);
            if (p == null || !ACTIVATIONS.contains(p.opType()) || Layers.nodes(g, p.layer()).size() != 1
                    || p.layer().equals(first) || p.layer().equals(second)) {
                throw new EditException(describe(), "layer '" + second + "' does not read the output of '" + first + "'"
                        + " (only activation layers may sit between them)");
            }
            between.add(0, p);
            v = p.input(0);
        }
        aRest.addAll(between);
        for (String v : readOnce(aOut, between)) {
            if (g.consumers(v).size() != 1 || g.outputs().stream().anyMatch(o -> o.name().equals(v))) {
                String at = g.producer(v).layer();
                throw new EditException(describe(), "layer '" + at + "' starts a branch: its output is read by "
                        + String.join(", ", Layers.readers(g, at)) + "; one convolution in place of the pair would cut the others off");
            }
        }
        long ka = kernelSize(g, a);
        long kb = kernelSize(g, b);
        if (ka + kb - 1 != kernel) {
            throw new EditException(describe(), "a " + ka + "x" + ka + " and a " + kb + "x" + kb + " convolution make a "
                    + (ka + kb - 1) + "x" + (ka + kb - 1) + ", not --kernel " + kernel);
        }
        return new Pair(a, b, aRest, bRest);
    }

    private Node conv(Graph g, String layer) {
        List<Node> ns = Layers.nodes(g, layer);
        Node c = ns.get(0);
        if (c.op() != Op.CONV || g.initializer(c.input(1)) == null) {
            throw new EditException(describe(), "layer '" + layer + "' is not a convolution with weights (it is " + c.opType() + ")");
        }
        for (String attr : List.of("strides", "dilations")) {
            for (long v : c.intsAttr(attr, new long[] {1, 1})) {
                if (v != 1) {
                    throw new EditException(describe(), "layer '" + layer + "' has " + attr + " " + v + "; only 1 composes");
                }
            }
        }
        if (c.intAttr("group") != 1 || !c.stringAttr("auto_pad").equals("NOTSET")) {
            throw new EditException(describe(), "layer '" + layer + "' is grouped or auto-padded; only plain convolutions compose");
        }
        long[] p = c.intsAttr("pads", new long[] {0, 0, 0, 0});
        if (p.length != 4 || p[0] != p[1] || p[0] != p[2] || p[0] != p[3]) {
            throw new EditException(describe(), "layer '" + layer + "' pads unevenly; only symmetric padding composes");
        }
        long[] s = g.initializer(c.input(1)).shape();
        if (s.length != 4 || s[2] != s[3]) {
            throw new EditException(describe(), "layer '" + layer + "' has a non-square kernel");
        }
        return c;
    }

    private static final List<String> ACTIVATIONS = List.of("Relu", "Sigmoid", "Tanh");

    /** The values between the two convolutions, each of which must have exactly one reader. */
    private static List<String> readOnce(String aOut, List<Node> between) {
        List<String> r = new ArrayList<>(List.of(aOut));
        between.forEach(n -> r.add(n.output(0)));
        return r;
    }

    private List<Node> rest(Graph g, String layer, Node conv) {
        List<Node> r = new ArrayList<>(Layers.nodes(g, layer));
        r.remove(conv);
        for (Node n : r) {
            if (!ACTIVATIONS.contains(n.opType())) {
                throw new EditException(describe(), "layer '" + layer + "' holds " + n.opType() + " after its convolution; only an activation may follow");
            }
        }
        return r;
    }

    private static long kernelSize(Graph g, Node c) {
        return g.initializer(c.input(1)).shape()[2];
    }

    private static int pad(Node c) {
        return (int) c.intsAttr("pads", new long[] {0, 0, 0, 0})[0];
    }

    static ConvMath.Kernel kernel(Graph g, Node c) {
        Weight w = g.initializer(c.input(1));
        long[] s = w.shape();
        float[] wf = w.toFloats();
        double[] wd = new double[wf.length];
        for (int i = 0; i < wf.length; i++) {
            wd[i] = wf[i];
        }
        double[] b = new double[(int) s[0]];
        Weight bw = c.inputs().size() > 2 ? g.initializer(c.input(2)) : null;
        if (bw != null) {
            float[] bf = bw.toFloats();
            for (int i = 0; i < b.length; i++) {
                b[i] = bf[i];
            }
        }
        return new ConvMath.Kernel((int) s[0], (int) s[1], (int) s[2], wd, b);
    }

    @Override
    public void rewire(Graph g) {
        Pair p = pair(g);
        ConvMath.Kernel ka = kernel(g, p.a);
        ConvMath.Kernel kb = kernel(g, p.b);
        ConvMath.Kernel made = switch (mode) {
            case "compose" -> ConvMath.compose(ka, kb);
            case "fit" -> fit(g, p, ka, kb);
            default -> null;
        };
        String wName = p.a.input(1);
        String bName = p.a.inputs().size() > 2 && !p.a.input(2).isEmpty() ? p.a.input(2) : Layers.fresh(g, first + "_b");
        long[] shape = {kb.out(), ka.in(), kernel, kernel};
        Weight w;
        Weight b;
        if (made == null) {
            w = Init.HE.make(wName, shape, Init.seed(seed, wName));
            b = Init.ZEROS.make(bName, new long[] {kb.out()}, 0);
        } else {
            w = Weight.ofFloats(wName, shape, toFloats(made.w()));
            b = Weight.ofFloats(bName, new long[] {kb.out()}, toFloats(made.b()));
        }
        int padding = pad(p.a) + pad(p.b);
        // the first convolution's own node name: the layer's other nodes keep theirs (a Keras import names its ReLU after the layer)
        Node conv = p.b.withName(p.a.name(), first).withInputs(List.of(p.a.input(0), wName, bName))
                .withAttr("kernel_shape", Attr.ints(kernel, kernel)).withAttr("pads", Attr.ints(padding, padding, padding, padding));
        g.nodes().removeAll(p.aRest);
        g.nodes().remove(p.a);
        for (ListIterator<Node> it = g.nodes().listIterator(); it.hasNext();) {
            Node n = it.next();
            if (n == p.b) {
                it.set(conv);
            } else if (p.bRest.contains(n)) {
                String name = n.name().startsWith(second) ? first + n.name().substring(second.length()) : n.name();
                it.set(n.withName(name, first));
            }
        }
        g.addInitializer(w);
        g.addInitializer(b);
        g.training().remove(first);
        g.training().remove(second);
    }

    private ConvMath.Kernel fit(Graph g, Pair p, ConvMath.Kernel ka, ConvMath.Kernel kb) {
        List<double[]> batches = new ArrayList<>();
        List<int[]> dims = new ArrayList<>();
        calibrationInputs(g, p.a.input(0), ka.in(), batches, dims);
        int pa = pad(p.a);
        int pb = pad(p.b);
        // One least-squares problem over all batches: concatenated along N (they share H and W).
        List<double[]> xs = new ArrayList<>();
        List<double[]> ys = new ArrayList<>();
        for (int i = 0; i < batches.size(); i++) {
            int[] d = dims.get(i);
            double[] x = batches.get(i);
            double[] mid = ConvMath.conv(x, d[0], d[2], d[3], ka, pa);
            for (Node n : p.aRest) {
                activate(n.op(), mid);
            }
            int mh = d[2] + 2 * pa - ka.k() + 1;
            int mw = d[3] + 2 * pa - ka.k() + 1;
            xs.add(x);
            ys.add(ConvMath.conv(mid, d[0], mh, mw, kb, pb));
        }
        int[] d = dims.get(0);
        double[] x = concat(xs);
        double[] y = concat(ys);
        int n = x.length / (d[1] * d[2] * d[3]);
        try {
            return ConvMath.fit(x, n, d[1], d[2], d[3], y, kb.out(), kernel, pa + pb);
        } catch (ArithmeticException e) {
            throw new EditException(describe(), e.getMessage() + "; give more calibration inputs");
        }
    }

    private static double[] concat(List<double[]> parts) {
        int total = parts.stream().mapToInt(a -> a.length).sum();
        double[] r = new double[total];
        int at = 0;
        for (double[] a : parts) {
            System.arraycopy(a, 0, r, at, a.length);
            at += a.length;
        }
        return r;
    }

    private static void activate(Op op, double[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (op) {
                case RELU -> Math.max(0, v[i]);
                case SIGMOID -> 1 / (1 + Math.exp(-v[i]));
                default -> Math.tanh(v[i]);
            };
        }
    }

    private void calibrationInputs(Graph g, String input, int channels, List<double[]> out, List<int[]> dims) {
        if (calibration != null && !calibration.matches("\\d+")) {
            List<Path> files;
            try (var s = Files.list(Path.of(calibration))) {
                files = s.filter(f -> f.toString().toLowerCase(Locale.ROOT).endsWith(".npy")).sorted().toList();
            } catch (java.io.IOException e) {
                throw new EditException(describe(), "cannot list '" + calibration + "': " + e.getMessage());
            }
            int[] first = null;
            for (Path f : files) {
                Npy.Array a = Npy.read(f);
                long[] s = a.shape().length == 3 ? new long[] {1, a.shape()[0], a.shape()[1], a.shape()[2]} : a.shape();
                if (s.length != 4 || s[1] != channels || first != null && (s[2] != first[2] || s[3] != first[3])) {
                    throw new EditException(describe(), "calibration file '" + f.getFileName() + "' has shape "
                            + java.util.Arrays.toString(a.shape()) + "; expected (N, " + channels + ", H, W) with one H and W for all");
                }
                int[] d = {(int) s[0], (int) s[1], (int) s[2], (int) s[3]};
                first = first == null ? d : first;
                float[] v = a.toFloats();
                double[] x = new double[v.length];
                for (int i = 0; i < v.length; i++) {
                    x[i] = v[i];
                }
                out.add(x);
                dims.add(d);
            }
            if (out.isEmpty()) {
                throw new EditException(describe(), "calibration folder '" + calibration + "' holds no .npy file");
            }
            return;
        }
        int count = calibration == null ? 4 : Integer.parseInt(calibration);
        TensorType t = g.type(input);
        Shape s = t == null ? null : t.shape();
        int h = s != null && s.rank() == 4 && s.dim(2).isFixed() ? (int) Math.min(64, s.dim(2).value()) : 32;
        int w = s != null && s.rank() == 4 && s.dim(3).isFixed() ? (int) Math.min(64, s.dim(3).value()) : 32;
        SplittableRandom r = new SplittableRandom(seed ^ 0x5EEDL);
        double[] x = new double[count * channels * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextDouble(-1, 1);
        }
        out.add(x);
        dims.add(new int[] {count, channels, h, w});
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
