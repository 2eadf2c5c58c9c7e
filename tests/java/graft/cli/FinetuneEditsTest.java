package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * finetune's --freeze-upto and --reinit are the surgery edits: the same precondition checks
 * (a layer without weights cannot be re-initialised) and the same provenance lines a recipe writes.
 */
class FinetuneEditsTest {
    @BeforeAll
    static void model() {
        FinetuneCommandTest.oracle();
    }

    @Test
    void freezeAndReinitAreTheSurgeryEdits() throws IOException {
        Path dir = TestPaths.scratch("finetune-edits");
        Path data = FinetuneCommandTest.images(dir.resolve("data"), 4);
        Graph src = OnnxImporter.read(FinetuneCommandTest.model);
        String head = src.nodes().get(src.nodes().size() - 1).layer();
        String pool = FinetuneCommandTest.lastPoolLayer();
        Cli.Result bad = Cli.run("finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", dir.resolve("bad").toString(),
                "--reinit", pool, "--epochs", "1");
        assertThat(bad.code()).as(bad.out() + bad.err()).isEqualTo(2);
        assertThat(bad.err()).contains("has no weights to re-initialise");

        Path out = dir.resolve("run");
        Cli.Result r = Cli.run("finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", out.toString(), "--freeze-upto",
                pool, "--reinit", head, "--epochs", "1", "--batch-size", "6", "--scale", "1/255", "--val-fraction", "0", "--seed", "3");
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        String edits = OnnxImporter.read(out.resolve("model.onnx")).metadata().get("graft.edits");
        assertThat(edits).contains("freeze .." + pool).contains("reinit " + head + " --init glorot --seed 3");
    }
}
