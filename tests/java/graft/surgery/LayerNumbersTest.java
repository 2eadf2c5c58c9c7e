package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The numbers 'graft inspect' prints name layers wherever a layer is named: in every edit that
 * takes a LAYER, in a range's a..b bounds, and (through the same resolver) in finetune's
 * --freeze-upto and features' --upto. A name that looks like a number still means that name.
 */
class LayerNumbersTest {
    @Test
    void editsTakeInspectNumbersForLayers() {
        Graph g = Mini.load("vgg16_mini");
        List<String> names = Layers.names(g);
        assertThat(names.get(9)).isEqualTo("block3_pool");
        Graph byNumber = Surgery.on(g).edit("cut-after 9").apply();
        Graph byName = Surgery.on(g).edit("cut-after block3_pool").apply();
        assertThat(Layers.names(byNumber)).isEqualTo(Layers.names(byName)).endsWith("block3_pool");
        Graph f = Surgery.on(g).edit("freeze ..9").apply();
        assertThat(f.trainingOf("block3_conv3").trainable()).isFalse();
        assertThat(f.trainingOf("block4_conv1").trainable()).isTrue();
        assertThat(names.subList(names.size() - 3, names.size())).containsExactly("fc1", "fc2", "predictions");
        Graph r = Surgery.on(g).edit("freeze 4..-3").apply();
        assertThat(r.trainingOf("block2_conv1").trainable()).isTrue();
        assertThat(r.trainingOf("block2_conv2").trainable()).isFalse();
        assertThat(r.trainingOf("fc1").trainable()).isFalse();
        assertThat(r.trainingOf("fc2").trainable()).isTrue();
        Graph lr = Surgery.on(g).edit("lr-mult -1 10 20").apply();
        assertThat(lr.trainingOf(names.get(names.size() - 1)).lrMult()).containsExactly(10f, 20f);
        Graph ins = Surgery.on(g).edit("insert-after 2 dropout 0.5").apply();
        assertThat(Layers.names(ins).get(3)).isEqualTo("dropout");
        assertThat(Surgery.on(g).edit("remove 1").apply().layers()).doesNotContain("block1_conv2");
    }

    /** README's Java example: Keras's model.layers[:15] is ..block4_pool; on the ONNX model (no input row) ':15' would take block5_conv1 too. */
    @Test
    void readmeJavaExampleFreezesThroughBlock4Pool() {
        Graph g = Mini.load("vgg16_mini");
        Graph t = Surgery.on(g).pop(3).attachHead("dense 1024 relu", "dense 128 relu", "dense 5 softmax").freeze("..block4_pool").apply();
        assertThat(t.trainingOf("block4_conv3").trainable()).isFalse();
        assertThat(t.trainingOf("block5_conv1").trainable()).isTrue();
        assertThat(Surgery.on(g).freeze(":15").apply().trainingOf("block5_conv1").trainable()).isFalse();
    }

    /** finetune --reinit: a layer given by number gets the filler its name gets (He before a Relu), not Glorot by default. */
    @Test
    void reinitForLayerTakesNumbersAsNames() {
        Graph g = Mini.load("vgg16_mini");
        int row = Layers.names(g).indexOf("block3_conv1");
        assertThat(Reinit.forLayer(g, String.valueOf(row), 3)).isEqualTo(Reinit.forLayer(g, "block3_conv1", 3))
                .extracting(Reinit::init).isEqualTo(Init.HE);
    }

    @Test
    void aNumberOutsideTheTableIsOneLineNamingTheRange() {
        Path mini = Mini.path("vgg16_mini");
        Cli.Result r = Cli.run("surgery", mini.toString(), "--edit", "cut-after 99", "--dry-run");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("layer 99").contains("0..");
        Cli.Result ok = Cli.run("surgery", mini.toString(), "--edit", "cut-after 9", "--dry-run");
        assertThat(ok.code()).as(ok.err()).isZero();
    }

    @Test
    void featuresAndFinetuneTakeNumbers() throws Exception {
        graft.cli.LayerNumbersCliSupport.check(TestPaths.scratch("layer-numbers"));
    }
}
