package graft.train;

import graft.data.Samples;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.ir.Weight;
import graft.ir.WeightData;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.runtime.Sessions;
import java.io.PrintWriter;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Synchronous data-parallel training of a head over cached bottleneck features
 * ({@code graft finetune --spark}): the workers hold the features, and for every step each runs
 * the gradient-only step ({@link TrainingStep.Spec#gradients}) on its share of the global batch
 * and returns SUMS (gradients, loss, correct predictions, sample count); the driver adds them up,
 * divides once by the global count and applies the optimizer ({@link TrainingStep#update}, the
 * same update nodes as the single-machine step). Same seed, same shuffled order, same global
 * batch and the same Dropout masks as {@link Trainer}: N workers train what one machine trains,
 * up to the order of float additions.
 */
public final class DataParallel {
    private DataParallel() {
    }

    /** What a gradient pass over some samples adds up. {@code grads} in the step's parameter order; null for an evaluation. */
    public static final class Sums implements Serializable {
        private static final long serialVersionUID = 1L;
        public double[][] grads;
        public double loss;
        public long correct;
        public long count;

        /** Adds {@code o} into this (for treeAggregate); returns this. */
        public Sums add(Sums o) {
            if (o.grads != null) {
                if (grads == null) {
                    grads = new double[o.grads.length][];
                    for (int i = 0; i < grads.length; i++) {
                        grads[i] = o.grads[i].clone();
                    }
                } else {
                    for (int i = 0; i < grads.length; i++) {
                        double[] a = grads[i];
                        double[] b = o.grads[i];
                        for (int k = 0; k < a.length; k++) {
                            a[k] += b[k];
                        }
                    }
                }
            }
            loss += o.loss;
            correct += o.correct;
            count += o.count;
            return this;
        }
    }

    /** Where the bottleneck is cached and the gradient passes run (graft's Spark module). */
    public interface Workers extends AutoCloseable {
        /**
         * Runs {@code prefix} once over {@code train} and {@code val} (may be null), {@code batch}
         * images at a time, and keeps the features where they were computed; later passes run
         * {@code gradients} (training) and {@code eval} (validation) on them.
         */
        void cache(Graph prefix, Samples train, Samples val, TrainingStep.Built gradients, TrainingStep.Built eval, int batch);

        /**
         * Sums over the training samples at positions {@code idx} (the global batch) with these
         * parameters; {@code masks}: each Dropout mask of the whole batch, rows in {@code idx} order.
         */
        Sums gradients(Map<String, float[]> params, int[] idx, List<float[]> masks);

        /** Loss sum ({@code loss} of each eval batch times its size), correct count and count over the validation set. */
        Sums evaluate(Map<String, float[]> params);

        @Override
        void close();
    }

    /**
     * The driver's optimizer: {@link TrainingStep#update} in ONNX Runtime, its parameters and
     * state kept here between steps (in the names {@link StepSession#snapshot} uses).
     */
    static final class Update implements AutoCloseable {
        private final TrainingStep.Built built;
        private final OrtRunner runner;
        private final Map<String, float[]> state = new LinkedHashMap<>();

        Update(TrainingStep.Built built, Device device) {
            this.built = built;
            this.runner = Sessions.open(built.graph(), device);
            for (TrainingStep.Carried c : built.carried()) {
                state.put(c.input(), c.initial() != null ? c.initial().toFloats() : new float[(int) graft.ir.Shape.elementCount(c.shape())]);
            }
        }

        void apply(Map<String, float[]> meanGrads, float lr) {
            Map<String, Tensor> feeds = new LinkedHashMap<>();
            for (TrainingStep.Carried c : built.carried()) {
                feeds.put(c.input(), Tensor.ofFloats(c.shape(), state.get(c.input())));
            }
            for (String p : built.params()) {
                feeds.put(p + TrainingStep.GRAD, Tensor.ofFloats(shape(p), meanGrads.get(p)));
            }
            feeds.put(TrainingStep.LR, Tensor.ofFloats(new long[0], new float[] {lr}));
            List<String> outs = built.carried().stream().map(TrainingStep.Carried::output).toList();
            Map<String, Tensor> r = runner.run(feeds, outs);
            for (TrainingStep.Carried c : built.carried()) {
                state.put(c.input(), r.get(c.output()).toFloats());
            }
        }

        private long[] shape(String p) {
            for (TrainingStep.Carried c : built.carried()) {
                if (c.input().equals(p)) {
                    return c.shape();
                }
            }
            throw new IllegalStateException(p);
        }

        Map<String, float[]> params() {
            Map<String, float[]> m = new LinkedHashMap<>();
            for (String p : built.params()) {
                m.put(p, state.get(p));
            }
            return m;
        }

        Map<String, float[]> snapshot() {
            Map<String, float[]> m = new LinkedHashMap<>();
            state.forEach((k, v) -> m.put(k, v.clone()));
            return m;
        }

        boolean finite() {
            for (float[] v : state.values()) {
                for (float x : v) {
                    if (!Float.isFinite(x)) {
                        return false;
                    }
                }
            }
            return true;
        }

        Graph trained(Graph model) {
            for (String p : built.params()) {
                float[] v = state.get(p);
                ByteBuffer bb = ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                bb.asFloatBuffer().put(v);
                Weight old = model.initializer(p);
                model.addInitializer(new Weight(p, DataType.FLOAT, old.shape(), WeightData.of(bb)));
            }
            return model;
        }

        @Override
        public void close() {
            runner.close();
        }
    }

    /**
     * {@link Trainer#epochs} for a cached bottleneck, each step's gradient summed by {@code w}:
     * {@code head} trains; of {@code tr} only the size is read here (the features live on the
     * workers).
     */
    static Trainer.Result fit(Graph model, Graph head, Samples tr, boolean validate, Trainer.Config c, TrainingStep.Built grads,
                              Workers w, PrintWriter log, Trainer.Steps steps) {
        long terms = c.loss().termsPerSample(grads.classes());
        try (Update u = new Update(TrainingStep.update(head, c.optimizer()), c.device())) {
            Trainer.Engine engine = new Trainer.Engine() {
                @Override
                public Trainer.Stepped step(int[] idx, boolean[] mirror, java.util.SplittableRandom windows, float lr, int epoch, int b,
                                            int perEpoch) {
                    java.util.SplittableRandom r = Trainer.masks(c.seed(), epoch, b);
                    List<float[]> masks = new ArrayList<>();
                    for (Autodiff.Mask m : grads.masks()) {
                        masks.add(StepSession.mask(m, idx.length, r));
                    }
                    Sums s = w.gradients(u.params(), idx, masks);
                    if (s.count != idx.length) {
                        throw new IllegalStateException("data-parallel step " + b + ": the workers summed " + s.count + " samples of "
                                + idx.length);
                    }
                    // the mean over the global batch: every partition's sum added up first, divided once by the global count
                    double n = (double) idx.length * terms;
                    float loss = (float) (s.loss / n);
                    if (!Float.isFinite(loss)) {
                        return new Trainer.Stepped(loss, s.correct);
                    }
                    Map<String, float[]> mean = new LinkedHashMap<>();
                    for (int i = 0; i < grads.params().size(); i++) {
                        double[] g = s.grads[i];
                        float[] f = new float[g.length];
                        for (int k = 0; k < g.length; k++) {
                            f[k] = (float) (g[k] / n);
                        }
                        mean.put(grads.params().get(i), f);
                    }
                    u.apply(mean, lr);
                    if (!u.finite()) {
                        throw Trainer.diverged(Float.NaN, epoch, b, perEpoch, c);
                    }
                    return new Trainer.Stepped(loss, s.correct);
                }

                @Override
                public double[] evaluate() {
                    Sums e = w.evaluate(u.params());
                    return new double[] {e.loss / e.count, (double) e.correct / e.count};
                }

                @Override
                public Map<String, float[]> snapshot() {
                    return u.snapshot();
                }
            };
            History history = new History();
            Trainer.epochs(engine, tr.size(), validate, c, 0, history, log, steps);
            return new Trainer.Result(u.trained(model), history, true);
        }
    }
}
