package graft.spark;

import graft.cluster.Cluster;
import graft.data.InputLayout;
import graft.data.Samples;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.train.DataParallel;
import graft.train.Trainer;
import graft.train.TrainingStep;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code graft finetune --spark}: the data-parallel workers of {@link DataParallel}. The samples
 * go out once as contiguous blocks, one per partition: of an image folder only the files (the
 * driver lists it, {@link Samples#listed}: paths and labels in the single-machine order), which
 * each partition decodes itself ({@link Samples#decode}, graft's image path); of arrays (.npy,
 * IDX, in the driver's memory by nature) the values. Each partition runs the frozen prefix over
 * its block with its executor's one ONNX Runtime session and keeps the features in memory
 * (persisted RDD). Every step then
 * ships only the parameters, the global batch's sample positions and its Dropout masks
 * (a broadcast), runs the gradient-only step on each partition's share of the batch, and adds the
 * partitions' sums with {@code treeAggregate}. Nothing is shuffled.
 */
final class SparkWorkers implements DataParallel.Workers {
    private final SparkSession spark;
    private final int partitions;
    private JavaRDD<Block> train;
    private JavaRDD<Block> val;
    private Step gradStep;
    private Step evalStep;
    private final List<Broadcast<?>> shipped = new ArrayList<>();

    /**
     * Samples {@code [offset, offset + labels.length)} of a set: the values ({@code shape} per
     * sample) and their labels; or, for images not yet decoded, their files ({@code x} null).
     */
    record Block(int offset, float[] x, long[] labels, long[] shape, Samples.Listed files) implements Serializable {
        Block(int offset, float[] x, long[] labels, long[] shape) {
            this(offset, x, labels, shape, null);
        }
    }

    /** Images decoded inside Spark tasks in this JVM (a test compares it with all of the JVM's decodes). */
    static final java.util.concurrent.atomic.AtomicLong DECODED_IN_TASKS = new java.util.concurrent.atomic.AtomicLong();

    /** A step graph as the executors run it: its file, input name, parameter names, mask inputs and classes. */
    record Step(ModelRef model, String input, List<String> params, Map<String, long[]> shapes, List<String> masks, List<long[]> maskShapes,
                int classes, boolean eval) implements Serializable {
        static Step of(ModelRef model, TrainingStep.Built b, boolean eval) {
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (graft.ir.Value v : b.graph().inputs()) {
                if (b.params().contains(v.name())) {
                    shapes.put(v.name(), v.type().shape().toArray());
                }
            }
            return new Step(model, b.input(), List.copyOf(b.params()), shapes, b.masks().stream().map(m -> m.input()).toList(),
                    b.masks().stream().map(m -> m.sampleShape()).toList(), (int) b.classes(), eval);
        }
    }

    /** What one step sends to every partition. */
    record Batch(Map<String, float[]> params, int[] idx, List<float[]> masks) implements Serializable {
    }

    SparkWorkers(Cluster.Settings settings) {
        this.spark = Sessions.start("graft finetune", settings);
        int p = settings.partitions();
        this.partitions = p > 0 ? p : spark.sparkContext().defaultParallelism();
    }

    @Override
    public void cache(Graph prefix, Samples trainSet, Samples valSet, TrainingStep.Built gradients, TrainingStep.Built eval, int batch) {
        ModelRef prefixRef = ModelRef.ship(spark, prefix);
        gradStep = Step.of(ModelRef.ship(spark, gradients.graph()), gradients, false);
        evalStep = Step.of(ModelRef.ship(spark, eval.graph()), eval, true);
        String in = prefix.inputs().get(0).name();
        String out = prefix.outputs().get(0).name();
        boolean nhwc = InputLayout.feedsNhwc(prefix, trainSet.sampleShape());
        train = features(trainSet, prefixRef, in, out, nhwc, batch);
        val = valSet == null ? null : features(valSet, prefixRef, in, out, nhwc, batch);
    }

    /** The set as one block per partition, run through the prefix on the executors and kept there. */
    private JavaRDD<Block> features(Samples set, ModelRef prefix, String in, String out, boolean nhwc, int batch) {
        JavaRDD<Block> rdd = bottlenecks(spark, set, partitions, prefix, in, out, nhwc, batch).persist(StorageLevel.MEMORY_ONLY());
        try {
            rdd.count();
        } catch (Exception e) {
            throw Sessions.unwrap(e);
        }
        return rdd;
    }

    /**
     * {@code set} cut into {@code partitions} contiguous blocks, each run through the prefix on an
     * executor ({@link #bottleneck}), lazily: the blocks of features, in order of {@code offset}.
     */
    static JavaRDD<Block> bottlenecks(SparkSession spark, Samples set, int partitions, ModelRef prefix, String in, String out, boolean nhwc,
                                      int batch) {
        List<Block> blocks = new ArrayList<>();
        int per = (set.size() + partitions - 1) / partitions;
        for (int from = 0; from < set.size(); from += per) {
            int n = Math.min(per, set.size() - from);
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) {
                idx[i] = from + i;
            }
            if (set.listed() != null) {
                // an image folder: the block's files only, decoded on its executor
                blocks.add(new Block(from, null, set.labels(idx), set.sampleShape(), set.subset(idx).listed()));
                continue;
            }
            java.nio.FloatBuffer fb = set.batch(idx, null);
            float[] x = new float[fb.remaining()];
            fb.get(x);
            blocks.add(new Block(from, x, set.labels(idx), set.sampleShape()));
        }
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(blocks, Math.max(1, blocks.size()))
                .map(b -> bottleneck(b, prefix, in, out, nhwc, batch));
    }

    /** On an executor: the prefix over a block, {@code batch} samples at a time, with this JVM's one session of it. */
    static Block bottleneck(Block b, ModelRef prefix, String in, String out, boolean nhwc, int batch) {
        Samples s;
        if (b.files() != null) {
            s = Samples.listed(b.files().files(), b.labels(), b.files().shape(), List.of()).decode(0, b.labels().length);
            if (org.apache.spark.TaskContext.get() != null) {
                DECODED_IN_TASKS.addAndGet(b.labels().length);
            }
        } else {
            s = new Samples(b.x(), b.labels(), b.shape(), List.of());
        }
        Samples f = Trainer.features(ExecutorModels.session(prefix.local()), in, out, nhwc, s, batch, null);
        java.nio.FloatBuffer fb = f.batch(range(f.size()), null);
        float[] x = new float[fb.remaining()];
        fb.get(x);
        return new Block(b.offset(), x, b.labels(), f.sampleShape());
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    @Override
    public DataParallel.Sums gradients(Map<String, float[]> params, int[] idx, List<float[]> masks) {
        return aggregate(train, gradStep, new Batch(params, idx, masks));
    }

    @Override
    public DataParallel.Sums evaluate(Map<String, float[]> params) {
        return aggregate(val, evalStep, new Batch(params, null, List.of()));
    }

    private DataParallel.Sums aggregate(JavaRDD<Block> set, Step step, Batch batch) {
        Broadcast<Batch> b = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(batch);
        try {
            return set.treeAggregate(new DataParallel.Sums(), (acc, block) -> acc.add(run(block, step, b.value())),
                    DataParallel.Sums::add, 2);
        } catch (Exception e) {
            throw Sessions.unwrap(e);
        } finally {
            b.destroy();
        }
    }

    /**
     * On an executor: the step over the samples of {@code block} in the batch (all of them for an
     * evaluation, in one run), their sums. A block with none of the batch adds nothing.
     */
    static DataParallel.Sums run(Block block, Step step, Batch batch) {
        int n = block.labels().length;
        int per = (int) graft.ir.Shape.elementCount(block.shape());
        List<Integer> rows = new ArrayList<>(); // positions in the global batch
        List<Integer> local = new ArrayList<>(); // positions in this block
        if (batch.idx() == null) {
            for (int i = 0; i < n; i++) {
                rows.add(i);
                local.add(i);
            }
        } else {
            for (int j = 0; j < batch.idx().length; j++) {
                int i = batch.idx()[j] - block.offset();
                if (i >= 0 && i < n) {
                    rows.add(j);
                    local.add(i);
                }
            }
        }
        DataParallel.Sums s = new DataParallel.Sums();
        // a gradient pass runs its share of the global batch at once; an evaluation its block EVAL_ROWS at a time
        int chunk = step.eval() ? EVAL_ROWS : Math.max(1, rows.size());
        for (int from = 0; from < rows.size(); from += chunk) {
            int to = Math.min(rows.size(), from + chunk);
            s.add(run(block, step, batch, rows.subList(from, to), local.subList(from, to)));
        }
        return s;
    }

    /** Rows per evaluation run on an executor. */
    static final int EVAL_ROWS = 256;

    private static DataParallel.Sums run(Block block, Step step, Batch batch, List<Integer> rows, List<Integer> local) {
        int per = (int) graft.ir.Shape.elementCount(block.shape());
        DataParallel.Sums s = new DataParallel.Sums();
        int k = rows.size();
        float[] x = new float[k * per];
        long[] labels = new long[k];
        for (int r = 0; r < k; r++) {
            System.arraycopy(block.x(), local.get(r) * per, x, r * per, per);
            labels[r] = block.labels()[local.get(r)];
        }
        long[] xShape = new long[block.shape().length + 1];
        xShape[0] = k;
        System.arraycopy(block.shape(), 0, xShape, 1, block.shape().length);
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        feeds.put(step.input(), Tensor.ofFloats(xShape, x));
        ByteBuffer lb = ByteBuffer.allocateDirect(k * 8).order(ByteOrder.nativeOrder());
        lb.asLongBuffer().put(labels);
        feeds.put(TrainingStep.LABELS, new Tensor(DataType.INT64, new long[] {k}, lb));
        for (var p : batch.params().entrySet()) {
            feeds.put(p.getKey(), Tensor.ofFloats(step.shapes().get(p.getKey()), p.getValue()));
        }
        for (int m = 0; m < step.masks().size(); m++) {
            long[] ms = step.maskShapes().get(m);
            int mper = (int) graft.ir.Shape.elementCount(ms);
            float[] all = batch.masks().get(m);
            float[] mine = new float[k * mper];
            for (int r = 0; r < k; r++) {
                System.arraycopy(all, rows.get(r) * mper, mine, r * mper, mper);
            }
            long[] shape = new long[ms.length + 1];
            shape[0] = k;
            System.arraycopy(ms, 0, shape, 1, ms.length);
            feeds.put(step.masks().get(m), Tensor.ofFloats(shape, mine));
        }
        List<String> wanted = new ArrayList<>(List.of(TrainingStep.LOSS, TrainingStep.LOGITS));
        if (!step.eval()) {
            step.params().forEach(p -> wanted.add(p + TrainingStep.GRAD));
        }
        Map<String, Tensor> out = ExecutorModels.session(step.model().local()).run(feeds, wanted);
        float loss = out.get(TrainingStep.LOSS).toFloats()[0];
        // the evaluation graph reports the mean (as one machine's evaluate): its sum is mean * count
        s.loss = step.eval() ? (double) loss * k : loss;
        s.correct = Trainer.correct(out.get(TrainingStep.LOGITS).toFloats(), labels, step.classes());
        s.count = k;
        if (!step.eval()) {
            s.grads = new double[step.params().size()][];
            for (int i = 0; i < step.params().size(); i++) {
                float[] g = out.get(step.params().get(i) + TrainingStep.GRAD).toFloats();
                double[] d = new double[g.length];
                for (int q = 0; q < g.length; q++) {
                    d[q] = g[q];
                }
                s.grads[i] = d;
            }
        }
        return s;
    }

    @Override
    public void close() {
        spark.stop();
    }
}
