package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import graft.ir.Graph;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Java builder, layer ranges, and the command line's dry run and output rules. */
class SurgeryApiTest {
    @Test
    void builderMatchesTheRecipeAndLeavesTheOriginalAlone() {
        Graph g = Mini.load("vgg16_mini");
        int nodes = g.nodes().size();
        Graph api = Surgery.on(g).pop(3).attachHead("dense 1024 relu", "dense 128 relu", "dense 5 softmax").freeze(":15").apply();
        Graph yaml = Recipe.parse("r.yaml", "edits:\n  - pop 3\n  - attach-head dense 1024 relu, dense 128 relu, dense 5 softmax\n"
                + "  - freeze :15\n").apply(g);
        assertThat(LayerDiff.of(api, yaml)).contains("(0 added, 0 removed, 0 changed, 3 with new weights)");
        assertThat(api.metadata().get("graft.edits")).isEqualTo(yaml.metadata().get("graft.edits"));
        assertThat(g.nodes()).hasSize(nodes);
        assertThat(g.outputs().get(0).name()).isEqualTo("predictions");
        assertThat(g.training()).isEmpty();
    }

    @Test
    void aFailingEditNamesTheNearestLayersAndChangesNothing() {
        Graph g = Mini.load("vgg16_mini");
        Surgery s = Surgery.on(g).pop(3).cutAfter("block5_conv");
        assertThatThrownBy(s::apply).isInstanceOf(EditException.class)
                .hasMessage("edit 'cut-after block5_conv': no layer 'block5_conv'; nearest: block5_conv1, block5_conv2, block5_conv3");
        assertThat(Layers.names(g)).hasSize(22);
        assertThat(g.metadata()).doesNotContainKey("graft.edits");
    }

    @Test
    void rangesReadAsKerasSlicesNamesAndPatterns() {
        Graph g = Mini.load("vgg16_mini");
        assertThat(new LayerRange(":3").resolve(g, "t")).containsExactly("block1_conv1", "block1_conv2", "block1_pool");
        assertThat(new LayerRange("-3:").resolve(g, "t")).containsExactly("fc1", "fc2", "predictions");
        assertThat(new LayerRange("block5_conv2..").resolve(g, "t")).containsExactly("block5_conv2", "block5_conv3", "block5_pool",
                "flatten", "fc1", "fc2", "predictions");
        assertThat(new LayerRange("..block1_pool").resolve(g, "t")).hasSize(3);
        assertThat(new LayerRange("block3_conv1..block3_pool").resolve(g, "t")).hasSize(4);
        assertThat(new LayerRange("block*_pool,fc1").resolve(g, "t")).hasSize(6);
        assertThat(new LayerRange("7").resolve(g, "t")).containsExactly("block3_conv2");
        assertThat(new LayerRange("all").resolve(g, "t")).hasSize(22);
    }

    @Test
    void fusedActivationsAndMultiNodeLayersMoveAsOneLayer() {
        Graph g = Surgery.on(Mini.load("caffenet_mini")).cutBefore("fc6").apply();
        assertThat(Layers.names(g)).endsWith("relu5", "pool5");
        assertThat(g.nodes()).noneMatch(n -> n.name().equals("fc6_flatten"));
        Graph h = Surgery.on(Mini.load("vgg16_mini")).remove("fc2").apply();
        assertThat(h.nodes()).noneMatch(n -> n.layer().equals("fc2"));
    }

    @Test
    void dryRunPrintsTheDiffAndWritesNothing() throws Exception {
        Path dir = TestPaths.scratch("surgery-dry");
        Path out = dir.resolve("x.onnx");
        Cli.Result r = Cli.run("surgery", Mini.path("vgg16_mini").toString(), "--edit", "pop 1", "--edit", "set-classes 3", "-o", out.toString(),
                "--dry-run");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("- 21  predictions", "~ 20  fc2", "dry run: nothing written");
        assertThat(out).doesNotExist();
        Cli.Result w = Cli.run("surgery", Mini.path("vgg16_mini").toString(), "--edit", "pop 1", "-o", out.toString());
        assertThat(w.code()).as(w.err()).isZero();
        byte[] first = Files.readAllBytes(out);
        Cli.Result again = Cli.run("surgery", Mini.path("vgg16_mini").toString(), "--edit", "pop 2", "-o", out.toString());
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("exists; pass --force");
        assertThat(Files.readAllBytes(out)).isEqualTo(first);
        Cli.Result self = Cli.run("surgery", Mini.path("vgg16_mini").toString(), "--edit", "pop 2", "-o", Mini.path("vgg16_mini").toString(),
                "--force");
        assertThat(self.code()).isEqualTo(2);
        assertThat(self.err()).contains("is the input file");
        assertThat(Cli.run("surgery", Mini.path("vgg16_mini").toString(), "-o", out.toString()).err()).contains("needs --recipe or at least one --edit");
        assertThat(List.of(Cli.run("surgery", "--help").out())).anyMatch(s -> s.contains("replace-conv-pair A B --kernel 5 --init random|compose|fit"));
    }
}
