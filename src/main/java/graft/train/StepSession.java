package graft.train;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import graft.error.RuntimeFailureException;
import graft.error.UsageException;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Shape;
import graft.ir.Weight;
import graft.ir.WeightData;
import graft.onnx.OnnxExporter;
import graft.runtime.Device;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs training-step graphs in ONNX Runtime with the parameters and optimizer state kept as
 * ONNX Runtime tensors between steps: each step's outputs are fed to the next step as inputs,
 * with no copy through Java. The {@link OrtSession.Result} that owns the current state stays
 * open until the following step has replaced it. Only the loss and the logits are copied out.
 *
 * <p>Not thread-safe. Close it to free native memory.
 */
public final class StepSession implements AutoCloseable {
    private final OrtEnvironment env = graft.runtime.OrtRunner.environment();
    private final TrainingStep.Built train;
    private final TrainingStep.Built eval;
    private final OrtSession trainSession;
    private final OrtSession evalSession;
    private final Map<String, OnnxTensor> state = new LinkedHashMap<>();
    private final List<OnnxTensor> ownedInitial = new ArrayList<>();
    private OrtSession.Result last;
    private long steps;

    /** The loss of a batch and its logits (row-major [N, classes]). */
    public record Out(float loss, float[] logits) {
    }

    public StepSession(TrainingStep.Built train, TrainingStep.Built eval, Device device) {
        this.train = train;
        this.eval = eval;
        this.trainSession = open(train.graph(), device);
        this.evalSession = eval == null ? null : open(eval.graph(), device);
        try {
            for (TrainingStep.Carried c : train.carried()) {
                OnnxTensor t = c.initial() != null ? floats(c.initial().buffer(), c.shape()) : zeros(c.shape());
                ownedInitial.add(t);
                state.put(c.input(), t);
            }
        } catch (OrtException ex) {
            close();
            throw new RuntimeFailureException("ONNX Runtime: cannot create the training state: " + ex.getMessage(), ex);
        }
    }

    private OrtSession open(Graph g, Device device) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("graft-step");
            Path file = dir.resolve("step.onnx");
            OnnxExporter.write(g, file, new OnnxExporter.Settings(17, OnnxExporter.ExternalData.ALWAYS, true, List.of()));
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                if (device == Device.CUDA) {
                    try {
                        o.addCUDA(0);
                    } catch (OrtException | UnsatisfiedLinkError | IllegalArgumentException e) {
                        throw new UsageException("--device cuda: this build of graft has no CUDA provider; rebuild with "
                                + "'mvn -Pcuda package' on a machine with CUDA");
                    }
                }
                String profile = System.getenv("GRAFT_ORT_PROFILE");
                if (profile != null && !profile.isEmpty()) {
                    // Per-node timings (ONNX Runtime's JSON trace) for bench/profiling; off by default.
                    o.enableProfiling(profile);
                }
                return env.createSession(file.toString(), o);
            }
        } catch (IOException | OrtException e) {
            throw new RuntimeFailureException("ONNX Runtime cannot open the training step of '" + g.name() + "': "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
        } finally {
            delete(dir);
        }
    }

    /** One training step on a batch; returns its loss and logits (before the update). */
    public Out step(FloatBuffer x, long[] xShape, long[] labels, float lr) {
        return step(x, xShape, labels, lr, null);
    }

    /**
     * One training step; {@code masks} draws the step's Dropout masks (see
     * {@link TrainingStep.Built#masks}): null draws them from an unseeded generator.
     */
    public Out step(FloatBuffer x, long[] xShape, long[] labels, float lr, java.util.SplittableRandom masks) {
        List<OnnxTensor> maskTensors = new ArrayList<>();
        try {
            java.util.SplittableRandom r = masks != null ? masks : new java.util.SplittableRandom();
            for (Autodiff.Mask m : train.masks()) {
                long[] shape = new long[m.sampleShape().length + 1];
                shape[0] = xShape[0];
                System.arraycopy(m.sampleShape(), 0, shape, 1, m.sampleShape().length);
                float[] v = mask(m, (int) xShape[0], r);
                FloatBuffer b = ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
                b.put(v).flip();
                maskTensors.add(OnnxTensor.createTensor(env, b, shape));
            }
        } catch (OrtException e) {
            maskTensors.forEach(OnnxTensor::close);
            throw new RuntimeFailureException("ONNX Runtime: cannot create the dropout masks: " + e.getMessage(), e);
        }
        try (OnnxTensor xt = OnnxTensor.createTensor(env, direct(x), xShape);
             OnnxTensor lt = OnnxTensor.createTensor(env, longs(labels), new long[] {labels.length});
             OnnxTensor lrt = OnnxTensor.createTensor(env, direct(FloatBuffer.wrap(new float[] {lr})), new long[0])) {
            Map<String, OnnxTensor> feeds = new LinkedHashMap<>(state);
            feeds.put(train.input(), xt);
            feeds.put(TrainingStep.LABELS, lt);
            feeds.put(TrainingStep.LR, lrt);
            for (int i = 0; i < maskTensors.size(); i++) {
                feeds.put(train.masks().get(i).input(), maskTensors.get(i));
            }
            OrtSession.Result r = trainSession.run(feeds);
            Map<String, OnnxTensor> next = new LinkedHashMap<>();
            for (TrainingStep.Carried c : train.carried()) {
                next.put(c.input(), (OnnxTensor) r.get(c.output()).orElseThrow());
            }
            Out out = out(r);
            // The old state is no longer referenced: release it only now.
            releaseState();
            state.putAll(next);
            last = r;
            steps++;
            return out;
        } catch (OrtException e) {
            throw new RuntimeFailureException("ONNX Runtime failed in training step " + (steps + 1) + ": "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
        } finally {
            maskTensors.forEach(OnnxTensor::close);
        }
    }

    /**
     * The Dropout mask {@code m} for a batch of {@code rows} samples, row-major: 0 where dropped,
     * 1/(1-ratio) where kept, drawn from {@code r} in that order (the step's masks are drawn one
     * after the other from one generator, so a data-parallel driver draws the same ones).
     */
    public static float[] mask(Autodiff.Mask m, int rows, java.util.SplittableRandom r) {
        long[] shape = new long[m.sampleShape().length + 1];
        shape[0] = rows;
        System.arraycopy(m.sampleShape(), 0, shape, 1, m.sampleShape().length);
        float[] v = new float[(int) Shape.elementCount(shape)];
        float keep = (float) (1 / (1 - m.ratio()));
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble() < m.ratio() ? 0f : keep;
        }
        return v;
    }

    /** Loss and logits of a batch with the current parameters, no update (dropout off). */
    public Out evaluate(FloatBuffer x, long[] xShape, long[] labels) {
        if (evalSession == null) {
            throw new IllegalStateException("no evaluation graph");
        }
        try (OnnxTensor xt = OnnxTensor.createTensor(env, direct(x), xShape);
             OnnxTensor lt = OnnxTensor.createTensor(env, longs(labels), new long[] {labels.length})) {
            Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
            for (String p : eval.params()) {
                feeds.put(p, state.get(p));
            }
            feeds.put(eval.input(), xt);
            feeds.put(TrainingStep.LABELS, lt);
            try (OrtSession.Result r = evalSession.run(feeds)) {
                return out(r);
            }
        } catch (OrtException e) {
            throw new RuntimeFailureException("ONNX Runtime failed to evaluate: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
        }
    }

    private static Out out(OrtSession.Result r) throws OrtException {
        float loss = ((OnnxTensor) r.get(TrainingStep.LOSS).orElseThrow()).getFloatBuffer().get(0);
        FloatBuffer lb = ((OnnxTensor) r.get(TrainingStep.LOGITS).orElseThrow()).getFloatBuffer();
        float[] logits = new float[lb.remaining()];
        lb.get(logits);
        return new Out(loss, logits);
    }

    /** True when every carried tensor (parameters and optimizer state) holds only finite values. */
    public boolean finite() {
        for (OnnxTensor t : state.values()) {
            FloatBuffer b = t.getFloatBuffer();
            while (b.hasRemaining()) {
                if (!Float.isFinite(b.get())) {
                    return false;
                }
            }
        }
        return true;
    }

    /** A copy of every carried tensor (parameters and optimizer state), for checkpoints. */
    public Map<String, float[]> snapshot() {
        Map<String, float[]> r = new LinkedHashMap<>();
        for (var e : state.entrySet()) {
            FloatBuffer b = e.getValue().getFloatBuffer();
            float[] a = new float[b.remaining()];
            b.get(a);
            r.put(e.getKey(), a);
        }
        return r;
    }

    /** Replaces the carried tensors with saved values (resume); names must match. */
    public void restore(Map<String, float[]> saved) {
        java.util.Set<String> extra = new java.util.LinkedHashSet<>(saved.keySet());
        java.util.Set<String> missing = new java.util.LinkedHashSet<>();
        for (TrainingStep.Carried c : train.carried()) {
            extra.remove(c.input());
            if (!saved.containsKey(c.input())) {
                missing.add(c.input());
            }
        }
        if (!extra.isEmpty() || !missing.isEmpty()) {
            // a checkpoint of other trained tensors would be silently half-used: its extra tensors dropped, the model's kept
            throw new UsageException("--resume: the checkpoint does not match this run: " + (extra.isEmpty() ? ""
                    : "it trained " + names(extra) + " which this run " + "does not train") + (extra.isEmpty() || missing.isEmpty() ? "" : "; ")
                    + (missing.isEmpty() ? "" : "this run trains " + names(missing) + " which it does not hold")
                    + ". Resume with the same model, --recipe, --freeze-upto and --optimizer, or start in a new OUT");
        }
        try {
            Map<String, OnnxTensor> next = new LinkedHashMap<>();
            for (TrainingStep.Carried c : train.carried()) {
                float[] v = saved.get(c.input());
                if (v == null || v.length != Shape.elementCount(c.shape())) {
                    throw new UsageException("checkpoint: tensor '" + c.input() + "' is missing or has the wrong size. "
                            + "Resume with the same model, optimizer and --freeze-upto");
                }
                OnnxTensor t = OnnxTensor.createTensor(env, direct(FloatBuffer.wrap(v)), c.shape());
                ownedInitial.add(t);
                next.put(c.input(), t);
            }
            releaseState();
            state.putAll(next);
        } catch (OrtException e) {
            throw new RuntimeFailureException("ONNX Runtime: cannot restore the checkpoint: " + e.getMessage(), e);
        }
    }

    private static String names(java.util.Set<String> n) {
        List<String> l = new ArrayList<>(n);
        String head = l.subList(0, Math.min(3, l.size())).stream().map(x -> "'" + x + "'").reduce((a, b) -> a + ", " + b).orElse("");
        return l.size() + " tensor(s) (" + head + (l.size() > 3 ? ", ..." : "") + ")";
    }

    /** The model with its trained parameters replaced by their current values (copies them). */
    public Graph trained(Graph model) {
        List<String> trainedNames = new ArrayList<>(train.params());
        trainedNames.addAll(train.statistics());
        for (String p : trainedNames) {
            FloatBuffer b = state.get(p).getFloatBuffer();
            ByteBuffer bb = ByteBuffer.allocateDirect(b.remaining() * 4).order(ByteOrder.LITTLE_ENDIAN);
            bb.asFloatBuffer().put(b);
            Weight old = model.initializer(p);
            model.addInitializer(new Weight(p, DataType.FLOAT, old.shape(), WeightData.of(bb)));
        }
        return model;
    }

    public long steps() {
        return steps;
    }

    private void releaseState() {
        if (last != null) {
            last.close();
            last = null;
        }
        for (OnnxTensor t : ownedInitial) {
            if (state.containsValue(t)) {
                t.close();
            }
        }
        ownedInitial.removeIf(OnnxTensor::isClosed);
        state.clear();
    }

    private OnnxTensor floats(ByteBuffer src, long[] shape) throws OrtException {
        ByteBuffer d = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
        d.asFloatBuffer().put(src.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
        return OnnxTensor.createTensor(env, d.asFloatBuffer(), shape);
    }

    private OnnxTensor zeros(long[] shape) throws OrtException {
        ByteBuffer d = ByteBuffer.allocateDirect((int) Shape.elementCount(shape) * 4).order(ByteOrder.nativeOrder());
        return OnnxTensor.createTensor(env, d.asFloatBuffer(), shape);
    }

    private static FloatBuffer direct(FloatBuffer b) {
        if (b.isDirect()) {
            return b;
        }
        FloatBuffer d = ByteBuffer.allocateDirect(b.remaining() * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        d.put(b.duplicate()).flip();
        return d;
    }

    private static LongBuffer longs(long[] v) {
        LongBuffer d = ByteBuffer.allocateDirect(v.length * 8).order(ByteOrder.nativeOrder()).asLongBuffer();
        d.put(v).flip();
        return d;
    }

    private static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // temporary files: the OS cleans them eventually
        }
    }

    @Override
    public void close() {
        releaseState();
        ownedInitial.forEach(OnnxTensor::close);
        try {
            String profile = System.getenv("GRAFT_ORT_PROFILE");
            if (profile != null && !profile.isEmpty()) {
                trainSession.endProfiling();
            }
            trainSession.close();
            if (evalSession != null) {
                evalSession.close();
            }
        } catch (OrtException e) {
            // closing cannot fail in a way the caller can act on
        }
    }

}
