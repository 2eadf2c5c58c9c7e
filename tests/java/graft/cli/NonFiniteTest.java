package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Weight;
import graft.onnx.OnnxFormat;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Non-finite numbers never become a result: finetune stops at the first NaN/Inf loss (exit 1,
 * the epoch and step named, the last finite checkpoint kept, no model written); no command
 * writes a model whose weights hold NaN or Inf unless convert is told --allow-nonfinite; inspect
 * reports them.
 */
class NonFiniteTest {
    @BeforeAll
    static void model() {
        FinetuneCommandTest.oracle();
    }

    @Test
    void finetuneStopsAtTheFirstNonFiniteLoss() throws IOException {
        Path dir = TestPaths.scratch("nonfinite-finetune");
        Path data = FinetuneCommandTest.images(dir.resolve("data"), 6);
        Path out = dir.resolve("run");
        // epoch 1 at a sane rate, then epoch 2 resumes at a rate that blows the weights up
        Cli.Result ok = Cli.run("finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", out.toString(), "--epochs", "1",
                "--batch-size", "6", "--lr", "0.01", "--val-fraction", "0", "--no-dropout");
        assertThat(ok.code()).as(ok.err()).isZero();
        byte[] before = Files.readAllBytes(out.resolve("checkpoint/checkpoint.json"));
        Files.delete(out.resolve("model.onnx"));
        Cli.Result r = Cli.run("finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", out.toString(), "--epochs", "3",
                "--batch-size", "6", "--lr", "1e30", "--val-fraction", "0", "--no-dropout", "--resume");
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.err()).contains("training diverged").contains("at epoch 2, step").contains("keeps epoch 1")
                .contains("--scale 1/255").contains("--lr");
        assertThat(r.err().lines().count()).isEqualTo(1);
        assertThat(out.resolve("model.onnx")).doesNotExist();
        assertThat(Files.readAllBytes(out.resolve("checkpoint/checkpoint.json"))).isEqualTo(before);
        assertThat(Files.readAllLines(out.resolve("history.csv"))).hasSize(2);
    }

    /** The refusal is the formats' own, not the command line's: the Java API cannot write NaN either. */
    @Test
    void everyFormatRefusesNonFiniteWeightsThroughTheJavaApi() throws IOException {
        Path dir = TestPaths.scratch("nonfinite-api");
        Graph g = OnnxImporter.read(FinetuneCommandTest.model);
        Weight w = g.initializers().values().stream().filter(x -> x.shape().length == 4).findFirst().orElseThrow();
        float[] v = w.toFloats();
        v[3] = Float.NEGATIVE_INFINITY;
        g.addInitializer(Weight.ofFloats(w.name(), w.shape(), v));
        List<graft.io.ModelFormat> formats = List.of(new OnnxFormat(), new graft.keras.KerasFormat(), new graft.caffe.CaffeFormat());
        List<String> names = List.of("api.onnx", "api.h5", "api.prototxt");
        for (int i = 0; i < formats.size(); i++) {
            Path out = dir.resolve(names.get(i));
            graft.io.ModelFormat f = formats.get(i);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> f.write(g, out, Options.none().set("force", true)))
                    .as(f.name()).isInstanceOf(graft.io.FiniteWeights.NonFiniteException.class)
                    .hasMessageContaining(w.name()).hasMessageContaining("1 Inf");
            assertThat(out).as(f.name()).doesNotExist();
            try (var files = Files.list(dir)) {
                assertThat(files.toList()).as(f.name() + ": nothing left behind").isEmpty();
            }
        }
        Path allowed = dir.resolve("allowed.h5");
        new graft.keras.KerasFormat().write(g, allowed, Options.none().set("allow-nonfinite", true));
        assertThat(allowed).exists();
    }

    @Test
    void nonFiniteWeightsAreReportedAndNeverWritten() throws IOException {
        Path dir = TestPaths.scratch("nonfinite-convert");
        Graph g = OnnxImporter.read(FinetuneCommandTest.model);
        Weight w = g.initializers().values().stream().filter(x -> x.shape().length == 4).findFirst().orElseThrow();
        float[] v = w.toFloats();
        v[0] = Float.NaN;
        v[1] = Float.POSITIVE_INFINITY;
        g.addInitializer(Weight.ofFloats(w.name(), w.shape(), v));
        Path src = dir.resolve("nan.onnx");
        new OnnxFormat().write(g, src, Options.none().set("force", true).set("allow-nonfinite", true));

        Cli.Result inspect = Cli.run("inspect", src.toString());
        assertThat(inspect.code()).as(inspect.err()).isZero();
        assertThat(inspect.out()).contains("Non-finite weights: 1 tensor(s): '" + w.name() + "' (1 NaN, 1 Inf)");
        Cli.Result clean = Cli.run("inspect", FinetuneCommandTest.model.toString());
        assertThat(clean.out()).doesNotContain("Non-finite");

        for (String ext : List.of("onnx", "h5")) {
            Path out = dir.resolve("out." + ext);
            Cli.Result c = Cli.run("convert", src.toString(), out.toString());
            assertThat(c.code()).as(c.out() + c.err()).isEqualTo(3);
            assertThat(c.err()).contains("NaN or Inf").contains(w.name()).contains("--allow-nonfinite");
            assertThat(out).doesNotExist();
        }
        Path out = dir.resolve("allowed.onnx");
        Cli.Result c = Cli.run("convert", src.toString(), out.toString(), "--allow-nonfinite");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(OnnxImporter.read(out).initializer(w.name()).toFloats()[0]).isNaN();
        Path edited = dir.resolve("edited.onnx");
        Cli.Result s = Cli.run("surgery", src.toString(), "-o", edited.toString(), "--edit", "freeze all");
        assertThat(s.code()).as(s.out() + s.err()).isEqualTo(3);
        assertThat(edited).doesNotExist();
    }
}
