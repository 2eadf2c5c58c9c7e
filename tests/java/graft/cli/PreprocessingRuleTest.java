package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import graft.io.Npy;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
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
 * The preprocessing rule: run/validate --images (graft.validate.Images) and finetune/features
 * (DataOptions) make bit-identical input tensors of the same image for the same model, with or
 * without preprocess.* metadata; finetune records what it trained with, so run --images on the
 * saved model scores the validation folder as training measured it.
 */
class PreprocessingRuleTest {
    @BeforeAll
    static void model() {
        FinetuneCommandTest.oracle();
    }

    /** Non-square images (13x9, 9x11), so resize and centre crop are exercised. */
    static Path images(Path dir, int perClass) throws IOException {
        Random r = new Random(5);
        String[] names = {"red", "green", "blue"};
        for (int c = 0; c < 3; c++) {
            Path d = Files.createDirectories(dir.resolve(names[c]));
            for (int i = 0; i < perClass; i++) {
                int w = i % 2 == 0 ? 13 : 9;
                int h = i % 2 == 0 ? 9 : 11;
                BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int[] v = {r.nextInt(90), r.nextInt(90), r.nextInt(90)};
                        v[c] += 140;
                        img.setRGB(x, y, (v[0] << 16) | (v[1] << 8) | v[2]);
                    }
                }
                ImageIO.write(img, "png", d.resolve(String.format("img%02d.png", i)).toFile());
            }
        }
        return dir;
    }

    @Test
    void everyCommandMakesTheSameInputTensor() throws IOException {
        Path data = images(TestPaths.scratch("pre-rule-same").resolve("data"), 3);
        for (boolean declared : new boolean[] {false, true}) {
            Graph g = OnnxImporter.read(FinetuneCommandTest.model);
            if (declared) {
                g.metadata().put("preprocess.channel_order", "BGR");
                g.metadata().put("preprocess.mean", "103.939,116.779,123.68");
                g.metadata().put("preprocess.scale", "0.017");
            }
            // classes sorted by name: blue, green, red; red's three images are samples 6..8
            java.nio.FloatBuffer b = new DataOptions().load(data, g).train().batch(new int[] {6, 7, 8}, null);
            float[] training = new float[b.remaining()];
            b.get(training);
            Tensor fed = graft.validate.Images.feeds(data.resolve("red"), g, null).values().iterator().next();
            float[] images = fed.toFloats();
            assertThat(fed.shape()).containsExactly(3, 3, 8, 8);
            assertThat(images).as("declared %s", declared).containsExactly(training);
            if (!declared) {
                // the rule's default: raw 0..255 pixels, nothing rescaled
                float max = 0;
                for (float v : images) {
                    max = Math.max(max, v);
                }
                assertThat(max).isGreaterThan(140f);
            }
        }
    }

    @Test
    void finetunedModelScoresTheValidationFolderAsTrainingMeasured() throws IOException {
        Path dir = TestPaths.scratch("pre-rule-finetune");
        Path train = images(dir.resolve("train"), 6);
        Path val = FinetuneCommandTest.images(dir.resolve("val"), 3);
        Path out = dir.resolve("run");
        Cli.Result r = Cli.run("finetune", FinetuneCommandTest.model.toString(), train.toString(), "--val", val.toString(), "-o",
                out.toString(), "--epochs", "2", "--batch-size", "6", "--optimizer", "adam", "--lr", "0.003", "--no-dropout",
                "--scale", "1/255", "--seed", "2");
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        List<String> csv = Files.readAllLines(out.resolve("history.csv"));
        String[] last = csv.get(csv.size() - 1).split(",");
        double valLoss = Double.parseDouble(last[3]);
        double valAcc = Double.parseDouble(last[4]);
        Graph saved = OnnxImporter.read(out.resolve("model.onnx"));
        assertThat(saved.metadata()).containsEntry("preprocess.pixel_scale", Double.toString(1 / 255.0));

        double loss = 0;
        int correct = 0;
        int n = 0;
        String[] names = {"blue", "green", "red"}; // class ids follow the sorted folder names
        for (int c = 0; c < 3; c++) {
            Path o = dir.resolve("out-" + names[c]);
            Cli.Result run = Cli.run("run", out.resolve("model.onnx").toString(), "--images", val.resolve(names[c]).toString(), "--out",
                    o.toString());
            assertThat(run.code()).as(run.out() + run.err()).isZero();
            float[] logits = Npy.read(o.resolve("logits.npy")).toFloats();
            for (int i = 0; i < logits.length / 3; i++) {
                double m = Double.NEGATIVE_INFINITY;
                int best = 0;
                for (int k = 0; k < 3; k++) {
                    if (logits[i * 3 + k] > m) {
                        m = logits[i * 3 + k];
                        best = k;
                    }
                }
                double z = 0;
                for (int k = 0; k < 3; k++) {
                    z += Math.exp(logits[i * 3 + k] - m);
                }
                loss += -(logits[i * 3 + c] - m - Math.log(z));
                correct += best == c ? 1 : 0;
                n++;
            }
        }
        assertThat(n).isEqualTo(9);
        assertThat((double) correct / n).isEqualTo(valAcc, within(1e-6));
        assertThat(loss / n).isCloseTo(valLoss, within(1e-5 * Math.max(1, valLoss)));
    }
}
