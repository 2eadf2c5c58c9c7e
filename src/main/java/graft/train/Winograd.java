package graft.train;

import graft.ir.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * Winograd F(2x2, 3x3) convolution (Lavin and Gray) for the wide 3x3, stride-1, pad-1 layers of
 * VGG-style networks, written with standard ONNX ops: the padded input is cut into overlapping
 * 4x4 tiles at stride 2, each tile transformed (B^T d B), multiplied channel-wise with the
 * transformed kernel (G g G^T) as 16 batched matrix products, and transformed back (A^T m A)
 * into 2x2 output blocks. The 16 products need 16/36 of a direct convolution's multiplies.
 *
 * <p>The same transforms give the weight gradient (the transposition principle: F(3x3, 2x2)
 * uses the same data transform B, A as its filter transform and G^T as its output transform),
 * so the forward pass's transformed input is reused there, and the input gradient is another
 * F(2x2, 3x3) convolution of dY whose kernel transform absorbs the flip. Only used where the
 * matrix products dominate (both channel counts at least {@link #MIN_CHANNELS}): for narrow
 * layers the transforms cost more than they save. Stateless apart from the emitter.
 */
final class Winograd {
    /** Narrowest layer (input and output channels) that goes through Winograd. */
    static final long MIN_CHANNELS = 128;

    /** Suffix of the forward pass's transformed input, looked up by the weight gradient. */
    private static final String TILES = "__winograd_tiles";

    private static final double[][] BT = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    private static final double[][] G = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    private static final double[][] AT = {{1, 1, 1, 0}, {0, 1, -1, -1}};

    private final Emitter e;

    Winograd(Emitter e) {
        this.e = e;
    }

    /** Off with GRAFT_WINOGRAD=0 (the direct convolutions instead), for comparisons. */
    static boolean enabled() {
        return !"0".equals(System.getenv("GRAFT_WINOGRAD"));
    }

    /** True when {@code n} (with static input shape {@code sx}, weight shape {@code sw}) qualifies. */
    static boolean applies(Node n, long[] sx, long[] sw) {
        if (!n.opType().equals("Conv") || sx == null || sw == null || sx.length != 4 || sw.length != 4) {
            return false;
        }
        if (sx[2] < 2 || sx[3] < 2 || sw[2] != 3 || sw[3] != 3 || sw[0] < MIN_CHANNELS || sw[1] < MIN_CHANNELS) {
            return false;
        }
        return n.intAttr("group", 1) == 1 && n.stringAttr("auto_pad", "NOTSET").equals("NOTSET")
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

    /** dX of a qualifying conv: the F(2x2, 3x3) convolution of dY with the flipped, channel-swapped kernel. */
    String inputGrad(String dy, String w, long[] sx, long[] sw) {
        String tiles = tiles(dy, sw[0], sx[2], sx[3]);
        return products(tiles, kernel(w, true, sw[0], sw[1]), sw[1], sx[2], sx[3], null);
    }

    /**
     * dW of a qualifying conv whose forward went through {@link #forward}: for each of the 16
     * tile positions, (A dY A^T) times the forward's (B^T X B), summed over tiles by one batched
     * product [16, O, T] x [16, T, C], then G^T (.) G back to 3x3.
     */
    String weightGrad(Node n, String dy, long[] sx, long[] sw) {
        long o = sw[0];
        long c = sw[1];
        long th = (sx[2] + 1) / 2;
        long tw = (sx[3] + 1) / 2;
        String d = padTo(dy, sx[2], sx[3], 2 * th, 2 * tw);
        d = e.reshape(d, e.ints(-1, o, th, 2, tw, 2));
        // [n, o, th, i, tw, j] -> [i, j, o, n, th, tw]: the 2x2 block index first, tiles last.
        d = e.reshape(e.transpose(d, 3, 5, 1, 0, 2, 4), e.ints(4, -1));
        String dt = e.reshape(e.op("MatMul", constant(kron(transpose(AT), transpose(AT))), d), e.ints(16, o, -1));
        String m = e.op("MatMul", dt, n.output(0) + TILES);
        String g = e.op("MatMul", constant(kron(transpose(G), transpose(G))), e.reshape(m, e.ints(16, -1)));
        g = e.transpose(e.reshape(g, e.ints(9, o, c)), 1, 2, 0);
        return e.reshape(g, e.ints(o, c, 3, 3));
    }

    /**
     * B^T d B of every 4x4 tile (stride 2) of {@code x} [N, C, H, W] zero-padded by one (and
     * by one more at the bottom/right when H or W is odd): [16, T, C], T = N * tiles.
     */
    private String tiles(String x, long c, long h, long w) {
        long th = (h + 1) / 2;
        long tw = (w + 1) / 2;
        String nhwc = e.transpose(x, 0, 2, 3, 1);
        String padded = e.op("Pad", nhwc, e.ints(0, 1, 1, 0, 0, 2 * th + 1 - h, 2 * tw + 1 - w, 0));
        List<String> parts = new ArrayList<>();
        String flat = e.ints(1, -1);
        String axes = e.ints(1, 2);
        String steps = e.ints(2, 2);
        for (long a = 0; a < 4; a++) {
            for (long b = 0; b < 4; b++) {
                String s = e.op("Slice", padded, e.ints(a, b), e.ints(a + 2 * th - 1, b + 2 * tw - 1), axes, steps);
                parts.add(e.reshape(s, flat));
            }
        }
        String d = e.op("Concat", parts, Emitter.attrs("axis", 0L));
        return e.reshape(e.op("MatMul", constant(kron(BT, BT)), d), e.ints(16, -1, c));
    }

    /**
     * G g G^T of W [O, C, 3, 3] as [16, C, O]; flipped: of the input-gradient kernel, [16, O, C].
     * Both start from the taps-first [9, O, C] copy of W, made once per weight and step: ONNX
     * Runtime transposes [O, C, 9] to [9, O, C] in an eighth of the time [9, C, O] takes, and
     * [16, O, C] to [16, C, O] afterwards is a plain batched matrix transpose.
     */
    private String kernel(String w, boolean flipped, long o, long c) {
        String taps = w + "__winograd_taps";
        if (e.graph().nodes().stream().noneMatch(m -> m.outputs().contains(taps))) {
            String t = e.transpose(e.reshape(w, e.ints(0, 0, 9)), 2, 0, 1);
            renameLast(e.reshape(t, e.ints(9, -1)), taps);
        }
        double[][] k = kron(G, G);
        if (flipped) {
            // W'[c, o, r, s] = W[o, c, 2 - r, 2 - s]: tap rs of W' is tap 8 - rs of W.
            double[][] f = new double[16][9];
            for (int i = 0; i < 16; i++) {
                for (int j = 0; j < 9; j++) {
                    f[i][j] = k[i][8 - j];
                }
            }
            k = f;
        }
        String u = e.reshape(e.op("MatMul", constant(k), taps), e.ints(16, o, c));
        return flipped ? u : e.transpose(u, 0, 2, 1);
    }

    /** [16, T, C] x [16, C, O], then A^T (.) A into [N, O, H, W] (cropped when H or W is odd). */
    private String products(String tiles, String u, long o, long h, long w, String bias) {
        long th = (h + 1) / 2;
        long tw = (w + 1) / 2;
        String m = e.op("MatMul", tiles, u);
        String y = e.op("MatMul", constant(kron(AT, AT)), e.reshape(m, e.ints(16, -1)));
        if (bias != null) {
            y = e.add(e.reshape(y, e.ints(4, -1, o)), bias);
        }
        y = e.reshape(y, e.ints(2, 2, -1, th, tw, o));
        // [i, j, n, th, tw, o] -> [n, o, th, i, tw, j]
        y = e.reshape(e.transpose(y, 2, 5, 3, 0, 4, 1), e.ints(-1, o, 2 * th, 2 * tw));
        if (2 * th != h || 2 * tw != w) {
            y = e.op("Slice", y, e.ints(0, 0), e.ints(h, w), e.ints(2, 3));
        }
        return y;
    }

    /** dY [N, O, H, W] zero-padded at the bottom/right to [N, O, ph, pw]. */
    private String padTo(String dy, long h, long w, long ph, long pw) {
        if (ph == h && pw == w) {
            return dy;
        }
        return e.op("Pad", dy, e.ints(0, 0, 0, 0, 0, 0, ph - h, pw - w));
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
