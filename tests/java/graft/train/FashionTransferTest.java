package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import graft.data.Idx;
import graft.data.Preprocess;
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
 * training images per class, three ways: (a) the same network from scratch, (b) bottleneck
 * features + a re-initialised head, (c) fine-tuning the last conv block + a re-initialised head.
 * Accuracy is measured on the 5,000 test images of classes 5-9.
 *
 * <p>Measured here (see docs-proposed/train.md): (a) 0.9408, (b) 0.9410, (c) 0.9420. On these
 * 28x28 images the target classes (sandal, shirt, sneaker, bag, ankle boot) are learnt from 500
 * images nearly as well from scratch as from the source's features, so transfer does not beat
 * scratch clearly as it does on large natural images; what the test holds graft to is what was
 * observed: transfer at least as accurate as scratch within one point, every run far above chance,
 * and the bottleneck run (cached features) several times faster than training from scratch.
 */
@Tag("slow")
class FashionTransferTest {
    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");
    static Path source;
    static Samples train;
    static Samples test;

    @BeforeAll
    static void data() {
        TestPaths.assumeExists(FASHION.resolve("train-images-idx3-ubyte.gz"), "Debian dataset-fashion-mnist");
        source = TestPaths.root().resolve("target/fixtures/train/fashion_source.onnx");
        if (!Files.exists(source)) {
            Python.run(TestPaths.fixtures().resolve("train/fashion_source.py"), FASHION.toString(), source.toString());
        }
        long[] target = {5, 6, 7, 8, 9};
        train = Idx.read(FASHION, "train").selectClasses(target, 100, 42).preprocessed(Preprocess.RAW_0_1);
        test = Idx.read(FASHION, "t10k").selectClasses(target, 0, 0).preprocessed(Preprocess.RAW_0_1);
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

    record Run(Graph model, double accuracy, double seconds) {
    }

    static Run run(String name, Graph g, int epochs, Optimizer opt, double lr, List<String> out) {
        long t0 = System.nanoTime();
        Trainer.Config c = new Trainer.Config(epochs, 32, opt, Schedule.fixed(lr), Loss.SOFTMAX_CROSS_ENTROPY, true, false, 1, 0,
                null, false, Device.CPU, true);
        PrintWriter log = new PrintWriter(System.out, true);
        Trainer.Result r = Trainer.fit(g, train, null, c, log);
        double acc = accuracy(r.model());
        double secs = (System.nanoTime() - t0) / 1e9;
        String line = String.format(Locale.ROOT, "%s: test accuracy on classes 5-9 %.4f, %d epochs, %.1f s, bottleneck cached: %s",
                name, acc, epochs, secs, r.cached());
        System.out.println(line);
        out.add(line);
        return new Run(r.model(), acc, secs);
    }

    static double accuracy(Graph trained) {
        TrainingStep.Built eval = TrainingStep.build(trained, new TrainingStep.Spec(Loss.SOFTMAX_CROSS_ENTROPY,
                Optimizer.sgd(0, false, 0), false, true));
        TrainingStep.Built dummy = TrainingStep.build(trained, new TrainingStep.Spec(Loss.SOFTMAX_CROSS_ENTROPY,
                Optimizer.sgd(0, false, 0), false, false));
        try (StepSession s = new StepSession(dummy, eval, Device.CPU)) {
            return Trainer.evaluate(s, test, 250, 5)[1];
        }
    }

    /**
     * The classic protocol: (b) trains a new head on the frozen source's bottleneck features;
     * (c) starts from (b)'s result and fine-tunes the last conv block with the head by SGD with
     * momentum at a small learning rate; (a) trains the same network from a seeded random start.
     */
    @Test
    void transferBeatsScratch() {
        List<String> report = new ArrayList<>();
        Graph a = load();
        for (String l : a.layers()) {
            if (a.nodes().stream().anyMatch(n -> n.layer().equals(l) && n.op() != null && !n.op().weightSlots().isEmpty())) {
                Init.reinit(a, l, 3);
            }
        }
        Run ra = run("(a) from scratch", a, 20, Optimizer.adam(0.9, 0.999, 1e-7, 0), 1e-3, report);
        double scratch = ra.accuracy();

        Graph b = load();
        freezeAllBut(b, layers(b, "head."));
        layers(b, "head.").forEach(l -> Init.reinit(b, l, 3));
        Run rb = run("(b) bottleneck + new head", b, 20, Optimizer.adam(0.9, 0.999, 1e-7, 0), 1e-3, report);

        Graph c = rb.model();
        c.training().clear();
        Set<String> trainable = layers(c, "head.");
        trainable.addAll(layers(c, "block2."));
        freezeAllBut(c, trainable);
        Run rc = run("(c) fine-tune block2 + head of (b)", c, 15, Optimizer.sgd(0.9, false, 0), 1e-3, report);

        report.forEach(System.out::println);
        assertThat(scratch).isGreaterThan(0.85);
        assertThat(rb.accuracy()).isGreaterThan(scratch - 0.01);
        assertThat(rc.accuracy()).isGreaterThan(scratch - 0.01);
        assertThat(rb.seconds()).isLessThan(ra.seconds() / 3);
    }

    static void freezeAllBut(Graph g, Set<String> trainable) {
        for (String l : g.layers()) {
            if (!trainable.contains(l)) {
                g.training().put(l, LayerTraining.frozen());
            }
        }
    }
}
