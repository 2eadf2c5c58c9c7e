package graft.train;

import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.onnx.OnnxImporter;
import graft.runtime.Device;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Times graft's training step (SGD with momentum 0.9, dropout on, every parameter trained) of
 * an ONNX model on one random batch, for {@code bench/train_step_vs_torch.sh}. Usage:
 * {@code StepBenchmark MODEL.onnx N C H W STEPS [median]}; prints {@code ms_per_step}: the mean
 * over STEPS, or with {@code median} the median step (bench/modern_train_step_vs_torch.sh). BatchNormalization
 * stays frozen (inference statistics, {@link TrainingStep.BatchNormMode#FROZEN}).
 */
public final class StepBenchmark {
    private StepBenchmark() {
    }

    public static void main(String[] args) {
        Graph g = OnnxImporter.read(Path.of(args[0]));
        int n = Integer.parseInt(args[1]);
        long[] s = {n, Long.parseLong(args[2]), Long.parseLong(args[3]), Long.parseLong(args[4])};
        int steps = Integer.parseInt(args[5]);
        boolean median = args.length > 6 && args[6].equals("median");
        Value in = g.inputs().get(0);
        g.inputs().set(0, new Value(in.name(), new TensorType(DataType.FLOAT,
                Shape.of(Dim.sym("N"), Dim.of(s[1]), Dim.of(s[2]), Dim.of(s[3])))));
        TrainingStep.Built step = TrainingStep.build(g, new TrainingStep.Spec(Loss.SOFTMAX_CROSS_ENTROPY,
                Optimizer.sgd(0.9, false, 0), true, false));
        SplittableRandom r = new SplittableRandom(0);
        float[] x = new float[(int) (s[0] * s[1] * s[2] * s[3])];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(2);
        }
        FloatBuffer xb = java.nio.ByteBuffer.allocateDirect(x.length * 4).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        xb.put(x).flip();
        try (StepSession session = new StepSession(step, null, Device.CPU)) {
            for (int i = 0; i < 2; i++) {
                session.step(xb, s, labels, 0.01f);
            }
            if (median) {
                double[] t = new double[steps];
                for (int i = 0; i < steps; i++) {
                    long t0 = System.nanoTime();
                    session.step(xb, s, labels, 0.01f);
                    t[i] = (System.nanoTime() - t0) / 1e6;
                }
                java.util.Arrays.sort(t);
                System.out.printf(Locale.ROOT, "%.3f%n", steps % 2 == 1 ? t[steps / 2] : (t[steps / 2 - 1] + t[steps / 2]) / 2);
                return;
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                session.step(xb, s, labels, 0.01f);
            }
            System.out.printf(Locale.ROOT, "%.3f%n", (System.nanoTime() - t0) / 1e6 / steps);
        }
    }
}
