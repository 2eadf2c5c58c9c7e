package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.testing.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** For LayerNumbersTest: features --upto N equals --upto NAME; finetune --freeze-upto N freezes through row N. */
public final class LayerNumbersCliSupport {
    private LayerNumbersCliSupport() {
    }

    public static void check(Path dir) throws Exception {
        FinetuneCommandTest.oracle();
        Path data = FeaturesCommandCropTest.images(dir.resolve("data"), 2, 8);
        Graph g = graft.onnx.OnnxImporter.read(FinetuneCommandTest.model);
        List<LayerTable.Row> rows = LayerTable.of(g);
        String pool = FinetuneCommandTest.lastPoolLayer();
        int n = rows.stream().filter(r -> r.layer().equals(pool)).findFirst().orElseThrow().index();
        Path a = dir.resolve("by_name.npy");
        Path b = dir.resolve("by_number.npy");
        Cli.Result ra = Cli.run("features", FinetuneCommandTest.model.toString(), data.toString(), "--upto", pool, "--size", "8", "-o",
                a.toString(), "--force");
        assertThat(ra.code()).as(ra.err()).isZero();
        Cli.Result rb = Cli.run("features", FinetuneCommandTest.model.toString(), data.toString(), "--upto", Integer.toString(n), "--size",
                "8", "-o", b.toString(), "--force");
        assertThat(rb.code()).as(rb.err()).isZero();
        assertThat(Files.readAllBytes(b)).isEqualTo(Files.readAllBytes(a));
        Path run = dir.resolve("ft");
        Cli.Result rf = Cli.run("finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", run.toString(), "--epochs", "1",
                "--size", "8", "--val-fraction", "0", "--freeze-upto", Integer.toString(n));
        assertThat(rf.code()).as(rf.err()).isZero();
        Graph t = graft.onnx.OnnxImporter.read(run.resolve("model.onnx"));
        for (LayerTable.Row r : LayerTable.of(t)) {
            if (r.params() > 0) {
                assertThat(t.trainingOf(r.layer()).trainable()).as(r.layer()).isEqualTo(r.index() > n);
            }
        }
    }
}
