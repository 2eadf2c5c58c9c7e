package graft.train;

import graft.data.Crops;
import graft.data.InputLayout;
import graft.data.Samples;
import graft.error.UsageException;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.ShapeInference;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.runtime.Sessions;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The fine-tuning loop: checks the data against the model before anything runs, caches the
 * bottleneck when the frozen layers form a prefix and no random augmentation is on, then runs
 * the step graph epoch by epoch with validation, history (CSV, JSON, PNG), a checkpoint after
 * every epoch, {@code resume} from the last one, and early stopping on validation loss.
 * Shuffling is seeded per epoch, so a resumed run sees the same batches as an uninterrupted one.
 */
public final class Trainer {
    /**
     * Hyper-parameters and run options. {@code out} may be null (no history, no checkpoints).
     * {@code crop} is Caffe's {@code crop_size} (0: none): a seeded random window per training
     * image and the center window for validation.
     */
    public record Config(int epochs, int batchSize, Optimizer optimizer, Schedule schedule, Loss loss, boolean dropout,
                         boolean mirror, long seed, int patience, Path out, boolean resume, Device device, boolean cache,
                         int crop, TrainingStep.BatchNormMode batchNorm) {
        /** BatchNormalization frozen (inference statistics), today's default. */
        public Config(int epochs, int batchSize, Optimizer optimizer, Schedule schedule, Loss loss, boolean dropout,
                      boolean mirror, long seed, int patience, Path out, boolean resume, Device device, boolean cache, int crop) {
            this(epochs, batchSize, optimizer, schedule, loss, dropout, mirror, seed, patience, out, resume, device, cache, crop,
                    TrainingStep.BatchNormMode.FROZEN);
        }
    }

    /** The model with trained weights, its history, and whether the bottleneck was cached. */
    public record Result(Graph model, History history, boolean cached) {
    }

    private Trainer() {
    }

    /** The hyper-parameters a checkpoint records, by the names a user gives them. */
    static Map<String, String> settings(Config c) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("optimizer", c.optimizer().describe());
        m.put("schedule", c.schedule() instanceof Schedule.Described d ? d.text() : "custom (Java API)");
        m.put("loss", String.valueOf(c.loss()));
        m.put("batch size", Integer.toString(c.batchSize()));
        m.put("seed", Long.toString(c.seed()));
        m.put("dropout", c.dropout() ? "on" : "off");
        m.put("mirror", c.mirror() ? "on" : "off");
        m.put("crop", Integer.toString(c.crop()));
        m.put("bn", c.batchNorm().name().toLowerCase(Locale.ROOT));
        return m;
    }

    /** Told after each training step: the epoch, the steps done in it, the steps per epoch (a progress bar). */
    @FunctionalInterface
    public interface Steps {
        void done(int epoch, int step, int perEpoch);

        /** The training loss of that step (the mean over its batch), told before {@link #done}. */
        default void loss(int epoch, int step, float loss) {
        }
    }

    /** What one training step reports: the batch's mean loss and its correct predictions. */
    record Stepped(float loss, long correct) {
    }

    /** Runs the steps of {@link #epochs}: one machine's step session, or data-parallel workers. */
    interface Engine {
        /** One step over the samples {@code idx} ({@code mirror} may be null); {@code b} counts from 1. */
        Stepped step(int[] idx, boolean[] mirror, SplittableRandom windows, float lr, int epoch, int b, int perEpoch);

        /** Validation loss and accuracy with the current parameters. */
        double[] evaluate();

        /** The carried tensors, for the checkpoint. */
        Map<String, float[]> snapshot();
    }

    /**
     * The epochs from {@code start + 1}: the seeded shuffle, the global batches, the schedule, the
     * per-epoch line, history, checkpoint and early stopping; {@code engine} runs the steps.
     */
    static void epochs(Engine engine, int size, boolean validate, Config c, int start, History history, PrintWriter log, Steps steps) {
        int perEpoch = (size + c.batchSize() - 1) / c.batchSize();
        double best = Double.POSITIVE_INFINITY;
        int since = 0;
        for (History.Epoch r : history.rows()) {
            if (r.valLoss() < best) {
                best = r.valLoss();
                since = 0;
            } else {
                since++;
            }
        }
        for (int epoch = start + 1; epoch <= c.epochs(); epoch++) {
            long t0 = System.nanoTime();
            int[] order = Samples.shuffled(size, c.seed() * 1_000_003L + epoch);
            SplittableRandom flips = new SplittableRandom(c.seed() ^ (epoch * 0x9E3779B97F4A7C15L));
            // its own stream, so turning --crop on does not change the mirror draws of a run
            SplittableRandom windows = new SplittableRandom((c.seed() + 0x5DEECE66DL) ^ (epoch * 0xBF58476D1CE4E5B9L));
            double lossSum = 0;
            long correct = 0;
            double lr = 0;
            for (int b = 0; b < perEpoch; b++) {
                int from = b * c.batchSize();
                int[] idx = java.util.Arrays.copyOfRange(order, from, Math.min(size, from + c.batchSize()));
                boolean[] mirror = null;
                if (c.mirror()) {
                    mirror = new boolean[idx.length];
                    for (int i = 0; i < idx.length; i++) {
                        mirror[i] = flips.nextBoolean();
                    }
                }
                lr = c.schedule().lr((long) (epoch - 1) * perEpoch + b);
                Stepped o = engine.step(idx, mirror, windows, (float) lr, epoch, b + 1, perEpoch);
                if (!Float.isFinite(o.loss())) {
                    throw diverged(o.loss(), epoch, b + 1, perEpoch, c);
                }
                lossSum += o.loss() * idx.length;
                correct += o.correct();
                if (steps != null) {
                    steps.loss(epoch, b + 1, o.loss());
                    steps.done(epoch, b + 1, perEpoch);
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double[] v = validate ? engine.evaluate() : new double[] {Double.NaN, Double.NaN};
            History.Epoch row = new History.Epoch(epoch, lossSum / size, (double) correct / size, v[0], v[1], lr, size / seconds, seconds);
            history.add(row);
            log.printf(Locale.ROOT, "epoch %d/%d  loss %.4f  acc %.4f%s  %.0f images/s%n", epoch, c.epochs(), row.loss(), row.acc(),
                    !validate ? "" : String.format(Locale.ROOT, "  val_loss %.4f  val_acc %.4f", row.valLoss(), row.valAcc()),
                    row.imagesPerSecond());
            log.flush();
            if (c.out() != null) {
                Checkpoint.save(c.out(), epoch, engine.snapshot(), settings(c));
                history.write(c.out());
            }
            if (!Double.isNaN(row.valLoss())) {
                if (row.valLoss() < best) {
                    best = row.valLoss();
                    since = 0;
                } else if (c.patience() > 0 && ++since >= c.patience()) {
                    log.printf(Locale.ROOT, "early stopping: validation loss has not improved for %d epochs%n", since);
                    break;
                }
            }
        }
    }

    /** The generator of step {@code b}'s Dropout masks: from (seed, epoch, step) only, so a resumed run draws what an uninterrupted one does. */
    static SplittableRandom masks(long seed, int epoch, int b) {
        return new SplittableRandom((seed * 0x9E3779B97F4A7C15L + epoch) * 0xBF58476D1CE4E5B9L + b * 0x94D049BB133111EBL);
    }

    public static Result fit(Graph model, Samples train, Samples val, Config c, PrintWriter log) {
        return fit(model, train, val, c, log, null);
    }

    /** As {@link #fit(Graph, Samples, Samples, Config, PrintWriter)}, telling {@code steps} (may be null) after each step. */
    public static Result fit(Graph model, Samples train, Samples val, Config c, PrintWriter log, Steps steps) {
        return fit(model, train, val, c, log, steps, null);
    }

    /**
     * As above; with {@code workers} (graft's Spark module) the head trains data-parallel over a
     * bottleneck cached on the workers ({@link DataParallel}): only a frozen prefix, no random
     * augmentation, no --resume, BatchNormalization frozen. The caller closes {@code workers}.
     */
    public static Result fit(Graph model, Samples train, Samples val, Config c, PrintWriter log, Steps steps, DataParallel.Workers workers) {
        ShapeInference.run(model);
        int crop = c.crop();
        long[] trShape = train.sampleShape();
        if (workers != null && crop > 0) {
            // refused before any image is touched (the workers' sets may be listed, not decoded)
            return distributed(model, train, val, c, log, steps, workers, List.of());
        }
        if (crop > 0) {
            if (trShape.length != 3) {
                throw new UsageException("--crop " + crop + " (training data): samples of shape " + java.util.Arrays.toString(trShape)
                        + " are not images. Crop only CHW images");
            }
            Crops.requireFits((int) trShape[1], (int) trShape[2], crop);
            trShape = new long[] {trShape[0], crop, crop};
            val = val == null ? null : Crops.centered(val, crop);
        }
        check(model, train, trShape, "training", c.loss());
        if (val != null) {
            check(model, val, val.sampleShape(), "validation", c.loss());
        }
        List<String> trainable = TrainingStep.trainableParams(model);
        if (trainable.isEmpty()) {
            throw new UsageException("model '" + model.name() + "': every layer is frozen, nothing to train. Freeze fewer layers");
        }
        Graph stepModel = model;
        Samples tr = train;
        Samples va = val;
        boolean cached = false;
        if (workers != null) {
            return distributed(model, train, val, c, log, steps, workers, trainable);
        }
        if (c.cache() && !c.mirror() && crop == 0) {
            Optional<Subgraphs.Split> split = Subgraphs.frozenPrefix(model, trainable);
            if (split.isPresent()) {
                Subgraphs.Split s = split.get();
                log.printf(Locale.ROOT, "bottleneck caching: the frozen layers up to '%s' form a prefix; running them once over "
                        + "%d images%n", s.boundary(), train.size() + (val == null ? 0 : val.size()));
                tr = features(s.prefix(), train, c.batchSize(), c.device());
                va = val == null ? null : features(s.prefix(), val, c.batchSize(), c.device());
                stepModel = s.head();
                cached = true;
            }
        }
        if (!cached) {
            String why = crop > 0 && c.mirror() ? "random cropping and random mirroring are on"
                    : crop > 0 ? "random cropping is on" : c.mirror() ? "random mirroring is on" : !c.cache() ? "disabled"
                    : nothingFrozen(model) ? "nothing is frozen"
                    : "the frozen layers do not end in one value between two layers";
            log.println("bottleneck caching: off (" + why + (crop > 0 || c.mirror()
                    ? ": every epoch feeds different pixels" : "") + ")");
        }
        // a channels-last (Keras) input gets its CHW samples as NHWC; cached features go in as they are
        boolean nhwc = !cached && InputLayout.feedsNhwc(stepModel, trShape);
        TrainingStep.Built step = TrainingStep.build(stepModel, new TrainingStep.Spec(c.loss(), c.optimizer(), c.dropout(), false, c.batchNorm()));
        TrainingStep.Built eval = TrainingStep.build(stepModel, new TrainingStep.Spec(c.loss(), c.optimizer(), false, true, c.batchNorm()));
        History history = new History();
        int start = 0;
        try (StepSession s = new StepSession(step, eval, c.device())) {
            if (c.resume() && c.out() != null) {
                Checkpoint.Saved saved = Checkpoint.load(c.out());
                if (saved == null) {
                    throw new UsageException("--resume: no checkpoint in '" + c.out() + "'. Start without --resume");
                }
                s.restore(saved.tensors());
                history = History.read(c.out().resolve("history.json"));
                history.rows().removeIf(r -> r.epoch() > saved.epoch());
                start = saved.epoch();
                log.printf(Locale.ROOT, "resumed from the checkpoint of epoch %d%n", start);
                // a resumed run may change its hyper-parameters (a lower lr is common); it never does so unannounced
                Map<String, String> now = settings(c);
                for (var e : saved.settings().entrySet()) {
                    String v = now.get(e.getKey());
                    if (v != null && !v.equals(e.getValue())) {
                        log.printf(Locale.ROOT, "note: --resume: %s is now '%s'; epochs 1-%d ran with '%s'%n", e.getKey(), v, start,
                                e.getValue());
                    }
                }
            }
            final Samples trSet = tr;
            final Samples vaSet = va;
            final int classes = (int) step.classes();
            Engine engine = new Engine() {
                @Override
                public Stepped step(int[] idx, boolean[] mirror, SplittableRandom windows, float lr, int epoch, int b, int perEpoch) {
                    long[] labels = trSet.labels(idx);
                    StepSession.Out o;
                    if (crop > 0) {
                        long[] full = trSet.sampleShape();
                        Crops w = Crops.random(windows, idx.length, (int) full[1], (int) full[2], crop);
                        o = guarded(s, w.batch(trSet, idx, mirror), new long[] {idx.length, full[0], crop, crop}, nhwc, labels, lr,
                                epoch, b, perEpoch, c);
                    } else {
                        o = guarded(s, trSet.batch(idx, mirror), trSet.batchShape(idx.length), nhwc, labels, lr, epoch, b, perEpoch, c);
                    }
                    return new Stepped(o.loss(), correct(o.logits(), labels, classes));
                }

                @Override
                public double[] evaluate() {
                    return Trainer.evaluate(s, vaSet, c.batchSize(), classes, nhwc);
                }

                @Override
                public Map<String, float[]> snapshot() {
                    return s.snapshot();
                }
            };
            epochs(engine, tr.size(), va != null, c, start, history, log, steps);
            return new Result(s.trained(model), history, cached);
        }
    }

    /** {@link #fit} on data-parallel workers: the checks, the cached bottleneck on the workers, then {@link DataParallel}. */
    private static Result distributed(Graph model, Samples train, Samples val, Config c, PrintWriter log, Steps steps,
                                      DataParallel.Workers workers, List<String> trainable) {
        String refused = c.resume() ? "--resume is not supported" : c.mirror() ? "--mirror turns bottleneck caching off"
                : c.crop() > 0 ? "--crop turns bottleneck caching off" : !c.cache() ? "--no-cache turns bottleneck caching off"
                : c.batchNorm() == TrainingStep.BatchNormMode.TRAIN ? "--bn train needs each whole batch's statistics in one place" : null;
        Optional<Subgraphs.Split> split = refused != null ? Optional.empty() : Subgraphs.frozenPrefix(model, trainable);
        if (refused == null && split.isEmpty()) {
            refused = nothingFrozen(model) ? "nothing is frozen" : "the frozen layers do not end in one value between two layers";
        }
        if (refused != null) {
            throw new UsageException("--spark trains a head over cached bottleneck features (frozen layers up to one value, then the "
                    + "trained head): " + refused + ". Run without --spark, or freeze a prefix (--freeze-upto)");
        }
        Subgraphs.Split s = split.get();
        log.printf(Locale.ROOT, "bottleneck caching: the frozen layers up to '%s' form a prefix; running them once over %d images on the "
                + "workers%n", s.boundary(), train.size() + (val == null ? 0 : val.size()));
        TrainingStep.Built grads = TrainingStep.build(s.head(), TrainingStep.Spec.gradients(c.loss(), c.dropout()));
        TrainingStep.Built eval = TrainingStep.build(s.head(), new TrainingStep.Spec(c.loss(), c.optimizer(), false, true, c.batchNorm()));
        workers.cache(s.prefix(), train, val, grads, eval, c.batchSize());
        return DataParallel.fit(model, s.head(), train, val != null, c, grads, workers, log, steps);
    }

    /**
     * One step; when ONNX Runtime fails on a state that is no longer finite (MaxUnpool cannot
     * use the indices of a NaN plane), the run diverged at that step rather than broke.
     */
    private static StepSession.Out guarded(StepSession s, FloatBuffer nchw, long[] nchwShape, boolean nhwc, long[] labels, float lr,
                                           int epoch, int b, int perEpoch, Config c) {
        FloatBuffer x = nhwc ? InputLayout.toNhwc(nchw, nchwShape) : nchw;
        long[] shape = nhwc ? InputLayout.nhwcShape(nchwShape) : nchwShape;
        try {
            return s.step(x.duplicate(), shape, labels, lr, masks(c.seed(), epoch, b));
        } catch (graft.error.GraftException e) {
            boolean finite = s.finite();
            float loss = Float.NaN;
            if (finite) {
                try {
                    loss = s.evaluate(x.duplicate(), shape, labels).loss();
                } catch (graft.error.GraftException again) {
                    throw e;
                }
            }
            if (!finite || !Float.isFinite(loss)) {
                throw diverged(finite ? loss : Float.NaN, epoch, b, perEpoch, c);
            }
            throw e;
        }
    }

    /** True when every parameter of the model trains (no frozen layer, no lr_mult 0). */
    private static boolean nothingFrozen(Graph model) {
        for (Node n : model.nodes()) {
            for (TrainingStep.Slot sl : TrainingStep.slots(model, n)) {
                if (sl.lrMult() == 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The one line for a non-finite training loss: where, what was kept, and the likely causes. */
    static DivergedException diverged(float loss, int epoch, int step, int perEpoch, Config c) {
        String kept = c.out() == null ? "nothing was written"
                : epoch - 1 > 0 ? "'" + c.out().resolve("checkpoint") + "' keeps epoch " + (epoch - 1) + " (all its losses finite; --resume continues from it)"
                : "no checkpoint was written";
        return new DivergedException(String.format(java.util.Locale.ROOT,
                "training diverged: the loss or the weights are %s at epoch %d, step %d of %d; stopped, no model written, %s. Likely causes: "
                        + "inputs on a scale the model was not trained for (pixels 0..255 where it expects 0..1: pass --scale 1/255, "
                        + "see the preprocessing rule in README) or a learning rate too high for it (lower --lr)",
                Float.isNaN(loss) ? "NaN" : loss > 0 ? "+Inf" : "-Inf", epoch, step, perEpoch, kept));
    }

    /** Loss and accuracy over a whole set with the current parameters. */
    static double[] evaluate(StepSession s, Samples set, int batch, int classes) {
        return evaluate(s, set, batch, classes, false);
    }

    /** As above; {@code nhwc}: the step's input is channels-last, so CHW samples are fed transposed. */
    static double[] evaluate(StepSession s, Samples set, int batch, int classes, boolean nhwc) {
        double loss = 0;
        long correct = 0;
        for (int from = 0; from < set.size(); from += batch) {
            int n = Math.min(batch, set.size() - from);
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) {
                idx[i] = from + i;
            }
            long[] labels = set.labels(idx);
            StepSession.Out o = nhwc ? s.evaluate(InputLayout.toNhwc(set.batch(idx, null), set.batchShape(n)),
                    InputLayout.nhwcShape(set.batchShape(n)), labels) : s.evaluate(set.batch(idx, null), set.batchShape(n), labels);
            loss += o.loss() * n;
            correct += correct(o.logits(), labels, classes);
        }
        return new double[] {loss / set.size(), (double) correct / set.size()};
    }

    /**
     * Correct predictions of a batch: the largest logit, or with one logit (a binary sigmoid
     * head) class 1 when sigmoid(z) > 0.5, i.e. z > 0 (Keras's binary_accuracy threshold).
     */
    public static long correct(float[] logits, long[] labels, int classes) {
        long c = 0;
        if (classes == 1) {
            for (int i = 0; i < labels.length; i++) {
                if ((logits[i] > 0 ? 1 : 0) == labels[i]) {
                    c++;
                }
            }
            return c;
        }
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int k = 1; k < classes; k++) {
                if (logits[i * classes + k] > logits[i * classes + best]) {
                    best = k;
                }
            }
            if (best == labels[i]) {
                c++;
            }
        }
        return c;
    }

    /** Runs a (frozen) prefix over every sample once: the cached bottleneck features. */
    public static Samples features(Graph prefix, Samples set, int batch, Device device) {
        return features(prefix, set, batch, device, null);
    }

    public static Samples features(Graph prefix, Samples set, int batch, Device device, java.util.function.IntConsumer progress) {
        try (OrtRunner r = Sessions.open(prefix, device)) {
            return features(r, prefix.inputs().get(0).name(), prefix.outputs().get(0).name(),
                    InputLayout.feedsNhwc(prefix, set.sampleShape()), set, batch, progress);
        }
    }

    /**
     * As {@link #features(Graph, Samples, int, Device, java.util.function.IntConsumer)} on a session
     * the caller owns (and keeps open: a Spark executor reuses one across its tasks): input
     * {@code in}, output {@code out}, samples fed NHWC when {@code nhwc}, {@code batch} at a time.
     */
    public static Samples features(OrtRunner r, String in, String out, boolean nhwc, Samples set, int batch,
                                   java.util.function.IntConsumer progress) {
        float[] all = null;
        long[] shape = null;
        int stride = 0;
        for (int from = 0; from < set.size(); from += batch) {
            int n = Math.min(batch, set.size() - from);
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) {
                idx[i] = from + i;
            }
            FloatBuffer fb = nhwc ? InputLayout.toNhwc(set.batch(idx, null), set.batchShape(n)) : set.batch(idx, null);
            ByteBuffer bb = ByteBuffer.allocateDirect(fb.remaining() * 4).order(ByteOrder.LITTLE_ENDIAN);
            bb.asFloatBuffer().put(fb);
            long[] shape0 = nhwc ? InputLayout.nhwcShape(set.batchShape(n)) : set.batchShape(n);
            Tensor t = r.run(Map.of(in, new Tensor(DataType.FLOAT, shape0, bb)), List.of(out)).get(out);
            if (all == null) {
                shape = java.util.Arrays.copyOfRange(t.shape(), 1, t.shape().length);
                stride = (int) (t.count() / n);
                all = new float[stride * set.size()];
            }
            t.data().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(all, from * stride, n * stride);
            if (progress != null) {
                progress.accept(from + n);
            }
        }
        return new Samples(all, set.labels(), shape, set.classes());
    }

    /** Fails before training when the data cannot feed the model or its head. */
    /**
     * The loss a head calls for: sigmoid (binary) cross-entropy for a one-output head (Keras's
     * Dense(1, sigmoid) cats-vs-dogs head), softmax cross-entropy otherwise.
     */
    public static Loss lossFor(Graph model) {
        ShapeInference.run(model);
        return headOutputs(model) == 1 ? Loss.SIGMOID_CROSS_ENTROPY : Loss.SOFTMAX_CROSS_ENTROPY;
    }

    /** The fixed width of the model's [N, K] output, else -1. */
    static long headOutputs(Graph model) {
        TensorType out = model.type(model.outputs().get(0).name());
        return out != null && out.shape() != null && out.shape().rank() == 2 && out.shape().dim(1).isFixed() ? out.shape().dim(1).value() : -1;
    }

    static void check(Graph model, Samples set, long[] want, String what, Loss loss) {
        if (set.size() == 0) {
            throw new UsageException(what + " data: holds no samples. Point DATA at a folder with images");
        }
        int[] counts = set.classCounts();
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] == 0) {
                throw new UsageException(what + " data: class '" + set.classes().get(k) + "' has no samples. Add images or "
                        + "remove the class");
            }
        }
        TensorType in = model.type(model.inputs().get(0).name());
        if (InputLayout.feedsNhwc(model, want)) {
            want = new long[] {want[1], want[2], want[0]};
        }
        if (in != null && in.shape() != null) {
            for (int i = 1; i < in.shape().rank(); i++) {
                var d = in.shape().dim(i);
                if (i - 1 >= want.length || (d.isFixed() && d.value() != want[i - 1])) {
                    throw new UsageException(what + " data: samples are " + java.util.Arrays.toString(want) + " but model input '"
                            + model.inputs().get(0).name() + "' is " + in + ". Resize the images (--size), crop them (--crop) or use "
                            + "another model");
                }
            }
        }
        long k = headOutputs(model);
        if (k == 1 && set.classes().size() == 2) {
            if (loss != Loss.SIGMOID_CROSS_ENTROPY) {
                throw new UsageException(what + " data: 2 classes " + set.classes() + " and a one-output head '" + model.outputs().get(0).name()
                        + "': a binary head trains with --loss sigmoid (the default for it)");
            }
            return;
        }
        if (k > 0 && k != set.classes().size()) {
            throw new UsageException(what + " data: " + set.classes().size() + " classes " + set.classes() + " but the head '"
                    + model.outputs().get(0).name() + "' outputs " + k
                    + ". Give the model a head with that many classes (graft surgery set-classes)");
        }
    }

}
