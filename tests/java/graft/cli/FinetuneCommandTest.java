package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The features and finetune commands end to end on the VGG-style CNN torch exported for the
 * step oracle (3x8x8 input, 3 classes) and a generated image folder: outputs, history,
 * checkpoints, resume, bottleneck caching, and the checks on broken data before training.
 */
class FinetuneCommandTest {
    static Path model;

    @BeforeAll
    static void oracle() {
        Path out = TestPaths.root().resolve("target/fixtures/train/torch_steps");
        if (!Files.exists(out.resolve("adam/loss.txt"))) {
            Python.run(TestPaths.fixtures().resolve("train/torch_steps.py"), out.toString());
        }
        model = out.resolve("model.onnx");
    }

    /** Three classes of 8x8 PNG and JPEG images whose colour tells the class. */
    static Path images(Path dir, int perClass) throws IOException {
        Random r = new Random(1);
        String[] names = {"red", "green", "blue"};
        for (int c = 0; c < 3; c++) {
            Path d = Files.createDirectories(dir.resolve(names[c]));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 8; y++) {
                    for (int x = 0; x < 8; x++) {
                        int[] v = {r.nextInt(80), r.nextInt(80), r.nextInt(80)};
                        v[c] += 150;
                        img.setRGB(x, y, (v[0] << 16) | (v[1] << 8) | v[2]);
                    }
                }
                String ext = i % 2 == 0 ? "png" : "jpg";
                ImageIO.write(img, ext, d.resolve("img" + i + "." + ext).toFile());
            }
        }
        return dir;
    }

    @Test
    void featuresWritesFeaturesAndLabels() throws IOException {
        Path dir = TestPaths.scratch("features");
        Path data = images(dir.resolve("data"), 4);
        Path feats = dir.resolve("feats.npy");
        Cli.Result r = Cli.run("features", model.toString(), data.toString(), "--upto", lastPoolLayer(), "-o", feats.toString(), "--half");
        assertThat(r.code()).as(r.err()).isZero();
        Npy.Array f = Npy.read(feats);
        assertThat(f.shape()).containsExactly(12, 8, 2, 2);
        assertThat(f.dtype()).isEqualTo(graft.ir.DataType.FLOAT16);
        Npy.Array l = Npy.read(dir.resolve("feats.labels.npy"));
        assertThat(l.toFloats()).containsExactly(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2);
        assertThat(r.out()).contains("12/12");
    }

    /** The layer of the second MaxPool, as the ONNX importer names layers. */
    static String lastPoolLayer() {
        return lastPoolLayer(model);
    }

    /** The layer of a model's last MaxPool, as its format's importer names layers. */
    static String lastPoolLayer(Path file) {
        graft.ir.Graph g = Formats.forFile(file, null).read(file, graft.io.Options.none());
        String layer = null;
        for (graft.ir.Node n : g.nodes()) {
            if (n.opType().equals("MaxPool")) {
                layer = n.layer();
            }
        }
        return layer;
    }

    @Test
    void finetuneTrainsCachesCheckpointsAndResumes() throws IOException {
        Path dir = TestPaths.scratch("finetune");
        Path data = images(dir.resolve("data"), 10);
        Path out = dir.resolve("run");
        Cli.Result r = Cli.run("finetune", model.toString(), data.toString(), "-o", out.toString(), "--epochs", "2",
                "--batch-size", "8", "--optimizer", "adam", "--lr", "0.01", "--freeze-upto", lastPoolLayer(), "--val-fraction", "0.2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("bottleneck caching: the frozen layers up to").contains("epoch 2/2").contains("images/s");
        assertThat(out.resolve("model.onnx")).exists();
        assertThat(out.resolve("history.png")).exists();
        assertThat(out.resolve("checkpoint/checkpoint.json")).exists();
        List<String> csv = Files.readAllLines(out.resolve("history.csv"));
        assertThat(csv).hasSize(3);
        assertThat(csv.get(0)).startsWith("epoch,loss,acc,val_loss,val_acc");
        // Resume to epoch 4: continues from the checkpoint, keeps epochs 1-2.
        Cli.Result r2 = Cli.run("finetune", model.toString(), data.toString(), "-o", out.toString(), "--epochs", "4",
                "--batch-size", "8", "--optimizer", "adam", "--lr", "0.01", "--freeze-upto", lastPoolLayer(), "--val-fraction", "0.2",
                "--resume");
        assertThat(r2.code()).as(r2.err()).isZero();
        assertThat(r2.out()).contains("resumed from the checkpoint of epoch 2").contains("epoch 3/4").doesNotContain("epoch 1/4");
        List<String> csv2 = Files.readAllLines(out.resolve("history.csv"));
        assertThat(csv2).hasSize(5);
        assertThat(csv2.get(1)).isEqualTo(csv.get(1));
        // The trained model runs and differs from the source in its head only.
        Cli.Result run = Cli.run("run", out.resolve("model.onnx").toString(), "--batch", "2");
        assertThat(run.code()).as(run.err()).isZero();
    }

    /**
     * Random crops and mirrors come from streams seeded by (seed, epoch), so a run interrupted
     * after epoch 2 and resumed trains epoch 3 on the same windows and flips as a run that never
     * stopped, from the same parameters and optimizer state: the same loss, to float rounding.
     */
    @Test
    void resumeWithRandomCropsContinuesAsAnUninterruptedRun() throws IOException {
        Path dir = TestPaths.scratch("finetune-crop-resume");
        Path data = images(dir.resolve("data"), 6);
        String[] common = {"--batch-size", "6", "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.01", "--freeze-upto",
                lastPoolLayer(), "--val-fraction", "0.25", "--size", "10", "--crop", "8", "--mirror", "--seed", "7"};
        Path straight = dir.resolve("straight");
        Cli.Result a = Cli.run(concat(new String[] {"finetune", model.toString(), data.toString(), "-o", straight.toString(),
                "--epochs", "3"}, common));
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(a.out()).contains("bottleneck caching: off (random cropping and random mirroring are on");
        Path resumed = dir.resolve("resumed");
        Cli.Result b1 = Cli.run(concat(new String[] {"finetune", model.toString(), data.toString(), "-o", resumed.toString(),
                "--epochs", "2"}, common));
        assertThat(b1.code()).as(b1.err()).isZero();
        Cli.Result b2 = Cli.run(concat(new String[] {"finetune", model.toString(), data.toString(), "-o", resumed.toString(),
                "--epochs", "3", "--resume"}, common));
        assertThat(b2.code()).as(b2.err()).isZero();
        assertThat(b2.out()).contains("resumed from the checkpoint of epoch 2").contains("epoch 3/3").doesNotContain("epoch 2/3");
        List<String> ha = Files.readAllLines(straight.resolve("history.csv"));
        List<String> hb = Files.readAllLines(resumed.resolve("history.csv"));
        assertThat(hb).hasSameSizeAs(ha).hasSize(4);
        for (int row = 1; row <= 3; row++) {
            String[] x = ha.get(row).split(",");
            String[] y = hb.get(row).split(",");
            for (int col = 1; col <= 4; col++) { // loss, acc, val_loss, val_acc
                double u = Double.parseDouble(x[col]);
                double v = Double.parseDouble(y[col]);
                assertThat(v).as("epoch %d, %s", row, ha.get(0).split(",")[col]).isCloseTo(u, org.assertj.core.data.Offset.offset(1e-5 * Math.max(1, Math.abs(u))));
            }
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void recipeGivesTheNewHeadAndTheFrozenTrunk() throws IOException {
        Path dir = TestPaths.scratch("finetune-recipe");
        Path data = images(dir.resolve("data"), 6);
        Path recipe = dir.resolve("head.yaml");
        String pool = lastPoolLayer();
        Files.writeString(recipe, "edits:\n  - \"cut-after " + pool + "\"\n"
                + "  - attach-head flatten, dense 16 relu, dense 3 softmax --seed 1\n  - \"freeze .." + pool + "\"\n");
        Path out = dir.resolve("run");
        Cli.Result r = Cli.run("finetune", model.toString(), data.toString(), "-o", out.toString(), "--recipe", recipe.toString(),
                "--epochs", "1", "--batch-size", "6", "--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9", "--nesterov");
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("applied recipe head.yaml").contains("bottleneck caching").contains("epoch 1/1");
        try (graft.runtime.OrtRunner run = graft.runtime.OrtRunner.open(out.resolve("model.onnx"), graft.runtime.Device.CPU)) {
            assertThat(run.outputs().values().iterator().next().shape()).endsWith(3);
        }
        graft.ir.Graph g = graft.onnx.OnnxImporter.read(out.resolve("model.onnx"));
        String firstConv = g.nodes().stream().filter(n -> n.opType().equals("Conv")).findFirst().orElseThrow().layer();
        assertThat(g.trainingOf(firstConv).trainable()).as(firstConv + " frozen by the recipe").isFalse();
        assertThat(g.layers()).contains("dense", "dense_1");
    }

    @Test
    void caffeSolverSetsHyperParameters() throws IOException {
        Path dir = TestPaths.scratch("solver");
        Path data = images(dir.resolve("data"), 10);
        Path solver = dir.resolve("solver.prototxt");
        Files.writeString(solver, "net: \"train_val.prototxt\"\nbase_lr: 0.01\nlr_policy: \"step\"\ngamma: 0.5\nstepsize: 2\n"
                + "momentum: 0.9\nweight_decay: 0.0005\nmax_iter: 6\ntest_interval: 3\ntype: \"Nesterov\"\n");
        Cli.Result r = Cli.run("finetune", model.toString(), data.toString(), "-o", dir.resolve("run").toString(), "--solver",
                solver.toString(), "--batch-size", "8", "--val-fraction", "0.2", "--no-dropout");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> csv = Files.readAllLines(dir.resolve("run/history.csv"));
        // 24 training images, batch 8: max_iter 6 is 2 epochs; the last step (iteration 5) runs at 0.01 * 0.5^2.
        assertThat(csv).hasSize(3);
        assertThat(Double.parseDouble(csv.get(2).split(",")[5])).isCloseTo(0.0025, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void randomCropTrainsWithoutCaching() throws IOException {
        Path dir = TestPaths.scratch("finetune-crop");
        Path data = FeaturesCommandCropTest.images(dir.resolve("data"), 6, 11);
        Path out = dir.resolve("run");
        // the frozen prefix would be cached without --crop (see finetuneTrainsCachesCheckpointsAndResumes)
        Cli.Result r = Cli.run("finetune", model.toString(), data.toString(), "-o", out.toString(), "--epochs", "2",
                "--batch-size", "6", "--optimizer", "adam", "--lr", "0.01", "--freeze-upto", lastPoolLayer(), "--val-fraction", "0.2",
                "--size", "11", "--crop", "8", "--seed", "3");
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("bottleneck caching: off (random cropping is on").contains("epoch 2/2");
        List<String> csv = Files.readAllLines(out.resolve("history.csv"));
        assertThat(csv).hasSize(3);
        double loss = Double.parseDouble(csv.get(2).split(",")[1]);
        double valLoss = Double.parseDouble(csv.get(2).split(",")[3]);
        assertThat(loss).isFinite();
        assertThat(valLoss).as("validation on the center window").isFinite();
        assertThat(out.resolve("model.onnx")).exists();
    }

    @Test
    void brokenDataFailsBeforeTraining() throws IOException {
        Path dir = TestPaths.scratch("broken");
        Path data = images(dir.resolve("data"), 2);
        Files.writeString(data.resolve("red/broken.png"), "not a png");
        Cli.Result r = Cli.run("finetune", model.toString(), data.toString(), "-o", dir.resolve("o1").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("broken.png").contains("not a readable image").doesNotContain("epoch");
        Files.delete(data.resolve("red/broken.png"));

        Files.createDirectories(data.resolve("yellow"));
        r = Cli.run("finetune", model.toString(), data.toString(), "-o", dir.resolve("o2").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("yellow").contains("holds no JPEG or PNG image");
        Path four = data.resolve("yellow/img0.png");
        Files.copy(data.resolve("red/img0.png"), four);
        Files.copy(data.resolve("red/img0.png"), data.resolve("yellow/img1.png"));
        r = Cli.run("finetune", model.toString(), data.toString(), "-o", dir.resolve("o3").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("4 classes").contains("outputs 3");
        assertThat(dir.resolve("o3/checkpoint")).doesNotExist();
    }
}
