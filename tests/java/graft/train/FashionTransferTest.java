package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import graft.data.Idx;
import graft.data.Samples;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.onnx.OnnxImporter;
import graft.runtime.Device;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Real transfer learning on Fashion-MNIST: a VGG-design source CNN trained by PyTorch on classes
 * 0-4 ({@code fixtures/train/fashion_source.py}) is taken by graft to classes 5-9 with 100
 * training images per class (by default; see {@link #PER_CLASS}), three ways: (a) the same network from scratch, (b) bottleneck
 * features + a re-initialised head, (c) fine-tuning the last conv block + a re-initialised head.
 * Accuracy is measured on the 5,000 test images of classes 5-9.
 *
 * <p>Measured here (see docs-proposed/train.md), mean of 2 seeds with every learning rate chosen
 * on a validation split: (a) 0.9393, (b) 0.9424, (c) 0.9423 (source: 91.4% on its own classes).
 * On these 28x28 images the target classes (sandal, shirt, sneaker, bag, ankle boot) are learnt
 * from 500 images nearly as well from scratch as from the source's features: transfer gains about
 * 0.3 points, not the clear margin seen on large natural images. What the test holds graft to is
 * what was observed: transfer at least as accurate as scratch within one point, every run far
 * above chance, and the bottleneck run (cached features) several times faster than scratch.
 */
@Tag("slow")
class FashionTransferTest {
    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");
    static Path source;
    static Samples test;

    @BeforeAll
    static void data() {
        TestPaths.assumeExists(FASHION.resolve("train-images-idx3-ubyte.gz"), "Debian dataset-fashion-mnist");
        source = TestPaths.root().resolve("target/fixtures/train/fashion_source.onnx");
        if (!Files.exists(source)) {
            try {
                Files.createDirectories(source.getParent());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            Python.run(TestPaths.fixtures().resolve("train/fashion_source.py"), FASHION.toString(), source.toString());
        }
        test = Idx.read(FASHION, "t10k").selectClasses(new long[] {5, 6, 7, 8, 9}, 0, 0).preprocessed(graft.ir.Preprocessing.of(java.util.Map.of("preprocess.pixel_scale", "1/255")));
    }

    /** Layers (by source layer name) that own the parameters whose names start with a prefix. */
    static Set<String> layers(Graph g, String paramPrefix) {
        Set<String> r = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            for (String in : n.inputs()) {
                if (in.startsWith(paramPrefix) && g.initializer(in) != null) {
                    r.add(n.layer());
                }
            }
        }
        return r;
    }

    static Graph load() {
        Graph g = OnnxImporter.read(source);
        Value in = g.inputs().get(0);
        g.inputs().set(0, new Value(in.name(), new TensorType(DataType.FLOAT, Shape.of(Dim.sym("N"), Dim.of(1), Dim.of(28), Dim.of(28)))));
        return g;
    }

    record Run(Graph model, double accuracy, double seconds, double lr) {
    }

    /** One training run on {@code set}; returns the trained model and its accuracy on {@code eval}. */
    static Run fit(Graph g, Samples set, Samples eval, int epochs, Optimizer opt, double lr, long seed) {
        long t0 = System.nanoTime();
        Trainer.Config c = new Trainer.Config(epochs, 32, opt, Schedule.fixed(lr), Loss.SOFTMAX_CROSS_ENTROPY, true, false, seed, 0,
                null, false, Device.CPU, true, 0);
        Trainer.Result r = Trainer.fit(g, set, null, c, new PrintWriter(java.io.Writer.nullWriter()));
        double secs = (System.nanoTime() - t0) / 1e9;
        return new Run(r.model(), accuracy(r.model(), eval), secs, lr);
    }

    /**
     * The fair protocol every method gets: each learning rate of a fixed grid is tried on 80% of
     * the training images (400 of the default 500) and scored on the other 20% (a validation
     * split; the test images are never looked at), then the best one is trained on all of them
     * and scored on the test set. {@code start} makes a fresh starting graph for a given
     * training subset.
     */
    static Run protocol(String name, java.util.function.Function<Samples, Graph> start, Samples all, long seed, int epochs,
                        Optimizer opt, double[] grid, List<String> out) {
        Samples[] split = all.split(0.2, seed);
        double bestLr = grid[0];
        double bestVal = -1;
        StringBuilder val = new StringBuilder();
        for (double lr : grid) {
            double v = fit(start.apply(split[0]), split[0], split[1], epochs, opt, lr, seed).accuracy();
            val.append(String.format(Locale.ROOT, " %.0e:%.2f", lr, v));
            if (v > bestVal) {
                bestVal = v;
                bestLr = lr;
            }
        }
        Run r = fit(start.apply(all), all, test, epochs, opt, bestLr, seed);
        String line = String.format(Locale.ROOT, "seed %d %s: lr %.0e (validation%s), %d epochs, test accuracy %.4f, %.1f s", seed,
                name, bestLr, val, epochs, r.accuracy(), r.seconds());
        System.out.println(line);
        out.add(line);
        return r;
    }

    static double accuracy(Graph trained, Samples set) {
        TrainingStep.Built eval = TrainingStep.build(trained, new TrainingStep.Spec(Loss.SOFTMAX_CROSS_ENTROPY,
                Optimizer.sgd(0, false, 0), false, true));
        TrainingStep.Built dummy = TrainingStep.build(trained, new TrainingStep.Spec(Loss.SOFTMAX_CROSS_ENTROPY,
                Optimizer.sgd(0, false, 0), false, false));
        try (StepSession s = new StepSession(dummy, eval, Device.CPU)) {
            return Trainer.evaluate(s, set, 250, 5)[1];
        }
    }

    static Graph scratch(long seed) {
        Graph a = load();
        for (String l : a.layers()) {
            if (a.nodes().stream().anyMatch(n -> n.layer().equals(l) && n.op() != null && !n.op().weightSlots().isEmpty())) {
                graft.surgery.Reinit.forLayer(a, l, seed).apply(a);
            }
        }
        return a;
    }

    static Graph bottleneck(long seed) {
        Graph b = load();
        freezeAllBut(b, layers(b, "head."));
        layers(b, "head.").forEach(l -> graft.surgery.Reinit.forLayer(b, l, seed).apply(b));
        return b;
    }

    /** (c)'s start: the graph (b) trained, with block2 unfrozen as well. */
    static Graph unfreezeBlock2(Graph trainedB) {
        Graph c = trainedB;
        c.training().clear();
        Set<String> trainable = layers(c, "head.");
        trainable.addAll(layers(c, "block2."));
        freezeAllBut(c, trainable);
        return c;
    }

    /**
     * The classic protocol, over {@link #SEEDS} seeds (each its own {@link #PER_CLASS} images per class, its own
     * initialisation and shuffling): (a) trains the same network from a He/Glorot start for 30
     * epochs with Adam; (b) trains a new head on the frozen source's block2 pool features for 20
     * epochs with Adam; (c) starts from (b)'s result and fine-tunes block2 with the head for 10 more
     * epochs by SGD with momentum, so (c) has the same 30-epoch budget as (a). Every method picks
     * its learning rate from the same kind of 3-point grid on a validation split.
     */
    @Test
    void transferBeatsScratch() {
        List<String> report = new ArrayList<>();
        double[] sum = new double[3];
        double[] secs = new double[3];
        Optimizer adam = Optimizer.adam(0.9, 0.999, 1e-7, 0);
        report.add(String.format(Locale.ROOT, "%d training images per class, %d seeds", PER_CLASS, SEEDS));
        for (long seed = 1; seed <= SEEDS; seed++) {
            long sd = seed;
            Samples all = trainFor(seed);
            Run ra = protocol("(a) from scratch", t -> scratch(sd), all, seed, 30, adam, new double[] {3e-4, 1e-3, 3e-3}, report);
            Run rb = protocol("(b) bottleneck + new head", t -> bottleneck(sd), all, seed, 20, adam, new double[] {3e-4, 1e-3, 3e-3},
                    report);
            double lrB = rb.lr();
            Run rc = protocol("(c) fine-tune block2 + head of (b)",
                    t -> unfreezeBlock2(t == all ? rb.model() : fit(bottleneck(sd), t, t, 20, adam, lrB, sd).model()), all, seed, 10,
                    Optimizer.sgd(0.9, false, 0), new double[] {1e-4, 3e-4, 1e-3}, report);
            Run[] runs = {ra, rb, rc};
            for (int i = 0; i < 3; i++) {
                sum[i] += runs[i].accuracy() / SEEDS;
                secs[i] += runs[i].seconds() / SEEDS;
            }
        }
        String mean = String.format(Locale.ROOT, "mean over %d seeds: (a) %.4f %.1f s, (b) %.4f %.1f s, (c) %.4f %.1f s", SEEDS, sum[0],
                secs[0], sum[1], secs[1], sum[2], secs[2]);
        report.add(mean);
        report.forEach(System.out::println);
        assertThat(sum[0]).isGreaterThan(0.85);
        assertThat(sum[1]).isGreaterThan(sum[0] - 0.01);
        assertThat(sum[2]).isGreaterThan(sum[0] - 0.01);
        assertThat(secs[1]).isLessThan(secs[0] / 3);
    }

    /**
     * Seeds 1..SEEDS; {@code -Dgraft.transfer.seeds=N} runs more (or fewer) for experiments. The
     * assertions are calibrated for the defaults (2 seeds, 100 images per class).
     */
    static final int SEEDS = Integer.getInteger("graft.transfer.seeds", 2);
    /**
     * Training images per target class; {@code -Dgraft.transfer.perClass=N} measures the few-shot
     * regime (docs-proposed/transfer-shots.md). The validation split stays 20% of them per class.
     */
    static final int PER_CLASS = Integer.getInteger("graft.transfer.perClass", 100);

    static Samples trainFor(long seed) {
        return Idx.read(FASHION, "train").selectClasses(new long[] {5, 6, 7, 8, 9}, PER_CLASS, 41 + seed)
                .preprocessed(graft.ir.Preprocessing.of(java.util.Map.of("preprocess.pixel_scale", "1/255")));
    }

    static void freezeAllBut(Graph g, Set<String> trainable) {
        for (String l : g.layers()) {
            if (!trainable.contains(l)) {
                g.training().put(l, LayerTraining.frozen());
            }
        }
    }
}
