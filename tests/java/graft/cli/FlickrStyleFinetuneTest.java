package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.caffe.CaffeFormat;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.TestPaths;
import graft.train.Checkpoint;
import graft.train.TrainingStep;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The Flickr Style recipe through {@code graft finetune}: the real
 * {@code finetune_flickr_style/train_val.prototxt} with CaffeNet weights (random: graft converts
 * CaffeNet's train_val, whose fillers give every layer weights, to a caffemodel), every layer
 * trainable (conv1..fc7 lr_mult 1/2, fc8_flickr 10/20, LRN norm1/norm2 differentiated), a solver
 * with the Flickr Style solver's facts, random 227 crops with mirroring, dropout on, one
 * iteration over 20 images (one per class; batch 20). torch checks the step's numbers
 * ({@code graft.train.CaffeNetStepTest}); this checks the command delivers the recipe.
 */
class FlickrStyleFinetuneTest {
    static final Path CAFFE = TestPaths.corpus().resolve("caffe");

    /** One image per class in train/ and in val/, PNG and JPEG, 64x64 noise around a colour of the class. */
    static Path styles(Path dir) throws IOException {
        Random r = new Random(3);
        for (String split : new String[] {"train", "val"}) {
            for (int c = 0; c < 20; c++) {
                Path d = Files.createDirectories(dir.resolve(split).resolve(String.format("style%02d", c)));
                int base = java.awt.Color.HSBtoRGB(c / 20f, 0.8f, 0.8f);
                BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 64; y++) {
                    for (int x = 0; x < 64; x++) {
                        img.setRGB(x, y, base ^ (r.nextInt(64) << 16 | r.nextInt(64) << 8 | r.nextInt(64)));
                    }
                }
                String ext = c % 2 == 0 ? "png" : "jpg";
                ImageIO.write(img, ext, d.resolve("img." + ext).toFile());
            }
        }
        return dir;
    }

    @Test
    void flickrStyleRecipeTrainsEveryLayerOfCaffeNet() throws IOException {
        Path net = CAFFE.resolve("finetune_flickr_style/train_val.prototxt");
        TestPaths.assumeExists(net, "the shared Caffe corpus");
        Path dir = TestPaths.scratch("flickr-style");
        Path weights = dir.resolve("caffenet.caffemodel");
        Cli.Result w = Cli.run("convert", CAFFE.resolve("bvlc_reference_caffenet/train_val.prototxt").toString(), weights.toString(),
                "--init", "fillers");
        assertThat(w.code()).as(w.err()).isZero();
        Path data = styles(dir.resolve("data"));
        Path solver = dir.resolve("solver.prototxt");
        // finetune_flickr_style/solver.prototxt, but max_iter 1 instead of 100000
        Files.writeString(solver, "net: \"models/finetune_flickr_style/train_val.prototxt\"\ntest_iter: 100\ntest_interval: 1000\n"
                + "base_lr: 0.001\nlr_policy: \"step\"\ngamma: 0.1\nstepsize: 20000\ndisplay: 20\nmax_iter: 1\nmomentum: 0.9\n"
                + "weight_decay: 0.0005\nsnapshot: 10000\n");
        Path out = dir.resolve("run");
        long t0 = System.nanoTime();
        Cli.Result r = Cli.run("finetune", net.toString(), data.toString(), "--weights", weights.toString(), "--phase", "TRAIN",
                "-o", out.toString(), "--solver", solver.toString(), "--crop", "227", "--mirror", "--batch-size", "20", "--seed", "5");
        System.out.printf("flickr style finetune: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("training on 20 samples of 20 classes, validating on 20")
                .contains("bottleneck caching: off (random cropping and random mirroring are on").contains("epoch 1/1");
        // Caffe reads the mean file from its working directory; graft does not, and says so
        assertThat(r.err()).contains("warning: the model's mean_file 'data/ilsvrc12/imagenet_mean.binaryproto' was not read")
                .contains("--mean");

        List<String> csv = Files.readAllLines(out.resolve("history.csv"));
        assertThat(csv).hasSize(2);
        String[] row = csv.get(1).split(",");
        assertThat(Double.parseDouble(row[1])).as("loss").isFinite().isPositive();
        assertThat(Double.parseDouble(row[3])).as("validation loss on the center windows").isFinite().isPositive();
        assertThat(Double.parseDouble(row[5])).as("lr of iteration 0 under the step policy").isEqualTo(0.001);
        assertThat(out.resolve("history.json")).isNotEmptyFile();
        assertThat(out.resolve("history.png")).isNotEmptyFile();

        Graph before = new CaffeFormat().read(net, Options.none().set("weights", weights).set("phase", "TRAIN"));
        Graph trained = OnnxImporter.read(out.resolve("model.onnx"));
        assertThat(trained.initializer("fc8_flickr/weight").shape()).containsExactly(20, 4096);
        assertThat(trained.training().get("fc8_flickr")).isEqualTo(new LayerTraining(true, List.of(10f, 20f), List.of(1f, 0f)));
        // One SGD step from zero momentum: v = g + weight_decay * decay_mult * p0 is in the
        // checkpoint, and every parameter must have moved by base_lr * lr_mult * v exactly.
        Map<String, float[]> state = Checkpoint.load(out).tensors();
        List<String> params = TrainingStep.trainableParams(before);
        assertThat(params).hasSize(16);
        for (String p : params) {
            float[] p0 = before.initializer(p).toFloats();
            float[] p1 = trained.initializer(p).toFloats();
            float[] v = state.get(p + "/momentum");
            double lrMult = p.startsWith("fc8_flickr") ? (p.endsWith("weight") ? 10 : 20) : (p.endsWith("weight") ? 1 : 2);
            double worst = 0;
            double moved = 0;
            for (int i = 0; i < p0.length; i++) {
                double step = 0.001 * lrMult * v[i];
                moved = Math.max(moved, Math.abs(p1[i] - p0[i]));
                // float32: p1 is p0 - step rounded once or twice
                worst = Math.max(worst, Math.abs(p1[i] - (p0[i] - step)) / (2 * Math.ulp(Math.max(Math.abs(p0[i]), Math.abs(p1[i])))
                        + 1e-6 * Math.abs(step)));
            }
            assertThat(moved).as("%s moved", p).isPositive();
            assertThat(worst).as("%s moved by base_lr * lr_mult %s * momentum (in units of the rounding allowed)", p, lrMult)
                    .isLessThanOrEqualTo(1);
        }
        Cli.Result run = Cli.run("run", out.resolve("model.onnx").toString(), "--batch", "2");
        assertThat(run.code()).as(run.err()).isZero();
    }
}
