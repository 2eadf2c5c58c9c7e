package graft.train;

import graft.ir.Op;
import graft.ir.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * Winograd convolution (Lavin and Gray) for the wide 3x3, stride-1, pad-1 layers of VGG-style
 * networks, written with standard ONNX ops: the padded input is cut into overlapping
 * (m+2)x(m+2) tiles at stride m, each tile transformed (B^T d B), multiplied channel-wise with
 * the transformed kernel (G g G^T) as (m+2)^2 batched matrix products, and transformed back
 * (A^T p A) into m x m output blocks. F(4x4, 3x3) (the default) needs 36/144 of a direct
 * convolution's multiplies per output, F(2x2, 3x3) ({@code GRAFT_WINOGRAD=2}) 16/36;
 * {@code GRAFT_WINOGRAD=0} keeps the direct convolutions.
 *
 * <p>The same transforms give the weight gradient (the transposition principle: F(3x3, m x m)
 * uses the same data transform B, A as its filter transform and G^T as its output transform),
 * so the forward pass's transformed input is reused there, and the input gradient is another
 * F(m x m, 3x3) convolution of dY whose kernel transform absorbs the flip. Only used where the
 * matrix products dominate (both channel counts at least {@link #MIN_CHANNELS}): for narrow
 * layers the transforms cost more than they save. Stateless apart from the emitter.
 */
final class Winograd {
    /**
     * Narrowest layer (input and output channels) that goes through Winograd. Measured per
     * training step of two such convs + pool + dense at batch 8 against the direct graph:
     * 512 channels at 14x14 1.9x faster, 256 at 28x28 1.7x, 128 at 56x56 2.3x, 64 at 112x112
     * 1.4x, 32 at 56x56 1.07x (inside the noise), so 64 it is.
     */
    static final long MIN_CHANNELS = 64;

    /** Suffix of the forward pass's transformed input, looked up by the weight gradient. */
    private static final String TILES = "__winograd_tiles";

    private static final double[][] BT2 = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    private static final double[][] G2 = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    private static final double[][] AT2 = {{1, 1, 1, 0}, {0, 1, -1, -1}};
    private static final double[][] BT4 = {{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
        {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
    private static final double[][] G4 = {{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    private static final double[][] AT4 = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

    private final Emitter e;
    /** Output block size m of F(m x m, 3x3); tiles are (m + 2) x (m + 2) at stride m. */
    private final long m;
    private final long t;
    private final double[][] bt;
    private final double[][] g;
    private final double[][] at;

    Winograd(Emitter e) {
        this.e = e;
        this.m = "2".equals(System.getenv("GRAFT_WINOGRAD")) ? 2 : 4;
        this.t = m + 2;
        this.bt = m == 4 ? BT4 : BT2;
        this.g = m == 4 ? G4 : G2;
        this.at = m == 4 ? AT4 : AT2;
    }

    /** Off with GRAFT_WINOGRAD=0 (the direct convolutions instead), for comparisons. */
    static boolean enabled() {
        return !"0".equals(System.getenv("GRAFT_WINOGRAD"));
    }

    /** True when {@code n} (with static input shape {@code sx}, weight shape {@code sw}) qualifies. */
    static boolean applies(Node n, long[] sx, long[] sw) {
        if (n.op() != Op.CONV || sx == null || sw == null || sx.length != 4 || sw.length != 4) {
            return false;
        }
        if (sx[2] < 2 || sx[3] < 2 || sw[2] != 3 || sw[3] != 3 || sw[0] < MIN_CHANNELS || sw[1] < MIN_CHANNELS) {
            return false;
        }
        return n.intAttr("group") == 1 && n.stringAttr("auto_pad").equals("NOTSET")
                && all(n.intsAttr("strides", new long[] {1, 1}), 1) && all(n.intsAttr("dilations", new long[] {1, 1}), 1)
                && all(n.intsAttr("pads", new long[4]), 1);
    }

    private static boolean all(long[] v, long x) {
        for (long a : v) {
            if (a != x) {
                return false;
            }
        }
        return true;
    }

    /**
     * Emits the forward convolution of {@code n} (input [N, C, H, W], weight [O, C, 3, 3],
     * optional bias) with its output named {@code n.output(0)}; the transformed input tiles
     * stay in the graph for {@link #weightGrad}.
     */
    void forward(Node n, long[] sx, long[] sw) {
        renameLast(tiles(n.input(0), sx[1], sx[2], sx[3]), n.output(0) + TILES);
        String u = kernel(n.input(1), false, sw[0], sw[1]);
        String bias = n.inputs().size() > 2 && !n.input(2).isEmpty() ? n.input(2) : null;
        renameLast(products(n.output(0) + TILES, u, sw[0], sx[2], sx[3], bias), n.output(0));
    }

    /** Gives the value just emitted (the last node's only output) the name {@code name}: no Identity copy. */
    private void renameLast(String value, String name) {
        List<Node> nodes = e.graph().nodes();
        Node last = nodes.get(nodes.size() - 1);
        if (!last.outputs().equals(List.of(value))) {
            throw new IllegalStateException("Winograd: '" + value + "' is not the last node's output");
        }
        nodes.set(nodes.size() - 1, last.withOutputs(List.of(name)));
    }

    /** The static shape of {@code v} (batch may be symbolic, -1), or null when unknown. */
    static long[] shapeOf(graft.ir.Graph types, String v) {
        graft.ir.TensorType t = types.type(v);
        if (t == null || t.shape() == null) {
            return null;
        }
        long[] s = new long[t.shape().rank()];
        for (int i = 0; i < s.length; i++) {
            graft.ir.Dim d = t.shape().dim(i);
            if (!d.isFixed() && i > 0) {
                return null;
            }
            s[i] = d.isFixed() ? d.value() : -1;
        }
        return s;
    }

    /** True when the forward pass of {@code n} was emitted by {@link #forward}. */
    boolean hasTiles(Node n) {
        String t = n.output(0) + TILES;
        return e.graph().nodes().stream().anyMatch(m -> m.outputs().contains(t));
    }

    /** dX of a qualifying conv: the Winograd convolution of dY with the flipped, channel-swapped kernel. */
    String inputGrad(String dy, String w, long[] sx, long[] sw) {
        String tiles = tiles(dy, sw[0], sx[2], sx[3]);
        return products(tiles, kernel(w, true, sw[0], sw[1]), sw[1], sx[2], sx[3], null);
    }

    /**
     * dW of a qualifying conv whose forward went through {@link #forward}: for each of the
     * (m+2)^2 tile positions, (A dY A^T) of dY's m x m blocks times the forward's (B^T X B),
     * summed over tiles by one batched product [(m+2)^2, O, T] x [(m+2)^2, T, C], then G^T (.) G
     * back to 3x3.
     */
    String weightGrad(Node n, String dy, long[] sx, long[] sw) {
        long o = sw[0];
        long c = sw[1];
        long th = (sx[2] + m - 1) / m;
        long tw = (sx[3] + m - 1) / m;
        // dY's m x m blocks as [m*m, T, O], cut like the tiles: strided slices of dY in NHWC
        // order (one six-axis transpose instead took two to three times as long).
        String nhwc = e.transpose(dy, 0, 2, 3, 1);
        if (m * th != sx[2] || m * tw != sx[3]) {
            nhwc = e.op("Pad", nhwc, e.ints(0, 0, 0, 0, 0, m * th - sx[2], m * tw - sx[3], 0));
        }
        String d = windows(nhwc, m, th, tw);
        String dt = e.reshape(e.op("MatMul", constant(kron(transpose(at), transpose(at))), d), e.ints(t * t, -1, o));
        String p = e.op("MatMul", e.transpose(dt, 0, 2, 1), n.output(0) + TILES);
        String gw = e.op("MatMul", constant(kron(transpose(g), transpose(g))), e.reshape(p, e.ints(t * t, -1)));
        gw = e.transpose(e.reshape(gw, e.ints(9, o, c)), 1, 2, 0);
        return e.reshape(gw, e.ints(o, c, 3, 3));
    }

    /**
     * B^T d B of every (m+2)x(m+2) tile (stride m) of {@code x} [N, C, H, W] zero-padded by one
     * (and at the bottom/right up to whole tiles): [(m+2)^2, T, C], T = N * tiles.
     */
    private String tiles(String x, long c, long h, long w) {
        long th = (h + m - 1) / m;
        long tw = (w + m - 1) / m;
        String nhwc = e.transpose(x, 0, 2, 3, 1);
        String padded = e.op("Pad", nhwc, e.ints(0, 1, 1, 0, 0, m * th + 1 - h, m * tw + 1 - w, 0));
        String d = windows(padded, t, th, tw);
        return e.reshape(e.op("MatMul", constant(kron(bt, bt)), d), e.ints(t * t, -1, c));
    }

    /**
     * The k x k windows at stride m of an NHWC tensor holding th x tw of them, as
     * [k*k, N*th*tw*C]: for each offset (a, b) inside the window, one strided Slice over all
     * windows, flattened, concatenated offset by offset.
     */
    private String windows(String nhwc, long k, long th, long tw) {
        List<String> parts = new ArrayList<>();
        String flat = e.ints(1, -1);
        String axes = e.ints(1, 2);
        String steps = e.ints(m, m);
        for (long a = 0; a < k; a++) {
            for (long b = 0; b < k; b++) {
                String s = e.op("Slice", nhwc, e.ints(a, b), e.ints(a + m * (th - 1) + 1, b + m * (tw - 1) + 1), axes, steps);
                parts.add(e.reshape(s, flat));
            }
        }
        return e.op("Concat", parts, Emitter.attrs("axis", 0L));
    }

    /**
     * G g G^T of W [O, C, 3, 3] as [(m+2)^2, C, O]; flipped: of the input-gradient kernel,
     * [(m+2)^2, O, C].
     * Both start from the taps-first [9, O, C] copy of W, made once per weight and step: ONNX
     * Runtime transposes [O, C, 9] to [9, O, C] in an eighth of the time [9, C, O] takes, and
     * the forward's [(m+2)^2, O, C] to [(m+2)^2, C, O] afterwards folds into its product.
     */
    private String kernel(String w, boolean flipped, long o, long c) {
        String taps = w + "__winograd_taps";
        if (e.graph().nodes().stream().noneMatch(m -> m.outputs().contains(taps))) {
            String t = e.transpose(e.reshape(w, e.ints(0, 0, 9)), 2, 0, 1);
            renameLast(e.reshape(t, e.ints(9, -1)), taps);
        }
        double[][] k = kron(g, g);
        if (flipped) {
            // W'[c, o, r, s] = W[o, c, 2 - r, 2 - s]: tap rs of W' is tap 8 - rs of W.
            double[][] f = new double[k.length][9];
            for (int i = 0; i < k.length; i++) {
                for (int j = 0; j < 9; j++) {
                    f[i][j] = k[i][8 - j];
                }
            }
            k = f;
        }
        String u = e.reshape(e.op("MatMul", constant(k), taps), e.ints(t * t, o, c));
        return flipped ? u : e.transpose(u, 0, 2, 1);
    }

    /** [(m+2)^2, T, C] x [(m+2)^2, C, O], then A^T (.) A into [N, O, H, W] (cropped to H x W). */
    private String products(String tiles, String u, long o, long h, long w, String bias) {
        long th = (h + m - 1) / m;
        long tw = (w + m - 1) / m;
        String p = e.op("MatMul", tiles, u);
        String y = e.op("MatMul", constant(kron(at, at)), e.reshape(p, e.ints(t * t, -1)));
        if (bias != null) {
            y = e.add(e.reshape(y, e.ints(m * m, -1, o)), bias);
        }
        y = e.reshape(y, e.ints(m, m, -1, th, tw, o));
        // [i, j, n, th, tw, o] -> [n, th, i, tw, j, o] (NHWC; rows of O channels move whole), then
        // NHWC -> NCHW: two block copies, where the one six-axis transpose to [n, o, th, i, tw, j]
        // went element by element.
        y = e.reshape(e.transpose(y, 2, 3, 0, 4, 1, 5), e.ints(-1, m * th, m * tw, o));
        y = e.transpose(y, 0, 3, 1, 2);
        if (m * th != h || m * tw != w) {
            y = e.op("Slice", y, e.ints(0, 0), e.ints(h, w), e.ints(2, 3));
        }
        return y;
    }

    private String constant(double[][] m) {
        double[] flat = new double[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, flat, i * m[0].length, m[0].length);
        }
        return e.tensor(new long[] {m.length, m[0].length}, flat);
    }

    /** kron(P, Q)[(a, b), (r, s)] = P[a, r] * Q[b, s]: the 2-D transform of a row-major tile. */
    static double[][] kron(double[][] p, double[][] q) {
        int pr = p.length;
        int pc = p[0].length;
        int qr = q.length;
        int qc = q[0].length;
        double[][] k = new double[pr * qr][pc * qc];
        for (int a = 0; a < pr; a++) {
            for (int b = 0; b < qr; b++) {
                for (int r = 0; r < pc; r++) {
                    for (int s = 0; s < qc; s++) {
                        k[a * qr + b][r * qc + s] = p[a][r] * q[b][s];
                    }
                }
            }
        }
        return k;
    }

    static double[][] transpose(double[][] m) {
        double[][] t = new double[m[0].length][m.length];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m[0].length; j++) {
                t[j][i] = m[i][j];
            }
        }
        return t;
    }
}
