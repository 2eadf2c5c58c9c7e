package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import graft.error.GraftException;
import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.keras.KerasFormat;
import graft.onnx.OnnxFormat;
import graft.testing.Cli;
import graft.testing.TestPaths;
import graft.train.TrainingStep;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Training state through Caffe: a frozen layer is written as lr_mult 0 (its decay_mult kept)
 * whatever multipliers it had; a {@code param} list shorter than the layer's blobs leaves the
 * others at Caffe's default (lr_mult 1, decay_mult 1); and every combination of frozen or not,
 * with or without multipliers, survives ONNX, Keras and Caffe written and read back.
 */
class CaffeTrainingStateTest {
    private static final Path MNIST = TestPaths.corpus().resolve("caffe/mnist");
    private static final Path LENET = MNIST.resolve("lenet.prototxt");
    private static final Path LENET_W = MNIST.resolve("lenet_iter_10000.caffemodel");

    /** The param { } blocks of one layer of a written prototxt, as "lr/decay" per blob. */
    static List<String> params(Path prototxt, String layer) throws Exception {
        String text = Files.readString(prototxt);
        int at = text.indexOf("name: \"" + layer + "\"");
        assertThat(at).as(layer + " in " + prototxt).isPositive();
        int end = text.indexOf("\nlayer {", at);
        String block = text.substring(at, end < 0 ? text.length() : end);
        List<String> r = new ArrayList<>();
        Matcher m = Pattern.compile("param \\{\\s*lr_mult: ([0-9.]+)\\s*decay_mult: ([0-9.]+)\\s*\\}").matcher(block);
        while (m.find()) {
            r.add(Float.parseFloat(m.group(1)) + "/" + Float.parseFloat(m.group(2)));
        }
        return r;
    }

    @Test
    void freezeOfALayerWithLrMultIsWrittenAsLrMultZeroAndReadBackFrozen() throws Exception {
        Path dir = TestPaths.scratch("caffe-freeze-export");
        Path a = dir.resolve("a.onnx");
        Cli.Result s = Cli.run("surgery", LENET.toString(), "--weights", LENET_W.toString(), "--edit", "freeze ..pool2",
                "-o", a.toString());
        assertThat(s.code()).as(s.err()).isZero();
        Path proto = dir.resolve("a.prototxt");
        Cli.Result c = Cli.run("convert", a.toString(), proto.toString());
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(params(proto, "conv1")).containsExactly("0.0/1.0", "0.0/1.0");
        assertThat(params(proto, "conv2")).containsExactly("0.0/1.0", "0.0/1.0");
        assertThat(params(proto, "ip1")).containsExactly("1.0/1.0", "2.0/1.0");
        Graph back = new CaffeFormat().read(proto, Options.none().set("weights", dir.resolve("a.caffemodel")));
        assertThat(back.trainingOf("conv1").trainable()).isFalse();
        assertThat(back.trainingOf("conv2").trainable()).isFalse();
        assertThat(back.trainingOf("ip1").trainable()).isTrue();
        assertThat(TrainingStep.trainableParams(back)).doesNotContain("conv1/weight", "conv1/bias", "conv2/weight", "conv2/bias")
                .contains("ip1/weight", "ip1/bias");

        Cli.Result d = Cli.run("diff", LENET.toString(), proto.toString(), "--weights", LENET_W.toString(),
                "--b-weights", dir.resolve("a.caffemodel").toString());
        assertThat(d.code()).as(d.err()).isZero();
        assertThat(d.out()).contains("conv1: trainable true -> false").contains("conv2: trainable true -> false")
                .doesNotContain("no differences");
    }

    @Test
    void oneParamEntryFreezesOnlyTheFirstBlobAsCaffeDoes() throws Exception {
        Path dir = TestPaths.scratch("caffe-one-param");
        String text = Files.readString(LENET);
        int at = text.indexOf("name: \"conv1\"");
        int p0 = text.indexOf("param {", at);
        int conv = text.indexOf("convolution_param", at);
        text = text.substring(0, p0) + "param {\n    lr_mult: 0\n  }\n  " + text.substring(conv);
        Path net = dir.resolve("lenet_conv1_lr0.prototxt");
        Files.writeString(net, text);
        Graph g = new CaffeFormat().read(net, Options.none().set("weights", LENET_W));
        // Caffe (net.cpp AppendParam): blobs beyond the listed params get the default ParamSpec.
        assertThat(g.trainingOf("conv1")).isEqualTo(new LayerTraining(true, List.of(0f, 1f), List.of(1f, 1f)));
        List<String> train = TrainingStep.trainableParams(g);
        assertThat(train).contains("conv1/bias").doesNotContain("conv1/weight");

        Cli.Result i = Cli.run("inspect", net.toString(), "--weights", LENET_W.toString());
        assertThat(i.out().lines().filter(l -> l.contains(" conv1 "))).singleElement().asString().contains("yes lr_mult 0/1");

        Path out = dir.resolve("out.prototxt");
        Cli.Result c = Cli.run("convert", net.toString(), "--weights", LENET_W.toString(), out.toString());
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(params(out, "conv1")).containsExactly("0.0/1.0", "1.0/1.0");

        // finetune moves the bias and keeps the weights bit-identical.
        Path[] d = lenetData(dir);
        Path run = dir.resolve("run");
        Cli.Result f = Cli.run("finetune", net.toString(), d[0].toString(), "--labels", d[1].toString(), "--weights",
                LENET_W.toString(), "--epochs", "1", "--batch-size", "10", "--val-fraction", "0.2", "-o", run.toString(), "--force");
        assertThat(f.code()).as(f.out() + f.err()).isZero();
        Graph tuned = new graft.onnx.OnnxFormat().read(run.resolve("model.onnx"), Options.none());
        assertThat(tuned.initializer("conv1/weight").toFloats()).isEqualTo(g.initializer("conv1/weight").toFloats());
        assertThat(tuned.initializer("conv1/bias").toFloats()).isNotEqualTo(g.initializer("conv1/bias").toFloats());
    }

    @Test
    void finetuneSavedAsCaffeWritesItsFrozenLayersAsLrMultZeroKeepingDecayMult() throws Exception {
        Path dir = TestPaths.scratch("caffe-finetune-frozen");
        // LeNet with CaffeNet's decay_mult 1/0 on conv1, so the kept decay is visible.
        String text = Files.readString(LENET);
        int at = text.indexOf("name: \"conv1\"");
        int p0 = text.indexOf("param {", at);
        int conv = text.indexOf("convolution_param", at);
        text = text.substring(0, p0) + "param {\n    lr_mult: 1\n    decay_mult: 1\n  }\n  param {\n    lr_mult: 2\n    decay_mult: 0\n  }\n  "
                + text.substring(conv);
        Path net = dir.resolve("lenet_decay.prototxt");
        Files.writeString(net, text);
        Path[] d = lenetData(dir);
        Path data = d[0];
        Path labels = d[1];
        Path out = dir.resolve("run");
        Cli.Result f = Cli.run("finetune", net.toString(), data.toString(), "--labels", labels.toString(), "--weights",
                LENET_W.toString(), "--freeze-upto", "pool2", "--epochs", "1", "--batch-size", "10", "--val-fraction", "0.2",
                "--save-as", "x.prototxt", "-o", out.toString(), "--force");
        assertThat(f.code()).as(f.out() + f.err()).isZero();
        assertThat(params(out.resolve("x.prototxt"), "conv1")).containsExactly("0.0/1.0", "0.0/0.0");
        assertThat(params(out.resolve("x.prototxt"), "conv2")).containsExactly("0.0/1.0", "0.0/1.0");
        assertThat(params(out.resolve("x.prototxt"), "ip1")).containsExactly("1.0/1.0", "2.0/1.0");
    }

    /** 50 random 1x28x28 images (0..255) with labels 0..9, as .npy files. */
    static Path[] lenetData(Path dir) throws Exception {
        int n = 50;
        float[] x = new float[n * 28 * 28];
        java.util.SplittableRandom r = new java.util.SplittableRandom(4);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble() * 255;
        }
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 10;
        }
        Path data = dir.resolve("x.npy");
        Path labels = dir.resolve("y.npy");
        graft.ir.Tensor xt = graft.ir.Tensor.ofFloats(new long[] {n, 1, 28, 28}, x);
        graft.io.Npy.write(data, graft.ir.DataType.FLOAT, xt.shape(), xt.data(), true);
        java.nio.ByteBuffer yb = java.nio.ByteBuffer.allocate(8 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long v : y) {
            yb.putLong(v);
        }
        yb.flip();
        graft.io.Npy.write(labels, graft.ir.DataType.INT64, new long[] {n}, yb, true);
        return new Path[] {data, labels};
    }

    /** Per blob, the lr and decay multipliers training uses (frozen: lr 0; unlisted: 1). */
    static List<String> effective(LayerTraining t, int blobs) {
        List<String> r = new ArrayList<>();
        for (int k = 0; k < blobs; k++) {
            float lr = !t.trainable() ? 0f : k < t.lrMult().size() ? t.lrMult().get(k) : 1f;
            float dm = k < t.decayMult().size() ? t.decayMult().get(k) : 1f;
            r.add(lr + "/" + dm);
        }
        return r;
    }

    @Test
    void frozenAndMultipliersSurviveOnnxKerasAndCaffeOrTheWriterRefuses() throws Exception {
        Path dir = TestPaths.scratch("caffe-training-matrix");
        Graph g = new CaffeFormat().read(LENET, Options.none().set("weights", LENET_W));
        Map<String, LayerTraining> want = new LinkedHashMap<>();
        want.put("conv1", new LayerTraining(false, List.of(1f, 2f), List.of(1f, 0f)));   // frozen, multipliers
        want.put("conv2", new LayerTraining(true, List.of(1f, 2f), List.of(1f, 0f)));    // trains, multipliers
        want.put("ip1", LayerTraining.frozen());                                           // frozen, none
        want.put("ip2", LayerTraining.DEFAULT);                                            // trains, none
        g.training().clear();
        want.forEach((l, t) -> {
            if (!t.equals(LayerTraining.DEFAULT)) {
                g.training().put(l, t);
            }
        });
        Map<String, ModelFormat> formats = new LinkedHashMap<>();
        formats.put("x.onnx", new OnnxFormat());
        formats.put("x.h5", new KerasFormat());
        formats.put("x.prototxt", new CaffeFormat());
        for (var f : formats.entrySet()) {
            Path out = dir.resolve(f.getKey());
            try {
                f.getValue().write(g, out, Options.none().set("force", true));
            } catch (GraftException refused) {
                assertThat(refused.exitCode()).as(f.getKey() + ": " + refused.getMessage()).isEqualTo(3);
                assertThat(out).doesNotExist();
                System.out.println(f.getKey() + " refused: " + refused.getMessage());
                continue;
            }
            Options read = f.getKey().endsWith(".prototxt") ? Options.none().set("weights", dir.resolve("x.caffemodel")) : Options.none();
            Graph back = f.getValue().read(out, read);
            for (var e : want.entrySet()) {
                LayerTraining got = back.trainingOf(e.getKey());
                String what = f.getKey() + " " + e.getKey() + " " + got;
                assertThat(got.trainable()).as(what).isEqualTo(e.getValue().trainable());
                assertThat(effective(got, 2)).as(what).isEqualTo(effective(e.getValue(), 2));
                if (!f.getKey().endsWith(".prototxt")) {
                    // Only Caffe cannot keep a frozen layer's multipliers (lr_mult 0 is how it says frozen).
                    assertThat(got.lrMult().isEmpty() ? List.of(1f, 1f) : got.lrMult()).as(what)
                            .isEqualTo(e.getValue().lrMult().isEmpty() ? List.of(1f, 1f) : e.getValue().lrMult());
                }
            }
        }
    }
}
