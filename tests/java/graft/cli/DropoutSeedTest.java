package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dropout masks come from (--seed, epoch, step): two runs with the same seed have bit-identical
 * histories, and a run stopped after epoch 2 and resumed trains epoch 3 bit-identically to one
 * that never stopped.
 */
class DropoutSeedTest {
    @BeforeAll
    static void model() {
        FinetuneCommandTest.oracle();
    }

    @Test
    void dropoutIsReproducibleAcrossRunsAndResume() throws IOException {
        Path dir = TestPaths.scratch("dropout-seed");
        Path data = FinetuneCommandTest.images(dir.resolve("data"), 6);
        String pool = FinetuneCommandTest.lastPoolLayer();
        Path recipe = dir.resolve("head.yaml");
        Files.writeString(recipe, "edits:\n  - \"cut-after " + pool + "\"\n"
                + "  - attach-head flatten, dense 16 relu, dropout 0.5, dense 3 softmax --seed 1\n  - \"freeze .." + pool + "\"\n");
        String[] common = {"--recipe", recipe.toString(), "--batch-size", "4", "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.05",
                "--val-fraction", "0.25", "--scale", "1/255", "--seed", "11"};
        List<String> a = run(dir.resolve("a"), data, common, "--epochs", "3");
        List<String> b = run(dir.resolve("b"), data, common, "--epochs", "3");
        run(dir.resolve("c"), data, common, "--epochs", "2");
        List<String> c = run(dir.resolve("c"), data, common, "--epochs", "3", "--resume");
        assertThat(a).hasSize(4);
        assertThat(b).as("same seed, same history").isEqualTo(a);
        assertThat(c).as("resumed after epoch 2").isEqualTo(a);
    }

    /** The history's epoch, loss, acc, val_loss, val_acc and lr columns (timings dropped). */
    static List<String> run(Path out, Path data, String[] common, String... more) throws IOException {
        String[] args = java.util.Arrays.copyOf(new String[] {"finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o",
                out.toString()}, 5 + common.length + more.length);
        System.arraycopy(common, 0, args, 5, common.length);
        System.arraycopy(more, 0, args, 5 + common.length, more.length);
        Cli.Result r = Cli.run(args);
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        return Files.readAllLines(out.resolve("history.csv")).stream()
                .map(l -> String.join(",", java.util.Arrays.copyOf(l.split(","), 6))).toList();
    }
}
