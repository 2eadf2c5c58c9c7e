package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Recipes with mistakes: one line naming the line and the reason, exit 2, nothing written. */
class BadRecipeTest {
    static Stream<Arguments> recipes() {
        return Stream.of(
                Arguments.of("unknown_layer", "edits:\n  - pop 1\n  - cut-after block2_pol\n",
                        "(line 3): edit 'cut-after block2_pol': no layer 'block2_pol'; nearest: block2_pool, block1_pool, block3_pool"),
                Arguments.of("impossible_shape", "input:\n  shape: 160x160x3\nedits:\n  - freeze :3\n",
                        "(line 2): edit 'set-input-shape 160x160x3': layer 'fc1' (Gemm) no longer fits"),
                Arguments.of("head_does_not_fit", "edits:\n  - cut-after block5_pool\n  - attach-head dense 10 softmax\n",
                        "(line 3): edit 'attach-head dense 10 softmax': 'dense 10 softmax' needs a flat (N, features) input; it would get (N, 16, 7, 7)"),
                Arguments.of("bad_yaml", "edits:\n  - pop 3\n  - 'unclosed\n", "is not valid YAML"),
                Arguments.of("edit_not_text", "edits:\n  - pop 3\n  - [pop, 3]\n", "(line 3): each edit is one line of text"),
                Arguments.of("unknown_edit", "edits:\n  - pop 2\n  - chop 3\n", "(line 3): edit 'chop 3': unknown edit 'chop'; known: pop, cut-after"),
                Arguments.of("bad_argument", "edits:\n  - pop three\n", "(line 2): edit 'pop three': N 'three' is not a positive integer"),
                Arguments.of("too_many_pops", "edits:\n  - pop 30\n", "(line 2): edit 'pop 30': the model has 22 layers; pop takes 1 to 21"),
                Arguments.of("unknown_key", "edit:\n  - pop 3\n", "(line 1): unknown key 'edit'"),
                Arguments.of("unknown_option", "convert:\n  opset: 17\n  format: keras\nedits:\n  - pop 3\n",
                        "(line 3): unknown convert option 'format'"),
                Arguments.of("bad_init", "edits:\n  - reinit fc1 --init uniform\n", "(line 2): edit 'reinit fc1 --init uniform': --init 'uniform' is none of"),
                Arguments.of("unknown_range_name", "edits:\n  - freeze ..block4_pooll\n",
                        "(line 2): edit 'freeze ..block4_pooll': no layer 'block4_pooll'; nearest: block4_pool"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("recipes")
    void failsWithLineAndReasonAndWritesNothing(String name, String yaml, String expected) throws IOException {
        Path dir = TestPaths.scratch("surgery-bad-" + name);
        Path recipe = Files.writeString(dir.resolve(name + ".yaml"), yaml);
        Path out = dir.resolve("out.onnx");
        Cli.Result r = Cli.run("surgery", Mini.path("vgg16_mini").toString(), "--recipe", recipe.toString(), "-o", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith("graft: recipe '" + name + ".yaml' ").contains(expected).doesNotContain("Exception").hasLineCount(1);
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly(name + ".yaml");
        }
    }

    @ParameterizedTest(name = "--edit {0}")
    @MethodSource("edits")
    void inlineEditsFailTheSameWay(String edit, String expected) throws IOException {
        Path dir = TestPaths.scratch("surgery-bad-inline");
        Path out = dir.resolve("out.onnx");
        Cli.Result r = Cli.run("surgery", Mini.path("vgg16_mini").toString(), "--edit", "pop 3", "--edit", edit, "-o", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains(expected).hasLineCount(1);
        assertThat(out).doesNotExist();
    }

    static Stream<Arguments> edits() {
        return Stream.of(
                Arguments.of("lr-mult fc9 10 20", "--edit #2: edit 'lr-mult fc9 10 20': no layer 'fc9'; nearest: "),
                Arguments.of("replace-conv-pair block1_conv1 block2_conv1 --kernel 5 --init fit",
                        "layer 'block2_conv1' does not read the output of 'block1_conv1'"),
                Arguments.of("replace-conv-pair block1_conv1 block1_conv2 --kernel 7 --init compose",
                        "a 3x3 and a 3x3 convolution make a 5x5, not --kernel 7"),
                Arguments.of("set-classes 4", "the last layer with weights, 'block5_conv3' (Conv), is not a classifier"));
    }
}
