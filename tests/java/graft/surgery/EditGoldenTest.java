package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One golden before/after layer table per edit, on the bundled VGG16-topology model (CaffeNet for
 * the Caffe-flavoured edits, the batch-norm model for folding). The goldens under
 * fixtures/surgery/golden were checked by hand once and document what each edit does; they are
 * compared exactly. {@code -Dgraft.golden.update=true} rewrites them (then read the diff).
 */
class EditGoldenTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("pop", "vgg16_mini", List.of(), "pop 3"),
                Arguments.of("cut_after", "vgg16_mini", List.of(), "cut-after block2_pool"),
                Arguments.of("cut_before", "vgg16_mini", List.of(), "cut-before flatten"),
                Arguments.of("remove", "vgg16_mini", List.of(), "remove fc2"),
                Arguments.of("insert_after", "vgg16_mini", List.of(), "insert-after fc1 dropout 0.5"),
                Arguments.of("replace", "vgg16_mini", List.of(), "replace fc2 dense 64 tanh"),
                Arguments.of("attach_head", "vgg16_mini", List.of("cut-after block5_pool"),
                        "attach-head flatten, dense 256 relu, dropout 0.5, dense 1 sigmoid"),
                Arguments.of("attach_head_global", "vgg16_mini", List.of("cut-after block5_conv3"),
                        "attach-head global-avg, dense 1024 relu, dense 128 relu, dense 7 softmax"),
                Arguments.of("set_classes", "vgg16_mini", List.of(), "set-classes 20"),
                Arguments.of("rename", "caffenet_mini", List.of(), "rename fc8 fc8_flickr"),
                Arguments.of("reinit", "vgg16_mini", List.of(), "reinit fc1 --init he --seed 3"),
                Arguments.of("set_input_shape", "vgg16_mini", List.of("cut-after block5_pool"), "set-input-shape 160x160x3"),
                Arguments.of("replace_conv_pair", "vgg16_mini", List.of(), "replace-conv-pair block1_conv1 block1_conv2 --kernel 5 --init compose"),
                Arguments.of("freeze", "vgg16_mini", List.of(), "freeze :15"),
                Arguments.of("freeze_names", "vgg16_mini", List.of(), "freeze ..block4_pool"),
                Arguments.of("unfreeze", "vgg16_mini", List.of("freeze all"), "unfreeze block5_*"),
                Arguments.of("lr_mult", "caffenet_mini", List.of(), "lr-mult fc8 10 20"),
                Arguments.of("decay_mult", "caffenet_mini", List.of(), "decay-mult fc8 1 0"),
                Arguments.of("fold_batchnorm", "bn_mini", List.of(), "fold-batchnorm"));
    }

    @ParameterizedTest(name = "{0}: {3}")
    @MethodSource("cases")
    void layerTableBeforeAndAfter(String golden, String model, List<String> setup, String edit) throws IOException {
        Graph start = Mini.load(model);
        Surgery prep = Surgery.on(start);
        setup.forEach(prep::edit);
        Graph before = prep.apply();
        Graph after = Surgery.on(before).edit(edit).apply();
        String text = "# " + model + (setup.isEmpty() ? "" : ", after " + String.join("; ", setup)) + ": " + edit + "\n"
                + LayerDiff.of(before, after);
        Path file = TestPaths.fixtures().resolve("surgery/golden/" + golden + ".txt");
        if (Boolean.getBoolean("graft.golden.update")) {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text);
        }
        assertThat(text).isEqualTo(Files.readString(file));
        assertThat(after.metadata().get("graft.edits")).endsWith(edit);
    }
}
