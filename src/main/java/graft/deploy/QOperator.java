package graft.deploy;

import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.ShapeInference;
import graft.ir.TensorType;
import graft.ir.Weight;
import graft.ir.WeightData;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code graft quantize --format qoperator}: the QDQ graph of {@link Quantize#apply} rewritten
 * with integer operators, as ONNX Runtime's QOperator format has them. Per quantized node:
 * <ul>
 * <li>Conv: {@code QLinearConv(x_q, x_scale, x_zp, w_int8, w_scale, w_zp, y_scale, y_zp, bias_int32)}
 * reading the QuantizeLinear of its input and writing the quantized value of its output, the
 * QuantizeLinear (and the Relu that alone read the output: a uint8 output quantized after a Relu
 * has zero point 0, where saturation is the Relu) removed;</li>
 * <li>Gemm and MatMul: {@code MatMulInteger(x_q, w_int8 [K, M], x_zp, 0)}, Cast to float, Mul by
 * {@code x_scale * w_scale[m]} (the bias's float32 scale), Add the dequantized int32 bias: the
 * float output the QDQ graph had, quantized after as before.</li>
 * </ul>
 * QuantizeLinear/DequantizeLinear stay at the boundaries with the float ops. Refused (exit 3): a
 * Conv whose output is not quantized (nothing but the graph's output reads it), since
 * QLinearConv only writes a quantized value.
 */
public final class QOperator {
    private QOperator() {
    }

    /** Before calibration: refuses a plan with a Conv whose output will not be quantized (QLinearConv cannot write a float). */
    public static void check(Graph g, Quantize.Plan plan, String model) {
        Set<String> graphOutputs = new HashSet<>();
        g.outputs().forEach(v -> graphOutputs.add(v.name()));
        Set<String> acts = new HashSet<>(plan.activations());
        for (Node n : plan.targets()) {
            if (n.op() == Op.CONV && !acts.contains(Quantize.quantizedOutput(g, n, graphOutputs))) {
                throw floatConv(n, model);
            }
        }
    }

    private static UnsupportedModelException floatConv(Node n, String model) {
        return new UnsupportedModelException("--format qoperator: Conv '" + n.name() + "' of model '" + model
                + "': its output stays float (a graph output, or read by no quantized value), which QLinearConv cannot write; use --format qdq");
    }

    /** Rewrites the QDQ graph {@code g} (from {@link Quantize#apply} with {@code plan}) in place; returns the integer nodes made. */
    public static int apply(Graph g, Quantize.Plan plan, String model) {
        Set<String> targets = new HashSet<>();
        plan.targets().forEach(n -> targets.add(n.name()));
        Set<String> graphOutputs = new HashSet<>();
        g.outputs().forEach(v -> graphOutputs.add(v.name()));
        Map<String, Node> producer = new HashMap<>();
        Map<String, List<Node>> readers = new HashMap<>();
        for (Node n : g.nodes()) {
            n.outputs().forEach(o -> producer.put(o, n));
            for (String i : new LinkedHashSet<>(n.inputs())) {
                readers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
            }
        }
        Map<Node, List<Node>> replace = new java.util.IdentityHashMap<>();
        Set<Node> drop = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        Map<String, Integer> fresh = new HashMap<>();
        int made = 0;
        for (Node n : g.nodes()) {
            if (!targets.contains(n.name()) || n.op() == null) {
                continue;
            }
            Node dx = producer.get(n.input(0));
            Node dw = producer.get(n.input(1));
            if (!isDq(dx) || !isDq(dw) || !isQ(producer.get(dx.input(0)))) {
                throw new UnsupportedModelException("--format qoperator: " + n.opType() + " '" + n.name() + "' of model '" + model
                        + "' does not read quantized values; use --format qdq");
            }
            String xq = dx.input(0);
            String xs = dx.input(1);
            String xzp = dx.input(2);
            String wq = dw.input(0);
            String ws = dw.input(1);
            Node db = n.inputs().size() > 2 && !n.input(2).isEmpty() ? producer.get(n.input(2)) : null;
            if (n.op() == Op.CONV) {
                String y = n.output(0);
                List<Node> r = readers.getOrDefault(y, List.of());
                Node relu = null;
                Node q = null;
                if (r.size() == 1 && isQ(r.get(0)) && !graphOutputs.contains(y)) {
                    q = r.get(0);
                } else if (r.size() == 1 && r.get(0).op() == Op.RELU && !graphOutputs.contains(y)) {
                    relu = r.get(0);
                    String ry = relu.output(0);
                    List<Node> rr = readers.getOrDefault(ry, List.of());
                    if (rr.size() == 1 && isQ(rr.get(0)) && !graphOutputs.contains(ry) && zeroPointIsZero(g, rr.get(0))) {
                        q = rr.get(0);
                    }
                }
                if (q == null) {
                    throw floatConv(n, model);
                }
                List<String> in = new ArrayList<>(List.of(xq, xs, xzp, wq, ws, dw.input(2), q.input(1), q.input(2)));
                if (db != null) {
                    in.add(db.input(0));
                }
                replace.put(n, List.of(new Node(n.name(), "QLinearConv", "", n.layer(), in, List.of(q.output(0)), n.attrs(), Map.of())));
                drop.add(q);
                if (relu != null) {
                    drop.add(relu);
                }
            } else {
                // Gemm (alpha = beta = 1, no transA) or MatMul: W as [K, M]
                Weight w = g.initializer(wq);
                String wKm = wq;
                if (n.op() == Op.GEMM && n.intAttr("transB") == 1) {
                    wKm = uniq(g, fresh, wq + "_transposed");
                    g.addInitializer(transpose(w, wKm));
                }
                float[] xScale = g.initializer(xs).toFloats();
                float[] wScale = g.initializer(ws).toFloats();
                float[] scale = new float[wScale.length];
                for (int c = 0; c < scale.length; c++) {
                    scale[c] = xScale[0] * wScale[c];
                }
                String zero = uniq(g, fresh, wq + "_zero");
                g.addInitializer(new Weight(zero, DataType.INT8, new long[0], WeightData.of(ByteBuffer.allocateDirect(1))));
                String sc = uniq(g, fresh, n.output(0) + "_requant_scale");
                g.addInitializer(Weight.ofFloats(sc, scale.length == 1 ? new long[0] : new long[] {scale.length}, scale));
                String acc = uniq(g, fresh, n.output(0) + "_int32");
                String accF = uniq(g, fresh, n.output(0) + "_int32_float");
                String y = n.output(0);
                String mulOut = db == null ? y : uniq(g, fresh, n.output(0) + "_no_bias");
                List<Node> ns = new ArrayList<>();
                ns.add(new Node(n.name(), "MatMulInteger", "", n.layer(), List.of(xq, wKm, xzp, zero), List.of(acc), Map.of(), Map.of()));
                ns.add(Node.of(Op.CAST, n.name() + "/cast", n.layer(), List.of(acc), List.of(accF), Map.of("to", Attr.of((long) DataType.FLOAT.code()))));
                ns.add(Node.of(Op.MUL, n.name() + "/scale", n.layer(), List.of(accF, sc), List.of(mulOut), Map.of()));
                if (db != null) {
                    float[] bq = g.initializer(db.input(0)).toFloats();
                    float[] bs = g.initializer(db.input(1)).toFloats();
                    float[] b = new float[bq.length];
                    for (int c = 0; c < b.length; c++) {
                        b[c] = bq[c] * bs[bs.length == 1 ? 0 : c];
                    }
                    String bf = uniq(g, fresh, n.input(2) + "_float");
                    g.addInitializer(Weight.ofFloats(bf, new long[] {b.length}, b));
                    ns.add(Node.of(Op.ADD, n.name() + "/bias", n.layer(), List.of(mulOut, bf), List.of(y), Map.of()));
                }
                TensorType yt = g.type(y);
                if (yt != null) {
                    g.types().put(acc, new TensorType(DataType.INT32, yt.shape()));
                }
                replace.put(n, ns);
            }
            made++;
        }
        List<Node> out = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (drop.contains(n)) {
                continue;
            }
            out.addAll(replace.getOrDefault(n, List.of(n)));
        }
        // DequantizeLinear (and then QuantizeLinear) nodes nothing reads any more
        boolean changed = true;
        while (changed) {
            Set<String> read = new HashSet<>(graphOutputs);
            out.forEach(n -> read.addAll(n.inputs()));
            changed = out.removeIf(n -> (isDq(n) || isQ(n)) && !read.contains(n.output(0)));
        }
        g.nodes().clear();
        g.nodes().addAll(out);
        Set<String> read = new HashSet<>(graphOutputs);
        g.nodes().forEach(n -> read.addAll(n.inputs()));
        g.initializers().keySet().removeIf(k -> !read.contains(k));
        ShapeInference.run(g);
        GraphValidator.check(g);
        g.metadata().put("graft.precision", g.metadata().getOrDefault("graft.precision", "int8").replace("QDQ", "QOperator"));
        return made;
    }

    private static boolean isQ(Node n) {
        return n != null && n.op() == null && n.opType().equals("QuantizeLinear") && (n.domain() == null || n.domain().isEmpty());
    }

    private static boolean isDq(Node n) {
        return n != null && n.op() == null && n.opType().equals("DequantizeLinear") && (n.domain() == null || n.domain().isEmpty())
                && n.inputs().size() >= 2;
    }

    private static boolean zeroPointIsZero(Graph g, Node q) {
        Weight z = q.inputs().size() > 2 ? g.initializer(q.input(2)) : null;
        return z != null && z.toFloats()[0] == 0f;
    }

    private static String uniq(Graph g, Map<String, Integer> fresh, String base) {
        String s = base;
        for (int i = 1; g.initializer(s) != null || g.types().containsKey(s) || fresh.containsKey(s); i++) {
            s = base + "_" + i;
        }
        fresh.put(s, 1);
        return s;
    }

    /** An int8 [M, K] weight as [K, M]. */
    private static Weight transpose(Weight w, String name) {
        int m = (int) w.shape()[0];
        int k = (int) w.shape()[1];
        ByteBuffer src = w.buffer();
        ByteBuffer dst = ByteBuffer.allocateDirect(m * k);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < k; j++) {
                dst.put(j * m + i, src.get(src.position() + i * k + j));
            }
        }
        return new Weight(name, DataType.INT8, new long[] {k, m}, WeightData.of(dst));
    }
}
