package graft.bench;

import graft.ir.DataType;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ONNX Runtime CPU latency, batch 1, of graft's conversion of a model against a peer file of the
 * same network (bench/modern_inference_vs_torch.sh). Both sessions are opened with graft's own
 * session options ({@link OrtRunner#open}), both stay open, each gets WARMUP runs, then RUNS
 * timed runs alternate A B, B A, A B...; the medians are printed. The two outputs on the same seeded
 * input are compared too (max |a - b| / max |b|), so that a fast wrong file cannot pass.
 *
 * <p>Arguments: {@code RUNS NAME=GRAFT.onnx[,PEER.onnx] ...}; without a peer only graft's file is
 * timed. Prints one line per model: {@code NAME graft_ms peer_ms rel_diff} (peer fields "-"). With
 * {@code -Dbench.optimized=DIR}, also writes ONNX Runtime's optimized graph of graft's file as
 * {@code DIR/NAME_graft_ort_optimized.onnx} (after the timings).
 */
public final class InferenceBench {
    private static final int WARMUP = 3;

    private InferenceBench() {
    }

    public static void main(String[] args) {
        int runs = Integer.parseInt(args[0]);
        for (int a = 1; a < args.length; a++) {
            String name = args[a].substring(0, args[a].indexOf('='));
            String[] files = args[a].substring(name.length() + 1).split(",");
            List<OrtRunner> rs = new ArrayList<>();
            List<Map<String, Tensor>> feeds = new ArrayList<>();
            try {
                for (String f : files) {
                    OrtRunner r = OrtRunner.open(Path.of(f), Device.CPU);
                    rs.add(r);
                    String input = r.inputs().keySet().iterator().next();
                    long[] shape = r.inputs().get(input).shape().clone();
                    shape[0] = 1;
                    feeds.add(Map.of(input, Tensor.random(DataType.FLOAT, shape, 7)));
                }
                if (rs.size() == 2 && !Arrays.equals(feeds.get(0).values().iterator().next().shape(),
                        feeds.get(1).values().iterator().next().shape())) {
                    throw new IllegalStateException(name + ": input shapes differ");
                }
                // the same input values for both (same seed, same shape)
                Tensor[] outs = new Tensor[rs.size()];
                for (int i = 0; i < rs.size(); i++) {
                    for (int w = 0; w < WARMUP; w++) {
                        outs[i] = rs.get(i).run(feeds.get(i)).values().iterator().next();
                    }
                }
                double[][] t = new double[rs.size()][runs];
                for (int k = 0; k < runs; k++) {
                    for (int j = 0; j < rs.size(); j++) {
                        int i = k % 2 == 0 ? j : rs.size() - 1 - j;   // A B, B A, ...: neither always runs first
                        long t0 = System.nanoTime();
                        rs.get(i).run(feeds.get(i));
                        t[i][k] = (System.nanoTime() - t0) / 1e6;
                    }
                }
                String peer = "-";
                String diff = "-";
                if (rs.size() == 2) {
                    peer = String.format(Locale.ROOT, "%.2f", median(t[1]));
                    diff = String.format(Locale.ROOT, "%.2e", rel(outs[0], outs[1]));
                }
                System.out.printf(Locale.ROOT, "%s %.2f %s %s%n", name, median(t[0]), peer, diff);
                String optimized = System.getProperty("bench.optimized");
                if (optimized != null) {
                    // ONNX Runtime's own optimized graph of graft's file (the same session options), for the script's Transpose count
                    try (ai.onnxruntime.OrtSession.SessionOptions o = new ai.onnxruntime.OrtSession.SessionOptions()) {
                        o.addConfigEntry("session.disable_prepacking", "1");
                        o.setOptimizedModelFilePath(Path.of(optimized).resolve(name + "_graft_ort_optimized.onnx").toString());
                        OrtRunner.environment().createSession(files[0], o).close();
                    } catch (ai.onnxruntime.OrtException e) {
                        throw new IllegalStateException(e);
                    }
                }
            } finally {
                rs.forEach(OrtRunner::close);
            }
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double rel(Tensor a, Tensor b) {
        ByteBuffer x = a.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer y = b.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = x.remaining() / 4;
        if (n != y.remaining() / 4) {
            return Double.NaN;
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < n; i++) {
            float p = x.getFloat(x.position() + 4 * i);
            float q = y.getFloat(y.position() + 4 * i);
            num = Math.max(num, Math.abs(p - q));
            den = Math.max(den, Math.abs(q));
        }
        return num / den;
    }
}
