package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keras's two-phase transfer-learning recipe through {@code graft finetune}, on each of the six
 * keras.applications twins (fixtures/keras/applications), with the shipped recipes
 * ({@code recipes/MODEL_transfer.yaml}, {@code recipes/MODEL_finetune.yaml}):
 * <ul>
 * <li>phase 1 (base frozen, new 5-class head; Adam 0.01, 3 epochs): exit 0, the training loss of
 * the last epoch is below the first's, every frozen layer's weights and BatchNormalization
 * statistics are the source's bit for bit, and the head moved;</li>
 * <li>phase 2 (the recipe's top layers unfrozen at a low rate: SGD 1e-3 with momentum and
 * {@code --bn train} for ResNet50, MobileNetV2, InceptionV3 and DenseNet121; Adam 1e-5 and
 * {@code --bn frozen} for Xception and EfficientNetB0, as their keras.io guides train them with
 * BatchNormalization in inference mode; SGD 1e-3 over all of Xception's random-weight layers
 * diverges to NaN at the second step, which graft reports with exit 1 and no model): exit 0, a
 * finite loss, the frozen layers bit for bit, every unfrozen layer with weights moved, and the
 * running statistics moved exactly where a BatchNormalization trains in batch mode.</li>
 * </ul>
 * Which layers are frozen is read from the recipe's own surgery output (its training state);
 * KerasApplicationsTest checks those ranges against Keras's counts. The numbers of one training
 * step are checked against PyTorch by TorchBatchNormStepTest and TorchStepTest.
 */
class ApplicationsFinetuneTest {

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("resnet50", 64, "train", "sgd", "0.001"),
                Arguments.of("mobilenetv2", 64, "train", "sgd", "0.001"),
                Arguments.of("inceptionv3", 75, "train", "sgd", "0.001"),
                Arguments.of("densenet121", 64, "train", "sgd", "0.001"),
                Arguments.of("xception", 71, "frozen", "adam", "1e-5"),
                Arguments.of("efficientnetb0", 64, "frozen", "adam", "1e-5"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void bothPhasesOfKerasRecipeRun(String model, int size, String bnPhase2, String optimizer2, String lr2) throws IOException {
        Path dir = TestPaths.scratch("applications-finetune-" + model);
        Path data = images(dir.resolve("data"), size);
        Path h5 = TestPaths.fixtures().resolve("keras/applications/" + model + "_small.h5");
        // EfficientNet rescales [0, 255] itself (Rescaling + Normalization inside the model)
        List<String> scale = model.startsWith("efficientnet") ? List.of() : List.of("--scale", "1/255");

        // phase 1: the base frozen, a new head
        Path recipe1 = TestPaths.root().resolve("recipes/" + model + "_transfer.yaml");
        Graph marked1 = surgery(h5, recipe1, dir.resolve("transfer.onnx"));
        Path run1 = dir.resolve("phase1");
        finetune(h5, data, run1, recipe1, scale, "--epochs", "3", "--optimizer", "adam", "--lr", "0.01");
        double[] loss1 = losses(run1);
        assertThat(loss1).hasSize(3);
        assertThat(loss1[2]).as(model + " phase 1 loss " + Arrays.toString(loss1)).isLessThan(loss1[0]);
        Graph trained1 = OnnxImporter.read(run1.resolve("model.onnx"));
        Summary s1 = compare(marked1, trained1, false);
        assertThat(s1.frozenLayers).as("phase 1 frozen layers with weights").isGreaterThan(10);
        assertThat(s1.trainedLayers).as("phase 1: only the head trains").isEqualTo(1);

        // phase 2: the top of the base unfrozen at a low learning rate
        Path recipe2 = TestPaths.root().resolve("recipes/" + model + "_finetune.yaml");
        Graph marked2 = surgery(h5, recipe2, dir.resolve("finetune.onnx"));
        Path run2 = dir.resolve("phase2");
        List<String> phase2 = new ArrayList<>(List.of("--epochs", "1", "--optimizer", optimizer2, "--lr", lr2, "--bn", bnPhase2));
        if (optimizer2.equals("sgd")) {
            phase2.addAll(List.of("--momentum", "0.9"));
        }
        finetune(h5, data, run2, recipe2, scale, phase2.toArray(String[]::new));
        double[] loss2 = losses(run2);
        assertThat(loss2).hasSize(1);
        assertThat(Double.isFinite(loss2[0])).as(model + " phase 2 loss " + loss2[0]).isTrue();
        Summary s2 = compare(marked2, OnnxImporter.read(run2.resolve("model.onnx")), bnPhase2.equals("train"));
        assertThat(s2.trainedLayers).as("phase 2 trains more than the head").isGreaterThan(1);
        if (!model.equals("xception")) {
            assertThat(s2.frozenLayers).as("phase 2 keeps part of the base frozen").isGreaterThan(0);
        }
        System.out.printf("%s: phase 1 loss %s, %d frozen / %d trained layers; phase 2 (--bn %s) loss %.4f, %d frozen / %d trained"
                + " layers, %d BatchNormalization statistics moved%n", model, Arrays.toString(loss1), s1.frozenLayers, s1.trainedLayers,
                bnPhase2, loss2[0], s2.frozenLayers, s2.trainedLayers, s2.statsMoved);
    }

    /**
     * torchvision's mobilenet_v2, efficientnet_b0, densenet121, resnet50 and squeezenet1_1
     * (torch.onnx.export at opset 17, 64x64, seeded random weights): the 10-class classifier popped
     * and a 5-class head attached (squeezenet: its classifier convolution re-made with 5 outputs), the
     * whole network trained one epoch: exit 0, a finite loss, the head and the deepest layers moved. torch's
     * export (eval mode) folds every BatchNormalization into its convolution, so the file has none
     * and {@code --bn train} has no statistics to move; without normalization the random network's
     * gradients vanish towards the input (fixtures/train/tv_vanishing_grads.py: PyTorch in eval mode on the same weights and images:
     * efficientnet_b0's first convolution gets max |dW| 5e-14 against 1.9 in train mode), so the
     * first layers' updates are below float32's resolution and those weights stay bit-equal, in
     * PyTorch as in graft. The layers that moved are counted, not required to be all.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("torchvisionModels")
    void torchvisionExportsFineTuneWhole(String model, String edits, String lr) throws IOException {
        Path tv = TestPaths.root().resolve("target/torchvision");
        graft.testing.Python.run(TestPaths.fixtures().resolve("onnx/make_torchvision.py"), tv.toString(), model + ":64:17");
        Path onnx = tv.resolve(model + "_opset17.onnx");
        Path dir = TestPaths.scratch("applications-finetune-tv-" + model);
        Path data = images(dir.resolve("data"), 64);
        Path recipe = dir.resolve("head.yaml");
        Files.writeString(recipe, "description: new 5-class head, everything trains\nedits:\n" + edits);
        Graph marked = surgery(onnx, recipe, dir.resolve("marked.onnx"));
        Path run = dir.resolve("run");
        finetune(onnx, data, run, recipe, List.of("--scale", "1/255"), "--epochs", "1", "--optimizer", "sgd", "--lr", lr,
                "--momentum", "0.9", "--bn", "train");
        double[] loss = losses(run);
        assertThat(Double.isFinite(loss[0])).as(model + " loss " + loss[0]).isTrue();
        List<Node> bns = marked.nodes().stream().filter(n -> n.op() == Op.BATCH_NORMALIZATION).toList();
        if (model.equals("mobilenet_v2") || model.equals("efficientnet_b0")) {
            assertThat(bns).as("eval-mode export folds every BatchNormalization into its convolution").isEmpty();
        }
        Graph trained = OnnxImporter.read(run.resolve("model.onnx"));
        // where BatchNormalization is left (densenet121's norm before ReLU before conv cannot be folded), --bn train moves its running statistics
        long statsMoved = bns.stream().filter(n -> !Arrays.equals(marked.initializer(n.input(3)).toFloats(),
                trained.initializer(n.input(3)).toFloats())).count();
        assertThat(statsMoved).as("BatchNormalization running means moved").isEqualTo(bns.size());
        List<Node> weighted = marked.nodes().stream().filter(n -> (n.op() == Op.CONV || n.op() == Op.GEMM)
                && marked.initializer(n.input(1)) != null).toList();
        int moved = 0;
        for (Node n : weighted) {
            assertThat(marked.trainingOf(n.layer()).trainable()).as(n.layer() + " trainable").isTrue();
            moved += Arrays.equals(marked.initializer(n.input(1)).toFloats(), trained.initializer(n.input(1)).toFloats()) ? 0 : 1;
        }
        Node head = weighted.get(weighted.size() - 1);
        Node lastConv = weighted.stream().filter(n -> n.op() == Op.CONV).reduce((a, b) -> b).orElseThrow();
        for (Node n : List.of(head, lastConv)) {
            assertThat(trained.initializer(n.input(1)).toFloats()).as(n.layer() + " moved").isNotEqualTo(marked.initializer(n.input(1)).toFloats());
        }
        assertThat(moved).as("layers that moved").isGreaterThan(weighted.size() / 3);
        System.out.printf("torchvision %s: loss %.4f, %d of %d Conv/Gemm weights moved, %d of %d BatchNormalization running means%n",
                model, loss[0], moved, weighted.size(), statsMoved, bns.size());
    }

    /**
     * The model, the recipe's edits and the learning rate. squeezenet1_1's classifier is a 1x1
     * convolution: set-classes re-makes it with 5 outputs (torchvision's fine-tuning tutorial
     * replaces classifier[1] the same way). resnet50 without BatchNormalization diverges at SGD 1e-3
     * on random weights (graft stops, exit 1), so it runs at 1e-4.
     */
    static Stream<Arguments> torchvisionModels() {
        String head = "  - pop 1\n  - attach-head dense 5 softmax --seed 2\n";
        return Stream.of(Arguments.of("mobilenet_v2", head, "0.001"),
                Arguments.of("efficientnet_b0", head, "0.001"),
                Arguments.of("densenet121", head, "0.001"),
                Arguments.of("resnet50", head, "0.0001"),
                Arguments.of("squeezenet1_1", "  - set-classes 5\n", "0.001"));
    }

    record Summary(int frozenLayers, int trainedLayers, int statsMoved) {
    }

    /**
     * Per layer with weights of the recipe's output: frozen -> every initializer bit-equal after
     * training; trainable -> its first weight moved; BatchNormalization statistics (inputs 3, 4)
     * moved exactly when the layer trains and the run used batch statistics.
     */
    static Summary compare(Graph marked, Graph trained, boolean bnTrain) {
        int frozen = 0;
        int moved = 0;
        int stats = 0;
        List<String> seen = new ArrayList<>();
        for (Node n : marked.nodes()) {
            List<String> weights = n.inputs().stream().filter(v -> marked.initializer(v) != null).toList();
            if (weights.isEmpty() || n.layer() == null || seen.contains(n.layer() + "/" + n.name())) {
                continue;
            }
            seen.add(n.layer() + "/" + n.name());
            boolean trainable = marked.trainingOf(n.layer()).trainable();
            boolean bn = n.op() == Op.BATCH_NORMALIZATION;
            for (int i = 0; i < n.inputs().size(); i++) {
                String w = n.input(i);
                if (marked.initializer(w) == null || trained.initializer(w) == null) {
                    continue;
                }
                float[] was = marked.initializer(w).toFloats();
                float[] now = trained.initializer(w).toFloats();
                boolean statistic = bn && (i == 3 || i == 4);
                if (!trainable || statistic && !bnTrain) {
                    assertThat(now).as((trainable ? "" : "frozen ") + n.layer() + " " + w).containsExactly(was);
                } else if (statistic) {
                    assertThat(now).as("--bn train: " + n.layer() + " " + w + " moved").isNotEqualTo(was);
                    stats++;
                } else if (i == 1 && (n.op() == Op.CONV || n.op() == Op.GEMM || bn)) {
                    assertThat(now).as("trainable " + n.layer() + " " + w + " moved").isNotEqualTo(was);
                }
            }
            if (trainable && (n.op() == Op.CONV || n.op() == Op.GEMM)) {
                moved++;
            } else if (!trainable && (n.op() == Op.CONV || n.op() == Op.GEMM)) {
                frozen++;
            }
        }
        return new Summary(frozen, moved, stats);
    }

    static Graph surgery(Path model, Path recipe, Path out) {
        Cli.Result r = Cli.run("surgery", model.toString(), "--recipe", recipe.toString(), "-o", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        return OnnxImporter.read(out);
    }

    static void finetune(Path h5, Path data, Path out, Path recipe, List<String> scale, String... extra) {
        List<String> args = new ArrayList<>(List.of("finetune", h5.toString(), data.toString(), "-o", out.toString(), "--recipe",
                recipe.toString(), "--batch-size", "4", "--val-fraction", "0", "--force", "--quiet"));
        args.addAll(scale);
        args.addAll(List.of(extra));
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.out() + r.err()).isZero();
    }

    static double[] losses(Path run) throws IOException {
        List<String> csv = Files.readAllLines(run.resolve("history.csv"));
        assertThat(csv.get(0)).startsWith("epoch,loss");
        return csv.stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[1])).toArray();
    }

    /** 5 classes x 4 seeded random RGB images; each class has its own mean colour, so the head has something to learn. */
    static Path images(Path dir, int size) throws IOException {
        Random r = new Random(5);
        for (int c = 0; c < 5; c++) {
            Path d = Files.createDirectories(dir.resolve("class" + c));
            int base = 40 * c;
            for (int i = 0; i < 4; i++) {
                BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        int red = Math.min(255, base + r.nextInt(96));
                        int green = Math.max(0, 200 - base - r.nextInt(64));
                        img.setRGB(x, y, red << 16 | green << 8 | r.nextInt(256));
                    }
                }
                ImageIO.write(img, "png", d.resolve("img" + i + ".png").toFile());
            }
        }
        return dir;
    }
}
