package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.ir.Tensor;
import graft.ir.Weight;
import graft.onnx.OnnxFormat;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.surgery.Surgery;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Surgery on a Keras (NHWC) VGG16, the reduced-width keras.applications twin: every edit that
 * appends layers builds on the NCHW activation, not on the NHWC output view; a 4-D result keeps
 * Keras's NHWC output; a new input size is HxWxC in Keras's order. Each result runs in ONNX
 * Runtime and is compared with TensorFlow.js building the same model (the trunk cut where graft
 * cut it, the same head layers with graft's weights) within 1e-5 relative. Every shipped VGG16
 * recipe and the README's surgery examples run on the Keras file as on the ONNX one.
 */
class KerasSurgeryTest {
    static final double TOLERANCE = 1e-5;

    static Path top() {
        return KerasVgg16Test.model("vgg16_small.h5", "--width-div", "16", "--fc", "64", "--classes", "10");
    }

    static Path notop() {
        return KerasVgg16Test.model("vgg16_small_notop.h5", "--width-div", "16", "--no-top");
    }

    static Graph read(Path h5) {
        return new KerasFormat().read(h5, graft.io.Options.none());
    }

    static Tensor ort(Graph g, Path file, Tensor x) {
        new OnnxFormat().write(g, file, graft.io.Options.none().set("force", true));
        return ort(file, x);
    }

    static Tensor ort(Path file, Tensor x) {
        try (OrtRunner r = OrtRunner.open(file, Device.CPU)) {
            Map<String, Tensor> out = r.run(Map.of(r.inputs().keySet().iterator().next(), x));
            assertThat(out).hasSize(1);
            return out.values().iterator().next();
        }
    }

    static LayerTable.Row row(Graph g, String layer) {
        return LayerTable.of(g).stream().filter(r -> r.layer().equals(layer)).findFirst().orElseThrow();
    }

    /** A Dense's Keras kernel (in, out) and bias from graft's Gemm weights (out, in) with transB. */
    static List<Tensor> dense(Graph g, String layer) {
        Weight w = g.initializer(layer + "_W");
        long[] s = w.shape();
        float[] v = w.toFloats();
        float[] k = new float[v.length];
        for (int o = 0; o < s[0]; o++) {
            for (int i = 0; i < s[1]; i++) {
                k[(int) (i * s[0] + o)] = v[(int) (o * s[1] + i)];
            }
        }
        Weight b = g.initializer(layer + "_b");
        return List.of(Tensor.ofFloats(new long[] {s[1], s[0]}, k), Tensor.ofFloats(b.shape(), b.toFloats()));
    }

    /** A Conv2D's Keras kernel (kh, kw, in, out) and bias from graft's OIHW weights. */
    static List<Tensor> conv(Graph g, String layer) {
        Weight w = g.initializer(layer + "_W");
        long[] s = w.shape();
        float[] v = w.toFloats();
        float[] k = new float[v.length];
        for (int o = 0; o < s[0]; o++) {
            for (int i = 0; i < s[1]; i++) {
                for (int y = 0; y < s[2]; y++) {
                    for (int x = 0; x < s[3]; x++) {
                        k[(int) (((y * s[3] + x) * s[1] + i) * s[0] + o)] = v[(int) (((o * s[1] + i) * s[2] + y) * s[3] + x)];
                    }
                }
            }
        }
        Weight b = g.initializer(layer + "_b");
        return List.of(Tensor.ofFloats(new long[] {s[2], s[3], s[1], s[0]}, k), Tensor.ofFloats(b.shape(), b.toFloats()));
    }

    static Map<String, Object> cfg(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static TfjsFacts.Facts tfjs(String tag, TfjsFacts.Job job) {
        TfjsFacts.Facts f = TfjsFacts.run(List.of(job), TestPaths.scratch("keras-surgery-" + tag)).get(0);
        assertThat(f.error()).as(tag).isNull();
        return f;
    }

    @Test
    void globalAverageHeadPoolsOverHeightAndWidthAsKerasDoes() {
        Path h5 = notop();
        Graph g = Surgery.on(read(h5)).attachHead("global-avg", "dense 10 softmax").apply();
        assertThat(row(g, "global_average_pooling2d").output()).isEqualTo("(N, 32)");
        assertThat(row(g, "dense").params()).isEqualTo(330);
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 64, 64, 3}, 5);
        Tensor got = ort(g, TestPaths.scratch("keras-surgery-gap").resolve("gap.onnx"), x);
        TfjsFacts.Facts f = tfjs("gap", new TfjsFacts.Job(h5, null, null, List.of(
                new TfjsFacts.Head("GlobalAveragePooling2D", cfg(), List.of()),
                new TfjsFacts.Head("Dense", cfg("units", 10, "activation", "softmax"), dense(g, "dense"))), List.of(x)));
        assertThat(f.layers().get(f.layers().size() - 1).trainable()).isEqualTo(330);
        assertThat(got.shape()).containsExactly(2, 10);
        assertThat(TfjsOracle.relError(got, f.outputs().get(0))).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void cutAfterAPoolKeepsKerasNhwcOutputAndNewInputSizeIsHxWxC() {
        Graph g = Surgery.on(read(top())).cutAfter("block2_pool").setInputShape("160x160x3").apply();
        Graph in = g;
        assertThat(in.type(in.inputs().get(0).name()).shape().toString()).isEqualTo("(N, 160, 160, 3)");
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {1, 160, 160, 3}, 6);
        Tensor got = ort(g, TestPaths.scratch("keras-surgery-cut").resolve("cut.onnx"), x);
        // the no-top twin has the same convolution weights (same seed) and takes any size
        TfjsFacts.Facts f = tfjs("cut", new TfjsFacts.Job(notop(), null, "block2_pool", List.of(), List.of(x)));
        assertThat(got.shape()).containsExactly(1, 40, 40, 8);
        assertThat(TfjsOracle.relError(got, f.outputs().get(0))).isLessThanOrEqualTo(1e-6);
    }

    @Test
    void insertAfterTheLastLayerAndPopLeavingAPoolWorkOnNchw() {
        Path h5 = notop();
        Graph g = Surgery.on(read(h5)).insertAfter("block5_pool", "conv 6 1 relu name=extra").apply();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {1, 64, 64, 3}, 8);
        Tensor got = ort(g, TestPaths.scratch("keras-surgery-insert").resolve("insert.onnx"), x);
        TfjsFacts.Facts f = tfjs("insert", new TfjsFacts.Job(h5, null, null, List.of(
                new TfjsFacts.Head("Conv2D", cfg("filters", 6, "kernelSize", 1, "activation", "relu"), conv(g, "extra"))), List.of(x)));
        assertThat(got.shape()).containsExactly(1, 2, 2, 6);
        assertThat(TfjsOracle.relError(got, f.outputs().get(0))).isLessThanOrEqualTo(TOLERANCE);
        Graph p = Surgery.on(read(h5)).pop(4).apply();
        Tensor y = ort(p, TestPaths.scratch("keras-surgery-insert").resolve("pop.onnx"), x);
        TfjsFacts.Facts fp = tfjs("pop", new TfjsFacts.Job(h5, null, "block4_pool", List.of(), List.of(x)));
        assertThat(TfjsOracle.relError(y, fp.outputs().get(0))).isLessThanOrEqualTo(1e-6);
    }

    /** Shipped VGG16 recipes and README examples on the Keras file: exit 0, the promised shapes, the numbers of Keras's own layers. */
    @Test
    void everyShippedVggRecipeAndReadmeExampleRunsOnTheKerasFile() {
        Path h5 = top();
        Path dir = TestPaths.scratch("keras-surgery-recipes");
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 224, 224, 3}, 9);
        Map<String, Path> outs = new LinkedHashMap<>();
        for (String r : List.of("vgg16_bottleneck", "vgg16_finetune", "vgg16_cut_block2_160", "vgg16_block1_5x5")) {
            Path out = dir.resolve(r + ".onnx");
            Cli.Result res = Cli.run("surgery", h5.toString(), "--recipe", TestPaths.root().resolve("recipes/" + r + ".yaml").toString(),
                    "-o", out.toString(), "--force");
            assertThat(res.code()).as(r + ": " + res.err()).isZero();
            outs.put(r, out);
        }
        Path readme = dir.resolve("readme.onnx");
        Cli.Result res = Cli.run("surgery", h5.toString(), "--edit", "pop 3", "--edit", "attach-head dense 256 relu, dense 5 softmax",
                "-o", readme.toString(), "--force");
        assertThat(res.code()).as(res.err()).isZero();
        assertThat(ort(readme, x).shape()).containsExactly(2, 5);
        Graph java = Surgery.on(read(h5)).pop(3).attachHead("dense 1024 relu", "dense 128 relu", "dense 5 softmax")
                .freeze("..block4_pool").apply();
        assertThat(java.trainingOf("block4_conv3").trainable()).isFalse();
        assertThat(java.trainingOf("block5_conv1").trainable()).isTrue();

        // bottleneck: trunk + Flatten (Keras's H,W,C order) + Dense 256 relu + Dropout + Dense 1 sigmoid
        Graph b = new OnnxFormat().read(outs.get("vgg16_bottleneck"), graft.io.Options.none());
        Tensor yb = ort(outs.get("vgg16_bottleneck"), x);
        assertThat(yb.shape()).containsExactly(2, 1);
        assertThat(b.trainingOf("block5_conv3").trainable()).isFalse();
        TfjsFacts.Facts fb = tfjs("bottleneck", new TfjsFacts.Job(h5, null, "block5_pool", List.of(
                new TfjsFacts.Head("Flatten", cfg(), List.of()),
                new TfjsFacts.Head("Dense", cfg("units", 256, "activation", "relu"), dense(b, "dense")),
                new TfjsFacts.Head("Dropout", cfg("rate", 0.5), List.of()),
                new TfjsFacts.Head("Dense", cfg("units", 1, "activation", "sigmoid"), dense(b, "dense_1"))), List.of(x)));
        assertThat(TfjsOracle.relError(yb, fb.outputs().get(0))).isLessThanOrEqualTo(TOLERANCE);

        // finetune: Keras's model.layers[:15] frozen
        Graph ft = new OnnxFormat().read(outs.get("vgg16_finetune"), graft.io.Options.none());
        assertThat(ort(outs.get("vgg16_finetune"), x).shape()).containsExactly(2, 5);
        assertThat(ft.trainingOf("block4_conv3").trainable()).isFalse();
        assertThat(ft.trainingOf("block5_conv1").trainable()).isTrue();

        // block2 at 160 with the conv head: trunk cut at block2_pool + Conv2D 64 relu + GAP + Dense 10 softmax
        Graph c = new OnnxFormat().read(outs.get("vgg16_cut_block2_160"), graft.io.Options.none());
        Tensor x160 = Tensor.random(DataType.FLOAT, new long[] {2, 160, 160, 3}, 10);
        Tensor yc = ort(outs.get("vgg16_cut_block2_160"), x160);
        assertThat(yc.shape()).containsExactly(2, 10);
        assertThat(c.trainingOf("block2_conv2").trainable()).isFalse();
        TfjsFacts.Facts fc = tfjs("block2", new TfjsFacts.Job(notop(), null, "block2_pool", List.of(
                new TfjsFacts.Head("Conv2D", cfg("filters", 64, "kernelSize", 3, "activation", "relu", "padding", "same"), conv(c, "head_conv")),
                new TfjsFacts.Head("GlobalAveragePooling2D", cfg(), List.of()),
                new TfjsFacts.Head("Dense", cfg("units", 10, "activation", "softmax"), dense(c, "head_predictions"))), List.of(x160)));
        assertThat(TfjsOracle.relError(yc, fc.outputs().get(0))).isLessThanOrEqualTo(TOLERANCE);

        // block1 pair -> one 5x5 (fitted): the recipe's block1_pool is close to the original's (Keras's own model cut there)
        Graph five = Surgery.on(new OnnxFormat().read(outs.get("vgg16_block1_5x5"), graft.io.Options.none())).cutAfter("block1_pool").apply();
        assertThat(five.initializer(five.nodes().stream().filter(n -> n.opType().equals("Conv")).findFirst().orElseThrow().input(1)).shape())
                .containsExactly(4, 3, 5, 5);
        Tensor y5 = ort(five, dir.resolve("five_pool.onnx"), x);
        TfjsFacts.Facts f5 = tfjs("five", new TfjsFacts.Job(h5, null, "block1_pool", List.of(), List.of(x)));
        double rms = graft.testing.Errors.rmsRelative(y5.toFloats(), f5.outputs().get(0).toFloats());
        System.out.printf("Keras VGG16 (reduced) block1 pair -> 5x5 fit: block1_pool relative RMS error %.3f%n", rms);
        assertThat(y5.shape()).containsExactly(f5.outputs().get(0).shape());
        assertThat(rms).isLessThan(0.6);
    }


    /** The same recipes on the full-size Keras VGG16 (528 MB): exit 0 and the promised shapes. */
    @Test
    @Tag("slow")
    void everyShippedVggRecipeRunsOnTheFullSizeKerasFile() {
        Path h5 = KerasVgg16Test.model("vgg16.h5");
        Path dir = TestPaths.scratch("keras-surgery-full");
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("vgg16_bottleneck", new long[] {1, 1});
        shapes.put("vgg16_finetune", new long[] {1, 5});
        shapes.put("vgg16_cut_block2_160", new long[] {1, 10});
        shapes.put("vgg16_block1_5x5", new long[] {1, 1000});
        List<String> failed = new ArrayList<>();
        for (var e : shapes.entrySet()) {
            Path out = dir.resolve(e.getKey() + ".onnx");
            Cli.Result res = Cli.run("surgery", h5.toString(), "--recipe", TestPaths.root().resolve("recipes/" + e.getKey() + ".yaml").toString(),
                    "-o", out.toString(), "--force");
            if (res.code() != 0) {
                failed.add(e.getKey() + ": " + res.err());
                continue;
            }
            long side = e.getKey().contains("160") ? 160 : 224;
            assertThat(ort(out, Tensor.random(DataType.FLOAT, new long[] {1, side, side, 3}, 3)).shape()).containsExactly(e.getValue());
        }
        assertThat(failed).isEmpty();
    }
}
