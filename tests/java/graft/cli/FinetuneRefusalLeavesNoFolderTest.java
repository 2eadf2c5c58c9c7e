package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Found by the silent-output audit's finetune columns: a fine-tune refused before training
 * (here: every layer frozen, exit 2) left the empty run folder {@code -o OUT} behind. Any
 * non-zero exit leaves no output: the folder graft created is removed.
 */
class FinetuneRefusalLeavesNoFolderTest {
    @Test
    void refusedBeforeTrainingLeavesNoRunFolder() throws Exception {
        FinetuneCommandTest.oracle();
        Path dir = TestPaths.scratch("finetune-refusal-folder");
        Path data = PreprocessingRuleTest.images(dir.resolve("data"), 2);
        Path run = dir.resolve("run");
        Cli.Result r = Cli.run("finetune", FinetuneCommandTest.model.toString(), data.toString(), "--freeze-upto", "-1", "--epochs", "1",
                "--val-fraction", "0", "-o", run.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("every layer is frozen");
        assertThat(run).doesNotExist();
    }
}
