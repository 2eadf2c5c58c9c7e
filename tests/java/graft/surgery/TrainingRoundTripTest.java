package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Frozen layers and lr/decay multipliers are IR state (Graph.training) written by the ONNX
 * exporter as graft.training metadata; they, and the grouping of nodes into layers, must come
 * back unchanged from ONNX -> ONNX, and a second write must be byte-identical to the first.
 */
class TrainingRoundTripTest {
    @Test
    void frozenAndMultipliersSurviveOnnxToOnnx() throws Exception {
        Path dir = TestPaths.scratch("surgery-training");
        Graph g = Surgery.on(Mini.load("vgg16_mini")).freeze(":15").lrMult("fc2", 10, 20).decayMult("fc2", 1, 0)
                .lrMult("predictions", 0, 0).apply();
        assertThat(g.trainingOf("predictions").trainable()).isFalse();
        Path a = Mini.write(g, dir.resolve("a.onnx"));
        Graph back = new graft.onnx.OnnxFormat().read(a, graft.io.Options.none());
        assertThat(back.training()).isEqualTo(g.training());
        assertThat(back.trainingOf("fc2")).isEqualTo(new LayerTraining(true, java.util.List.of(10f, 20f), java.util.List.of(1f, 0f)));
        assertThat(Layers.names(back)).isEqualTo(Layers.names(g));
        assertThat(back.metadata().get("graft.edits")).isEqualTo(String.join("\n", "freeze :15", "lr-mult fc2 10 20",
                "decay-mult fc2 1 0", "lr-mult predictions 0 0"));
        Path b = Mini.write(back, dir.resolve("b.onnx"));
        assertThat(Files.readAllBytes(b)).isEqualTo(Files.readAllBytes(a));
        Cli.Result r = Cli.run("inspect", b.toString());
        assertThat(r.out()).containsPattern("block5_conv1 +Conv\\+Relu .* no")
                .containsPattern("fc2 +Gemm\\+Relu .* yes lr_mult 10/20")
                .contains("Edits: freeze :15; lr-mult fc2 10 20");
        // and through graft convert, down to opset 11
        Path c = dir.resolve("c.onnx");
        assertThat(Cli.run("convert", b.toString(), c.toString(), "--opset", "11").code()).isZero();
        Graph conv = new graft.onnx.OnnxFormat().read(c, graft.io.Options.none());
        assertThat(conv.training()).isEqualTo(g.training());
        assertThat(conv.opsets().get("")).isEqualTo(11L);
    }

    /** A recipe's input/output/convert options: the input format, the output file, the opset. */
    @Test
    void recipeOptionsChooseFormatOutputAndOpset() throws Exception {
        Path dir = TestPaths.scratch("surgery-recipe-options");
        Path model = Files.copy(Mini.path("vgg16_mini"), dir.resolve("vgg16_mini.model"));
        Path out = dir.resolve("from_recipe.onnx");
        Path recipe = Files.writeString(dir.resolve("r.yaml"), "input: {from: onnx}\noutput:\n  file: " + out
                + "\nconvert: {opset: 13, external-data: never}\nedits:\n  - pop 1\n  - freeze fc1\n");
        Cli.Result r = Cli.run("surgery", model.toString(), "--recipe", recipe.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Graph g = new graft.onnx.OnnxFormat().read(out, graft.io.Options.none());
        assertThat(g.opsets().get("")).isEqualTo(13L);
        assertThat(g.trainingOf("fc1").trainable()).isFalse();
        assertThat(g.outputs().get(0).name()).isEqualTo("fc2");
    }
}
