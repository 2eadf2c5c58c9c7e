package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Value;
import graft.keras.KerasFormat;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Edits a DAG does not allow (issue #16): each exits 2 with one line naming the layer and the
 * branch, and writes no output file. Models: the width-reduced keras.applications twins
 * (fixtures/keras/make_applications.py) and a conv pair whose first output also feeds a branch,
 * built here from fixtures/surgery/conv_pair_linear.onnx.
 */
class DagRefusalTest {
    static final Path APPS = TestPaths.fixtures().resolve("keras/applications");

    static Stream<Arguments> refusals() {
        return Stream.of(
                // an Add joining the shortcut and the residual branch
                Arguments.of("resnet50", "remove conv2_block1_add", List.of("conv2_block1_add", "joins 2 branches", "conv2_block1_0_bn", "conv2_block1_3_bn")),
                // a block output read by the next block's first conv and by its Add (the shortcut)
                Arguments.of("resnet50", "remove conv2_block2_out", List.of("conv2_block2_out", "read by 2", "conv2_block3_1_conv", "conv2_block3_add")),
                Arguments.of("resnet50", "replace conv2_block1_add relu", List.of("conv2_block1_add", "joins 2 branches")),
                Arguments.of("resnet50", "cut-before conv2_block1_add", List.of("conv2_block1_add", "joins 2 branches")),
                // pop to conv5_block1_3_bn: the shortcut's 0_conv and 0_bn before it would go too
                Arguments.of("resnet50", "pop 24", List.of("conv5_block1_3_bn", "conv5_block1_0_conv", "conv5_block1_0_bn", "cut-after")),
                // an Add input shared with the shortcut
                Arguments.of("mobilenetv2", "remove block_1_project_BN", List.of("block_1_project_BN", "block_2_expand", "block_2_add")),
                Arguments.of("mobilenetv2", "remove block_2_add", List.of("block_2_add", "block_1_project_BN", "block_2_project_BN")),
                // squeeze-excitation: the Multiply joins the features and the gate
                Arguments.of("efficientnetb0", "remove block2a_se_excite", List.of("block2a_se_excite", "block2a_activation", "block2a_se_expand")),
                Arguments.of("inceptionv3", "remove mixed0", List.of("mixed0", "joins 4 branches")),
                Arguments.of("densenet121", "replace conv2_block1_concat relu", List.of("conv2_block1_concat", "joins 2 branches")),
                Arguments.of("xception", "remove add", List.of("'add'", "joins 2 branches")),
                // a BatchNormalization between the pair: replace-conv-pair needs the second to read the first
                Arguments.of("resnet50", "replace-conv-pair conv2_block1_1_conv conv2_block1_2_conv --kernel 5 --init compose",
                        List.of("conv2_block1_2_conv", "does not read the output of 'conv2_block1_1_conv'")));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("refusals")
    void aDagEditItCannotMakeExits2InOneLineAndWritesNothing(String model, String edit, List<String> named) throws Exception {
        Path out = TestPaths.scratch("dag-refusal").resolve(model + "_" + edit.replaceAll("\\W+", "_") + ".onnx");
        Files.deleteIfExists(out);
        Cli.Result r = Cli.run("surgery", APPS.resolve(model + "_small.h5").toString(), "--edit", edit, "-o", out.toString());
        assertRefused(r, out, named);
    }

    static void assertRefused(Cli.Result r, Path out, List<String> named) throws Exception {
        System.out.println(r.err().strip());
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("internal error");
        for (String s : named) {
            assertThat(r.err()).contains(s);
        }
        assertThat(out).doesNotExist();
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(out.getFileName().toString()))).isEmpty();
        }
    }

    /** The same edits on a layer that neither joins nor starts a branch still work: the refusals are not blanket. */
    @Test
    void aChainLayerOfTheSameDagIsStillRemovedAndPopStillPopsToABlockOutput() throws Exception {
        Path dir = TestPaths.scratch("dag-refusal-ok");
        Graph g = new KerasFormat().read(APPS.resolve("resnet50_small.h5"), Options.none());
        int n = Layers.names(g).size();
        Graph removed = Surgery.on(g).edit("remove conv2_block1_1_relu").apply();
        assertThat(Layers.names(removed)).hasSize(n - 1).doesNotContain("conv2_block1_1_relu");
        Graph popped = Surgery.on(g).edit("pop 2").apply();
        assertThat(Layers.names(popped)).hasSize(n - 2).last().isEqualTo("conv5_block3_out");
        Path out = dir.resolve("removed.onnx");
        Files.deleteIfExists(out);
        Cli.Result r = Cli.run("surgery", APPS.resolve("resnet50_small.h5").toString(), "--edit", "remove conv2_block1_1_relu", "-o", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out).exists();
    }

    /**
     * Every 'pop N' and every 'remove LAYER' on the six twins either refuses or takes out exactly
     * what it says (N layers; that one layer): no edit of these two kinds drops a branch silently.
     */
    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "mobilenetv2", "inceptionv3", "densenet121", "xception", "efficientnetb0"})
    void everyPopAndRemoveOnTheTwinsRefusesOrRemovesExactlyWhatItSays(String model) {
        Graph g = new KerasFormat().read(APPS.resolve(model + "_small.h5"), Options.none());
        List<String> names = Layers.names(g);
        int n = names.size();
        int popRefused = 0;
        for (int k = 1; k < n; k++) {
            Graph c = g.copy();
            try {
                new Pop(k).apply(c);
            } catch (EditException e) {
                assertThat(e.getMessage()).contains("one branch of a popped join");
                popRefused++;
                continue;
            }
            assertThat(Layers.names(c)).as("pop " + k).isEqualTo(names.subList(0, n - k));
        }
        int removeRefused = 0;
        int removeMisfit = 0;
        List<String> removed = new ArrayList<>();
        for (String l : names) {
            Graph c = g.copy();
            try {
                new Remove(l).apply(c);
            } catch (EditException e) {
                if (e.getMessage().contains("branch")) {
                    removeRefused++;
                } else {
                    removeMisfit++;
                }
                continue;
            }
            List<String> want = new ArrayList<>(names);
            want.remove(l);
            assertThat(Layers.names(c)).as("remove " + l).isEqualTo(want);
            removed.add(l);
        }
        System.out.printf("%s: %d layers; pop refused for %d of %d counts; remove: %d done, %d refused as a branch, %d no longer fit%n",
                model, n, popRefused, n - 1, removed.size(), removeRefused, removeMisfit);
    }

    /**
     * replace-conv-pair across a branch: conv_a's output (or the ReLU after it) also feeds
     * conv_c, whose output joins conv_b's in an Add. Merging conv_a into conv_b would cut conv_c off.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void replaceConvPairAcrossABranchExits2NamingTheReaders(boolean reluBetween) throws Exception {
        Path dir = TestPaths.scratch("dag-refusal-pair");
        Graph g = Mini.load("conv_pair_linear");
        Node a = Layers.nodes(g, "conv_a").get(0);
        Node b = Layers.nodes(g, "conv_b").get(0);
        String mid = a.output(0);
        List<Node> nodes = new ArrayList<>();
        nodes.add(a);
        if (reluBetween) {
            nodes.add(Node.of(Op.RELU, "act", "act", List.of(mid), List.of("act_out"), Map.of()));
            mid = "act_out";
        }
        nodes.add(b.withInputs(List.of(mid, b.input(1), b.input(2))));
        nodes.add(b.withName("conv_c", "conv_c").withInputs(List.of(mid, b.input(1), b.input(2))).withOutputs(List.of("c_out")));
        nodes.add(Node.of(Op.ADD, "join", "join", List.of(b.output(0), "c_out"), List.of("sum"), Map.of()));
        g.nodes().clear();
        g.nodes().addAll(nodes);
        g.outputs().clear();
        g.outputs().add(new Value("sum", null));
        graft.ir.ShapeInference.run(g);
        g.outputs().set(0, new Value("sum", g.type("sum")));
        Path model = Mini.write(g, dir.resolve(reluBetween ? "branch_relu.onnx" : "branch.onnx"));
        Path out = dir.resolve(reluBetween ? "merged_relu.onnx" : "merged.onnx");
        Files.deleteIfExists(out);
        Cli.Result r = Cli.run("surgery", model.toString(), "--edit", "replace-conv-pair conv_a conv_b --kernel 5 --init compose", "-o", out.toString());
        assertRefused(r, out, List.of(reluBetween ? "'act'" : "'conv_a'", "starts a branch", "conv_b, conv_c"));
    }
}
