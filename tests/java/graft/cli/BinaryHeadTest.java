package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import graft.io.Npy;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A one-output sigmoid head on 2-class data (the vgg16_bottleneck recipe's cats-vs-dogs head)
 * trains with binary cross-entropy and is scored at 0.5: finetune's validation loss and accuracy
 * equal the BCE and the accuracy computed here from the saved model's probabilities on the same
 * validation folder (run --images).
 */
class BinaryHeadTest {
    @BeforeAll
    static void model() {
        FinetuneCommandTest.oracle();
    }

    static Path twoClasses(Path dir, int perClass) throws IOException {
        FinetuneCommandTest.images(dir, perClass);
        try (Stream<Path> s = Files.list(dir.resolve("blue"))) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir.resolve("blue"));
        return dir;
    }

    @Test
    void sigmoidHeadOnTwoClassesTrainsWithBinaryCrossEntropy() throws IOException {
        Path dir = TestPaths.scratch("binary-head");
        Path train = twoClasses(dir.resolve("train"), 8);
        Path val = twoClasses(dir.resolve("val"), 3);
        String pool = FinetuneCommandTest.lastPoolLayer();
        Path recipe = dir.resolve("head.yaml");
        Files.writeString(recipe, "edits:\n  - \"cut-after " + pool + "\"\n"
                + "  - attach-head flatten, dense 8 relu, dense 1 sigmoid --seed 3\n  - \"freeze .." + pool + "\"\n");
        Path out = dir.resolve("run");
        Cli.Result r = Cli.run("finetune", FinetuneCommandTest.model.toString(), train.toString(), "--val", val.toString(), "-o",
                out.toString(), "--recipe", recipe.toString(), "--epochs", "3", "--batch-size", "4", "--optimizer", "adam", "--lr", "0.01",
                "--scale", "1/255");
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("loss: sigmoid cross-entropy (one-output head: binary, scored at 0.5)");
        List<String> csv = Files.readAllLines(out.resolve("history.csv"));
        String[] last = csv.get(csv.size() - 1).split(",");
        double valLoss = Double.parseDouble(last[3]);
        double valAcc = Double.parseDouble(last[4]);
        double bce = 0;
        int correct = 0;
        int n = 0;
        String[] names = {"green", "red"}; // class ids: sorted folder names
        for (int c = 0; c < 2; c++) {
            Path o = dir.resolve("out-" + names[c]);
            Cli.Result run = Cli.run("run", out.resolve("model.onnx").toString(), "--images", val.resolve(names[c]).toString(), "--out",
                    o.toString());
            assertThat(run.code()).as(run.out() + run.err()).isZero();
            Path npy;
            try (Stream<Path> s = Files.list(o)) {
                npy = s.filter(p -> p.toString().endsWith(".npy")).findFirst().orElseThrow();
            }
            Npy.Array a = Npy.read(npy);
            assertThat(a.shape()).containsExactly(3, 1);
            for (float p : a.toFloats()) {
                bce -= c == 1 ? Math.log(p) : Math.log(1 - p);
                correct += (p > 0.5 ? 1 : 0) == c ? 1 : 0;
                n++;
            }
        }
        assertThat((double) correct / n).isEqualTo(valAcc, within(1e-6));
        assertThat(bce / n).isCloseTo(valLoss, within(1e-4 * Math.max(1, valLoss)));
        assertThat(Double.parseDouble(last[1])).as("training loss falls").isLessThan(Double.parseDouble(csv.get(1).split(",")[1]));
    }
}
