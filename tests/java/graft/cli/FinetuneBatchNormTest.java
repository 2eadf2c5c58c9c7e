package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * {@code graft finetune --bn frozen|train} on the ResNet-style model of fixtures/train/bn_steps.py
 * (conv-BN-ReLU, residual Add, 5 classes): with {@code train} the written model's running
 * statistics moved, with the default ({@code frozen}) they are the file's, bit for bit; any other
 * value exits 2 in one line and leaves no run folder. The numbers of one step are
 * TorchBatchNormStepTest's.
 */
class FinetuneBatchNormTest {
    static Path model() {
        Path out = TestPaths.root().resolve("target/fixtures/train/bn_steps");
        if (!Files.exists(out.resolve("mobilenetv2/train/loss.txt"))) {
            Python.run(TestPaths.fixtures().resolve("train/bn_steps.py"), out.toString());
        }
        return out.resolve("resnet/model.onnx");
    }

    static Path images(Path dir) throws IOException {
        Random r = new Random(2);
        for (int c = 0; c < 5; c++) {
            Path d = Files.createDirectories(dir.resolve("class" + c));
            for (int i = 0; i < 4; i++) {
                BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 8; y++) {
                    for (int x = 0; x < 8; x++) {
                        img.setRGB(x, y, r.nextInt(1 << 24));
                    }
                }
                ImageIO.write(img, "png", d.resolve("img" + i + ".png").toFile());
            }
        }
        return dir;
    }

    static Graph run(Path data, Path out, String... extra) {
        String[] base = {"finetune", model().toString(), data.toString(), "-o", out.toString(), "--epochs", "1", "--batch-size", "4",
                "--optimizer", "sgd", "--lr", "0.01", "--scale", "1/255", "--val-fraction", "0", "--force"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        Cli.Result r = Cli.run(args);
        assertThat(r.code()).as(r.err()).isZero();
        return OnnxImporter.read(out.resolve("model.onnx"));
    }

    @Test
    void trainMovesTheRunningStatisticsAndFrozenKeepsThem() throws IOException {
        Path dir = TestPaths.scratch("finetune-bn");
        Path data = images(dir.resolve("data"));
        Graph original = OnnxImporter.read(model());
        Graph train = run(data, dir.resolve("train"), "--bn", "train");
        Graph frozen = run(data, dir.resolve("frozen"));
        for (String bn : new String[] {"stem_bn", "bn1", "bn2"}) {
            for (String stat : new String[] {".running_mean", ".running_var"}) {
                float[] was = original.initializer(bn + stat).toFloats();
                assertThat(frozen.initializer(bn + stat).toFloats()).as("--bn frozen: " + bn + stat).containsExactly(was);
                assertThat(train.initializer(bn + stat).toFloats()).as("--bn train: " + bn + stat).isNotEqualTo(was);
            }
        }
        // gamma trains in both modes
        assertThat(frozen.initializer("bn1.weight").toFloats()).isNotEqualTo(original.initializer("bn1.weight").toFloats());
    }

    @Test
    void anUnknownModeExits2InOneLine() throws IOException {
        Path dir = TestPaths.scratch("finetune-bn-bad");
        Path data = images(dir.resolve("data"));
        Path out = dir.resolve("run");
        Cli.Result r = Cli.run("finetune", model().toString(), data.toString(), "-o", out.toString(), "--bn", "batch");
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines().count()).isEqualTo(1);
        assertThat(r.err()).contains("--bn 'batch'").contains("frozen or train");
        assertThat(out).doesNotExist();
    }

    /**
     * On a Keras model with the ResNet50 phase-2 recipe (frozen up to conv4_block6_out):
     * {@code --bn train} moves stage 5's running statistics and keeps the frozen layers' as they
     * were (their BNs stay in inference mode, as Keras runs trainable=False layers), bit for bit.
     */
    @Test
    void aFrozenLayersBatchNormKeepsItsStatisticsUnderBnTrain() throws IOException {
        Path dir = TestPaths.scratch("finetune-bn-keras");
        Random r = new Random(3);
        for (int c = 0; c < 5; c++) {
            Path d = Files.createDirectories(dir.resolve("data/class" + c));
            for (int i = 0; i < 4; i++) {
                BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 64; y++) {
                    for (int x = 0; x < 64; x++) {
                        img.setRGB(x, y, r.nextInt(1 << 24));
                    }
                }
                ImageIO.write(img, "png", d.resolve("img" + i + ".png").toFile());
            }
        }
        Path h5 = TestPaths.fixtures().resolve("keras/applications/resnet50_small.h5");
        Path out = dir.resolve("run");
        Cli.Result res = Cli.run("finetune", h5.toString(), dir.resolve("data").toString(), "-o", out.toString(), "--recipe",
                TestPaths.root().resolve("recipes/resnet50_finetune.yaml").toString(), "--epochs", "1", "--batch-size", "4",
                "--optimizer", "sgd", "--lr", "0.0001", "--scale", "1/255", "--val-fraction", "0", "--force", "--bn", "train");
        assertThat(res.code()).as(res.err()).isZero();
        Graph original = new graft.keras.KerasFormat().read(h5, graft.io.Options.none());
        Graph trained = OnnxImporter.read(out.resolve("model.onnx"));
        for (String bn : new String[] {"conv4_block6_3_bn", "conv5_block1_1_bn", "conv5_block3_3_bn"}) {
            for (String stat : new String[] {"/moving_mean", "/moving_variance"}) {
                float[] was = original.initializer(bn + stat).toFloats();
                float[] now = trained.initializer(bn + stat).toFloats();
                if (bn.startsWith("conv4")) {
                    assertThat(now).as("frozen " + bn + stat).containsExactly(was);
                } else {
                    assertThat(now).as("trained " + bn + stat).isNotEqualTo(was);
                }
            }
        }
    }
}
