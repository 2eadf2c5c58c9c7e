package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * --resume with a checkpoint of other trained tensors (here: a different --freeze-upto, which
 * silently put the trunk back to the source weights) is refused in one line naming the
 * difference, before any epoch runs.
 */
class ResumeMismatchTest {
    @BeforeAll
    static void model() {
        FinetuneCommandTest.oracle();
    }

    @Test
    void aCheckpointOfOtherTrainedTensorsIsRefused() throws IOException {
        Path dir = TestPaths.scratch("resume-mismatch");
        Path data = FinetuneCommandTest.images(dir.resolve("data"), 4);
        Path out = dir.resolve("run");
        String[] common = {"--batch-size", "6", "--val-fraction", "0", "--scale", "1/255", "--no-dropout"};
        Cli.Result a = Cli.run(cat(new String[] {"finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", out.toString(),
                "--epochs", "1"}, common));
        assertThat(a.code()).as(a.err()).isZero();
        Cli.Result b = Cli.run(cat(new String[] {"finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", out.toString(),
                "--epochs", "2", "--resume", "--freeze-upto", FinetuneCommandTest.lastPoolLayer()}, common));
        assertThat(b.code()).as(b.out() + b.err()).isEqualTo(2);
        assertThat(b.err()).contains("does not match this run").contains("which this run does not train").contains("--freeze-upto");
        assertThat(b.out()).doesNotContain("epoch 2/2");
    }

    /**
     * A resumed run may change its learning rate (lowering it on resume is common practice, as
     * in Keras after a recompile), but it says so: the checkpoint records the run's settings.
     */
    @Test
    void aChangedLearningRateIsAnnouncedOnResume() throws IOException {
        Path dir = TestPaths.scratch("resume-lr");
        Path data = FinetuneCommandTest.images(dir.resolve("data"), 4);
        Path out = dir.resolve("run");
        String[] common = {"--batch-size", "6", "--val-fraction", "0", "--scale", "1/255", "--no-dropout"};
        Cli.Result a = Cli.run(cat(new String[] {"finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", out.toString(),
                "--epochs", "1", "--lr", "0.01"}, common));
        assertThat(a.code()).as(a.err()).isZero();
        Cli.Result b = Cli.run(cat(new String[] {"finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", out.toString(),
                "--epochs", "2", "--resume", "--lr", "0.001", "--seed", "7"}, common));
        assertThat(b.code()).as(b.out() + b.err()).isZero();
        assertThat(b.out()).contains("note: --resume: schedule is now 'lr 0.001, fixed'; epochs 1-1 ran with 'lr 0.01, fixed'")
                .contains("note: --resume: seed is now '7'").contains("epoch 2/2");
        Cli.Result c = Cli.run(cat(new String[] {"finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", out.toString(),
                "--epochs", "3", "--resume", "--lr", "0.001", "--seed", "7"}, common));
        assertThat(c.code()).as(c.out() + c.err()).isZero();
        assertThat(c.out()).doesNotContain("note: --resume");
    }

    private static String[] cat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
