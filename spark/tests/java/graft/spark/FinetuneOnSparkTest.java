package graft.spark;

import static org.assertj.core.api.Assertions.assertThat;

import graft.cluster.Cluster;
import graft.data.Idx;
import graft.data.Samples;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Weight;
import graft.runtime.Device;
import graft.train.Optimizer;
import graft.train.Schedule;
import graft.train.Trainer;
import graft.train.TrainingStep;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code finetune --spark} against single-machine finetune: the transfer study's set-up (the
 * Fashion-MNIST source model frozen up to block2's pool, its head trained on classes 5-9), 500
 * training and 100 validation images, global batch 50, 2 epochs = 20 steps, on Spark local[2]
 * with 4 partitions (each step's 50 samples spread over the 4 blocks of 125). Both runs are
 * {@link Trainer#fit}: one with its single-machine step session, one with {@link SparkWorkers}.
 * The 20 step losses, the 2 validation losses and every trained parameter agree within 1e-6
 * relative, for SGD with momentum and for Adam.
 */
class FinetuneOnSparkTest {
    static final String BOUNDARY = "/block2/block2.4/MaxPool";
    static final double TOLERANCE = 1e-6;
    static Path model;
    static Samples train;
    static Samples val;

    @BeforeAll
    static void data() throws Exception {
        model = Fixtures.sourceModel();
        Samples t = scaled(Idx.read(Fixtures.FASHION, "t10k").selectClasses(new long[] {5, 6, 7, 8, 9}, 120, 7));
        Samples[] s = t.split(100.0 / 600, 7);
        train = s[0];
        val = s[1];
        assertThat(train.size()).isEqualTo(500);
        assertThat(val.size()).isEqualTo(100);
    }

    /** Pixels / 255, as the source model was trained (the CLI's --scale 1/255). */
    static Samples scaled(Samples s) {
        int[] all = new int[s.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        java.nio.FloatBuffer b = s.batch(all, null);
        float[] x = new float[b.remaining()];
        b.get(x);
        for (int i = 0; i < x.length; i++) {
            x[i] /= 255f;
        }
        return new Samples(x, s.labels(), s.sampleShape(), s.classes());
    }

    record Run(List<Float> losses, List<Double> valLosses, Graph model, String log) {
    }

    static Run fit(Optimizer opt, double lr, Cluster.Settings spark) {
        Graph g = new graft.onnx.OnnxFormat().read(model, Options.none());
        new graft.surgery.Freeze(new graft.surgery.LayerRange(".." + BOUNDARY)).apply(g);
        Trainer.Config c = new Trainer.Config(2, 50, opt, Schedule.parse("fixed", lr), Trainer.lossFor(g), true, false, 42, 0, null, false,
                Device.CPU, true, 0);
        List<Float> losses = new ArrayList<>();
        Trainer.Steps steps = new Trainer.Steps() {
            @Override
            public void done(int epoch, int step, int perEpoch) {
            }

            @Override
            public void loss(int epoch, int step, float loss) {
                losses.add(loss);
            }
        };
        StringWriter log = new StringWriter();
        Trainer.Result r;
        if (spark == null) {
            r = Trainer.fit(g, train, val, c, new PrintWriter(log, true), steps);
        } else {
            try (var w = new SparkCluster().workers(spark)) {
                r = Trainer.fit(g, train, val, c, new PrintWriter(log, true), steps, w);
            }
        }
        assertThat(r.cached()).isTrue();
        List<Double> v = r.history().rows().stream().map(e -> e.valLoss()).toList();
        return new Run(losses, v, r.model(), log.toString());
    }

    static void sameTraining(Optimizer opt, double lr) {
        Run one = fit(opt, lr, null);
        Run spark = fit(opt, lr, new Cluster.Settings("local[2]", 4, false));
        assertThat(spark.log()).contains("on the workers");
        assertThat(one.losses()).hasSize(20);
        assertThat(spark.losses()).hasSize(20);
        double worstLoss = 0;
        for (int i = 0; i < 20; i++) {
            worstLoss = Math.max(worstLoss, Math.abs(spark.losses().get(i) - one.losses().get(i)) / Math.abs(one.losses().get(i)));
        }
        double worstVal = 0;
        for (int i = 0; i < 2; i++) {
            worstVal = Math.max(worstVal, Math.abs(spark.valLosses().get(i) - one.valLosses().get(i)) / Math.abs(one.valLosses().get(i)));
        }
        // the source's head moved: the comparison is of trained values, not of the initial ones
        Graph initial = new graft.onnx.OnnxFormat().read(model, Options.none());
        double worstParam = 0;
        double moved = 0;
        List<String> params = TrainingStep.trainableParams(one.model());
        assertThat(params).isNotEmpty();
        for (String p : params) {
            float[] a = one.model().initializer(p).toFloats();
            float[] b = spark.model().initializer(p).toFloats();
            float[] init = initial.initializer(p).toFloats();
            double max = 0;
            double diff = 0;
            double move = 0;
            for (int k = 0; k < a.length; k++) {
                max = Math.max(max, Math.abs(a[k]));
                diff = Math.max(diff, Math.abs(a[k] - b[k]));
                move = Math.max(move, Math.abs(a[k] - init[k]));
            }
            worstParam = Math.max(worstParam, diff / max);
            moved = Math.max(moved, move / max);
        }
        // frozen weights are untouched by both
        for (Weight w : one.model().initializers().values()) {
            if (!params.contains(w.name()) && w.dtype() == graft.ir.DataType.FLOAT) {
                assertThat(spark.model().initializer(w.name()).toFloats()).isEqualTo(w.toFloats());
            }
        }
        System.out.printf(Locale.ROOT, "finetune --spark %s: 20 step losses %.4f..%.4f, worst relative difference: loss %.3g, val loss %.3g, "
                        + "parameter (max |diff| / max |value| per tensor) %.3g; parameters moved up to %.3g relative%n", opt.describe(),
                one.losses().get(0), one.losses().get(19), worstLoss, worstVal, worstParam, moved);
        assertThat(moved).as("training moved the head").isGreaterThan(1e-3);
        assertThat(worstLoss).isLessThanOrEqualTo(TOLERANCE);
        assertThat(worstVal).isLessThanOrEqualTo(TOLERANCE);
        assertThat(worstParam).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void sgdWithMomentumOnFourPartitionsEqualsOneMachine() {
        sameTraining(Optimizer.sgd(0.9, false, 0), 0.01);
    }

    @Test
    void adamOnFourPartitionsEqualsOneMachine() {
        sameTraining(Optimizer.adam(0.9, 0.999, 1e-7, 0), 1e-3);
    }

    /**
     * The command line: {@code graft finetune --spark} writes the model and history that
     * single-machine finetune writes (PNG class folders, classes 5-9 of 10, 160 training and 40
     * validation images, batch 16, 2 epochs = 20 steps; a recipe's new head with Dropout 0.5 on the
     * frozen base), within 1e-6 relative, with the images decoded on the executors (the driver only
     * lists the folder: it decodes none); without a frozen prefix, or with --crop, it is one line, exit 2.
     */
    @Test
    void theCommandWritesWhatOneMachineWrites() throws Exception {
        Path dir = Fixtures.scratch("finetune");
        Path pngs = Fixtures.pngFolders(dir.resolve("pngs"), 40);
        // a new head with Dropout (its masks drawn on the driver, split by row over the partitions), the base frozen
        Path recipe = dir.resolve("head.yaml");
        java.nio.file.Files.writeString(recipe, "edits:\n  - \"cut-after " + BOUNDARY + "\"\n"
                + "  - attach-head flatten, dense 32 relu, dropout 0.5, dense 5 softmax --seed 1\n  - \"freeze .." + BOUNDARY + "\"\n");
        List<String> common = List.of("finetune", model.toString(), pngs.toString(), "--classes", "5-9", "--scale", "1/255",
                "--epochs", "2", "--batch-size", "16", "--val-fraction", "0.2", "--optimizer", "sgd", "--momentum", "0.9",
                "--lr", "0.01", "--quiet", "--seed", "3");
        List<String> a = new ArrayList<>(common);
        a.addAll(List.of("--recipe", recipe.toString(), "-o", dir.resolve("one").toString()));
        long decoded = graft.data.ImageFolder.decoded();
        FeaturesOnSparkTest.Run one = FeaturesOnSparkTest.graft(a.toArray(String[]::new));
        assertThat(one.code()).as(one.err()).isEqualTo(0);
        // one machine decodes all 10 class folders (400 images) before --classes keeps 5 of them
        assertThat(graft.data.ImageFolder.decoded() - decoded).as("one machine decodes each of the 400 images").isEqualTo(400);
        List<String> b = new ArrayList<>(common);
        b.addAll(List.of("--recipe", recipe.toString(), "-o", dir.resolve("spark").toString(), "--spark", "--master", "local[2]",
                "--partitions", "4"));
        // local[2] runs the driver and the executor in this JVM: every decode of the run (the JVM's count)
        // must be one made inside a Spark task, i.e. none on the driver
        decoded = graft.data.ImageFolder.decoded();
        long inTasks = SparkWorkers.DECODED_IN_TASKS.get();
        FeaturesOnSparkTest.Run spark = FeaturesOnSparkTest.graft(b.toArray(String[]::new));
        assertThat(spark.code()).as(spark.err()).isEqualTo(0);
        long all = graft.data.ImageFolder.decoded() - decoded;
        long executors = SparkWorkers.DECODED_IN_TASKS.get() - inTasks;
        System.out.printf(Locale.ROOT, "finetune --spark (command line): %d decodes in the JVM, %d of them inside Spark tasks%n", all,
                executors);
        // the driver lists all 10 folders; only the 200 images of classes 5-9 are decoded, on the executors
        assertThat(executors).as("the 200 images of classes 5-9 decoded on the executors, once each").isEqualTo(200);
        assertThat(all).as("decodes on the driver: none").isEqualTo(executors);
        assertThat(spark.out()).contains("training on 160 samples of 5 classes, validating on 40").contains("on the workers");
        Graph m1 = new graft.onnx.OnnxFormat().read(dir.resolve("one/model.onnx"), Options.none());
        Graph m2 = new graft.onnx.OnnxFormat().read(dir.resolve("spark/model.onnx"), Options.none());
        double worst = 0;
        for (Weight w : m1.initializers().values()) {
            if (w.dtype() != graft.ir.DataType.FLOAT) {
                continue;
            }
            float[] x = w.toFloats();
            float[] y = m2.initializer(w.name()).toFloats();
            double max = 0;
            double diff = 0;
            for (int k = 0; k < x.length; k++) {
                max = Math.max(max, Math.abs(x[k]));
                diff = Math.max(diff, Math.abs(x[k] - y[k]));
            }
            worst = Math.max(worst, max == 0 ? diff : diff / max);
        }
        List<String> h1 = java.nio.file.Files.readAllLines(dir.resolve("one/history.csv"));
        List<String> h2 = java.nio.file.Files.readAllLines(dir.resolve("spark/history.csv"));
        assertThat(h2).hasSameSizeAs(h1).hasSize(3);
        double worstLoss = 0;
        for (int i = 1; i < h1.size(); i++) {
            String[] r1 = h1.get(i).split(",");
            String[] r2 = h2.get(i).split(",");
            for (int col : new int[] {1, 3}) { // loss, val_loss
                double x = Double.parseDouble(r1[col]);
                worstLoss = Math.max(worstLoss, Math.abs(Double.parseDouble(r2[col]) - x) / Math.abs(x));
            }
        }
        System.out.printf(Locale.ROOT, "finetune --spark (command line): worst relative difference: weights %.3g, epoch losses %.3g (%s)%n", worst,
                worstLoss, h1.get(0));
        assertThat(worst).isLessThanOrEqualTo(TOLERANCE);
        assertThat(worstLoss).isLessThanOrEqualTo(TOLERANCE);

        List<String> c = new ArrayList<>(common);
        c.addAll(List.of("-o", dir.resolve("refused").toString(), "--spark", "--master", "local[1]"));
        FeaturesOnSparkTest.Run refused = FeaturesOnSparkTest.graft(c.toArray(String[]::new));
        assertThat(refused.code()).as(refused.err()).isEqualTo(2);
        assertThat(refused.err().strip().lines().count()).as(refused.err()).isEqualTo(1);
        assertThat(refused.err()).contains("--spark trains a head over cached bottleneck features").contains("nothing is frozen");

        // --crop: refused before any image is touched (the driver's sets are listed, not decoded)
        List<String> d = new ArrayList<>(common);
        d.addAll(List.of("--recipe", recipe.toString(), "--crop", "24", "-o", dir.resolve("cropped").toString(), "--spark", "--master",
                "local[1]"));
        FeaturesOnSparkTest.Run cropped = FeaturesOnSparkTest.graft(d.toArray(String[]::new));
        assertThat(cropped.code()).as(cropped.err()).isEqualTo(2);
        assertThat(cropped.err().strip().lines().count()).as(cropped.err()).isEqualTo(1);
        assertThat(cropped.err()).contains("--crop turns bottleneck caching off");

        // an image that does not decode: on the executor, the same exit code as one machine's load, one line naming the file
        Path broken = dir.resolve("broken");
        for (Path f : java.nio.file.Files.walk(pngs).filter(java.nio.file.Files::isRegularFile).toList()) {
            Path t = broken.resolve(pngs.relativize(f));
            java.nio.file.Files.createDirectories(t.getParent());
            java.nio.file.Files.copy(f, t);
        }
        Path bad = broken.resolve("class7").resolve("99999.png");
        java.nio.file.Files.write(bad, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        List<String> e1 = new ArrayList<>(common);
        e1.set(2, broken.toString());
        e1.addAll(List.of("--recipe", recipe.toString(), "-o", dir.resolve("broken-one").toString()));
        FeaturesOnSparkTest.Run badOne = FeaturesOnSparkTest.graft(e1.toArray(String[]::new));
        List<String> e2 = new ArrayList<>(common);
        e2.set(2, broken.toString());
        e2.addAll(List.of("--recipe", recipe.toString(), "-o", dir.resolve("broken-spark").toString(), "--spark", "--master", "local[1]"));
        FeaturesOnSparkTest.Run badSpark = FeaturesOnSparkTest.graft(e2.toArray(String[]::new));
        System.out.printf(Locale.ROOT, "undecodable image: one machine exit %d '%s'; --spark exit %d '%s'%n", badOne.code(), badOne.err().strip(),
                badSpark.code(), badSpark.err().strip());
        assertThat(badOne.code()).isNotEqualTo(0);
        assertThat(badSpark.code()).isEqualTo(badOne.code());
        assertThat(badSpark.err().strip().lines().count()).as(badSpark.err()).isEqualTo(1);
        assertThat(badSpark.err()).contains(bad.toAbsolutePath().toString());
    }
}
