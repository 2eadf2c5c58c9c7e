package graft.deploy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import graft.ir.DataType;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ONNX Runtime CPU latency of a float32 model against its {@code graft quantize} INT8 and
 * {@code --fp16} conversions (bench/quantize_latency.sh), all in one JVM, one run: per model and
 * batch size, {@code WARMUP} runs then the median of {@code RUNS}, on a seeded uniform [-1, 1]
 * input. Sessions are opened by {@link OrtRunner#open} (graft's own session options: pre-packing
 * off, ONNX Runtime's default threads and graph optimizations). Prints a markdown table: median
 * ms, ratio to FP32, file size (with external data).
 *
 * <p>Arguments: {@code RUNS BATCH,BATCH NAME=FP32.onnx,INT8.onnx,FP16.onnx ...}. With
 * {@code -Dbench.optimized=DIR}, also writes ONNX Runtime's optimized graph of every INT8 model to
 * {@code DIR/NAME_int8_optimized.onnx} (the same session options plus the optimized model path)
 * so the script can count the fused integer nodes. With {@code -Dbench.prepack=true}, FP32 and INT8
 * are measured a second time with ONNX Runtime's default session options (weight pre-packing on,
 * which graft turns off), the rows marked so.
 */
public final class QuantizeLatencyBench {
    private static final int WARMUP = 2;

    private QuantizeLatencyBench() {
    }

    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        int[] batches = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        String optimized = System.getProperty("bench.optimized");
        boolean prepack = Boolean.getBoolean("bench.prepack");
        List<String> rows = new ArrayList<>();
        for (int a = 2; a < args.length; a++) {
            String name = args[a].substring(0, args[a].indexOf('='));
            String[] files = args[a].substring(name.length() + 1).split(",");
            String[] kinds = {"FP32", "INT8 (graft quantize)", "FP16 (convert --fp16)", "FP32, pre-packing on", "INT8, pre-packing on"};
            if (prepack) {
                files = new String[] {files[0], files[1], files[2], files[0], files[1]};
            }
            double[][] ms = new double[files.length][batches.length];
            for (int f = 0; f < files.length; f++) {
                Path p = Path.of(files[f]);
                if (f >= 3) {
                    measureDefault(p, batches, runs, ms[f]);
                    for (int b = 0; b < batches.length; b++) {
                        System.err.printf(Locale.ROOT, "%s %s batch %d: %.1f ms%n", name, kinds[f], batches[b], ms[f][b]);
                    }
                    continue;
                }
                try (OrtRunner r = OrtRunner.open(p, Device.CPU)) {
                    String input = r.inputs().keySet().iterator().next();
                    long[] shape = r.inputs().get(input).shape().clone();
                    for (int b = 0; b < batches.length; b++) {
                        shape[0] = batches[b];
                        Tensor x = Tensor.random(DataType.FLOAT, shape, 7);
                        ms[f][b] = median(r, Map.of(input, x), runs);
                        System.err.printf(Locale.ROOT, "%s %s batch %d: %.1f ms%n", name, kinds[f], batches[b], ms[f][b]);
                    }
                }
                if (optimized != null && f == 1) {
                    writeOptimized(p, Path.of(optimized).resolve(name + "_int8_optimized.onnx"));
                }
            }
            for (int f = 0; f < files.length; f++) {
                StringBuilder row = new StringBuilder("| " + name + " | " + kinds[f] + " |");
                for (int b = 0; b < batches.length; b++) {
                    row.append(String.format(Locale.ROOT, " %.1f | %s |", ms[f][b], f == 0 ? "1.00x" : String.format(Locale.ROOT, "%.2fx",
                            ms[f][b] / ms[0][b])));
                }
                long size = size(Path.of(files[f]));
                long size0 = size(Path.of(files[0]));
                row.append(String.format(Locale.ROOT, " %,d | %.3fx |", size, (double) size / size0));
                rows.add(row.toString());
            }
        }
        StringBuilder head = new StringBuilder("| model | precision |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (int b : batches) {
            head.append(" batch ").append(b).append(" median ms | vs FP32 |");
            rule.append("---|---|");
        }
        head.append(" file bytes | vs FP32 |");
        rule.append("---|---|");
        System.out.println(head);
        System.out.println(rule);
        rows.forEach(System.out::println);
        System.out.printf(Locale.ROOT, "(%d warm-up runs, median of %d; ONNX Runtime %s CPU, %d available processors)%n", WARMUP, runs,
                OrtEnvironment.getEnvironment().getVersion(), Runtime.getRuntime().availableProcessors());
    }

    private static double median(OrtRunner r, Map<String, Tensor> feed, int runs) {
        for (int i = 0; i < WARMUP; i++) {
            r.run(feed);
        }
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            r.run(feed);
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return runs % 2 == 1 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    }

    /** As graft's sessions, but with ONNX Runtime's default options (pre-packing on). */
    private static void measureDefault(Path model, int[] batches, int runs, double[] out) throws Exception {
        OrtEnvironment env = OrtRunner.environment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions(); OrtSession s = env.createSession(model.toString(), o)) {
            String input = s.getInputNames().iterator().next();
            long[] shape = ((ai.onnxruntime.TensorInfo) s.getInputInfo().get(input).getInfo()).getShape().clone();
            for (int b = 0; b < batches.length; b++) {
                shape[0] = batches[b];
                Tensor x = Tensor.random(DataType.FLOAT, shape, 7);
                try (ai.onnxruntime.OnnxTensor t = ai.onnxruntime.OnnxTensor.createTensor(env, x.data().duplicate()
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer(), shape)) {
                    double[] ts = new double[runs];
                    for (int i = 0; i < WARMUP + runs; i++) {
                        long t0 = System.nanoTime();
                        s.run(Map.of(input, t)).close();
                        if (i >= WARMUP) {
                            ts[i - WARMUP] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                    Arrays.sort(ts);
                    out[b] = runs % 2 == 1 ? ts[runs / 2] : (ts[runs / 2 - 1] + ts[runs / 2]) / 2;
                }
            }
        }
    }

    /** The .onnx file plus any external-data file beside it named after it. */
    private static long size(Path p) throws Exception {
        long s = Files.size(p);
        for (String ext : List.of(".data", "_data")) {
            Path d = p.resolveSibling(p.getFileName() + ext);
            if (Files.exists(d)) {
                s += Files.size(d);
            }
        }
        return s;
    }

    /** ONNX Runtime's optimized graph of {@code model}, with graft's session options. */
    private static void writeOptimized(Path model, Path out) throws Exception {
        OrtEnvironment env = OrtRunner.environment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.addConfigEntry("session.disable_prepacking", "1");
            o.setOptimizedModelFilePath(out.toString());
            env.createSession(model.toString(), o).close();
        }
    }
}
