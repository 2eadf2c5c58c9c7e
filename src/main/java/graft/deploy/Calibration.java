package graft.deploy;

import graft.data.InputLayout;
import graft.data.Samples;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.runtime.Sessions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Calibration of {@link Quantize}: runs the float model on ONNX Runtime over the calibration
 * samples with every planned activation exposed as an output, and gives each its range: the
 * observed [min, max] ({@link Quantize.Method#MINMAX}), or ({@link Quantize.Method#PERCENTILE}
 * P) the P-th and (100 - P)-th percentiles, read on a second pass from a histogram of
 * {@value #BINS} bins over [min, max] (the upper edge of the bin that reaches the percentile for
 * the maximum, the lower edge for the minimum: never narrower than the exact percentile by more
 * than a bin); or ({@link Quantize.Method#ENTROPY}) the observed range clipped to [-T, T], T the
 * threshold of minimal KL divergence of {@link Entropy}, from a second pass's histogram of |x|.
 */
public final class Calibration {
    static final int BINS = 4096;
    private static final int BATCH = 16;

    private Calibration() {
    }

    /** [min, max] of each tensor; {@code progress} gets the samples done so far (of passes x size). */
    public static Map<String, float[]> ranges(Graph g, List<String> tensors, Samples data, Quantize.Method method, double percentile,
                                              IntConsumer progress) {
        Map<String, float[]> r = new LinkedHashMap<>();
        if (tensors.isEmpty()) {
            return r;
        }
        Graph probe = g.copy();
        probe.outputs().clear();
        for (String t : tensors) {
            TensorType type = g.type(t);
            probe.outputs().add(new Value(t, type));
        }
        for (String t : tensors) {
            r.put(t, new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY});
        }
        Map<String, long[]> hist = new LinkedHashMap<>();
        try (OrtRunner run = Sessions.open(probe, Device.CPU)) {
            int passes = method == Quantize.Method.MINMAX ? 1 : 2;
            for (int pass = 0; pass < passes; pass++) {
                for (int from = 0; from < data.size(); from += BATCH) {
                    int n = Math.min(BATCH, data.size() - from);
                    Map<String, Tensor> outs = run.run(Map.of(g.inputs().get(0).name(), feed(g, data, from, n)), tensors);
                    for (String t : tensors) {
                        float[] v = outs.get(t).toFloats();
                        float[] mm = r.get(t);
                        if (pass == 0) {
                            for (float x : v) {
                                if (x < mm[0]) {
                                    mm[0] = x;
                                }
                                if (x > mm[1]) {
                                    mm[1] = x;
                                }
                            }
                        } else if (method == Quantize.Method.ENTROPY) {
                            long[] h = hist.computeIfAbsent(t, k -> new long[Entropy.BINS]);
                            Entropy.add(h, v, Math.max(Math.abs(mm[0]), Math.abs(mm[1])));
                        } else {
                            long[] h = hist.computeIfAbsent(t, k -> new long[BINS]);
                            double w = ((double) mm[1] - mm[0]) / BINS;
                            for (float x : v) {
                                int b = w > 0 ? (int) Math.min(BINS - 1, Math.max(0, (x - mm[0]) / w)) : 0;
                                h[b]++;
                            }
                        }
                    }
                    if (progress != null) {
                        progress.accept(pass * data.size() + from + n);
                    }
                }
            }
        }
        if (method == Quantize.Method.ENTROPY) {
            for (String t : tensors) {
                float[] mm = r.get(t);
                long[] h = hist.get(t);
                if (h == null) {
                    continue;
                }
                double a = Math.max(Math.abs(mm[0]), Math.abs(mm[1]));
                float th = (float) Entropy.threshold(h, a);
                r.put(t, new float[] {Math.max(mm[0], -th), Math.min(mm[1], th)});
            }
        }
        if (method == Quantize.Method.PERCENTILE) {
            for (String t : tensors) {
                float[] mm = r.get(t);
                long[] h = hist.get(t);
                if (h == null || !(mm[1] > mm[0])) {
                    continue;
                }
                long total = 0;
                for (long c : h) {
                    total += c;
                }
                double w = ((double) mm[1] - mm[0]) / BINS;
                double tail = total * (1 - percentile / 100.0);
                long cum = 0;
                int hi = BINS - 1;
                for (int b = BINS - 1; b >= 0; b--) {
                    cum += h[b];
                    if (cum > tail) {
                        hi = b;
                        break;
                    }
                }
                cum = 0;
                int lo = 0;
                for (int b = 0; b < BINS; b++) {
                    cum += h[b];
                    if (cum > tail) {
                        lo = b;
                        break;
                    }
                }
                r.put(t, new float[] {(float) (mm[0] + lo * w), (float) Math.min(mm[1], mm[0] + (hi + 1) * w)});
            }
        }
        return r;
    }

    /** Samples [from, from + n) as the model's input (NHWC where the model takes it so). */
    static Tensor feed(Graph g, Samples data, int from, int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = from + i;
        }
        boolean nhwc = InputLayout.feedsNhwc(g, data.sampleShape());
        FloatBuffer fb = nhwc ? InputLayout.toNhwc(data.batch(idx, null), data.batchShape(n)) : data.batch(idx, null);
        ByteBuffer bb = ByteBuffer.allocateDirect(fb.remaining() * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(fb);
        long[] shape = nhwc ? InputLayout.nhwcShape(data.batchShape(n)) : data.batchShape(n);
        return new Tensor(DataType.FLOAT, shape, bb);
    }

    static List<String> names(List<Quantize.Range> r) {
        List<String> s = new ArrayList<>();
        r.forEach(x -> s.add(x.tensor()));
        return s;
    }
}
