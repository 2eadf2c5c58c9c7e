package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.ir.Graph;
import graft.surgery.Surgery;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * graft's layer table on a Keras source is Keras's {@code model.layers}: the same rows in the same
 * order (a functional model's InputLayer is row 0, a Sequential model has no input row), and
 * parameter counts as Keras makes them (moving statistics non-trainable, a frozen layer's weights
 * non-trainable, gamma/beta that scale=False/center=False leave out not counted). Checked against
 * TensorFlow.js's {@code model.layers}, {@code trainableWeights} and {@code nonTrainableWeights} on
 * every corpus file TensorFlow.js loads, the reduced VGG16 and a BatchNormalization fixture.
 */
class KerasLayerTableTest {
    static final Set<String> NESTED = Set.of("Sequential", "Model", "Functional");

    @Test
    void rowsAndParameterCountsAreKerasOnEveryFileTensorFlowJsLoads() throws Exception {
        TestPaths.assumeExists(KerasCorpusTest.CORPUS, "the shared Keras corpus");
        Path scratch = TestPaths.scratch("keras-layer-table");
        List<KerasCorpusTest.Case> cases = new ArrayList<>(KerasCorpusTest.cases());
        Path bn = scratch.resolve("bn_variants.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_bn_variants.py"), bn.toString());
        cases.add(new KerasCorpusTest.Case(bn, null, "bn_variants.h5"));
        Path vgg = KerasVgg16Test.model("vgg16_small.h5", "--width-div", "16", "--fc", "64", "--classes", "10");
        cases.add(new KerasCorpusTest.Case(vgg, null, "vgg16_small.h5"));
        List<TfjsFacts.Job> jobs = cases.stream().map(c -> TfjsFacts.Job.of(c.model(), c.config())).toList();
        List<TfjsFacts.Facts> facts = TfjsFacts.run(jobs, scratch.resolve("tfjs"));
        ObjectMapper json = new ObjectMapper();
        int compared = 0;
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            KerasCorpusTest.Case c = cases.get(i);
            TfjsFacts.Facts f = facts.get(i);
            if (f.error() != null) {
                continue;
            }
            List<String> args = new ArrayList<>(List.of("inspect", c.model().toString(), "--json"));
            if (c.config() != null) {
                args.addAll(List.of("--config", c.config().toString()));
            }
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            if (r.code() != 0) {
                continue; // refused by graft (the corpus test pins which)
            }
            compared++;
            JsonNode g = json.readTree(r.out());
            String tag = c.name() + ": ";
            if (g.get("total_params").asLong() != f.trainable() + f.nonTrainable()
                    || g.get("trainable_params").asLong() != f.trainable() || g.get("non_trainable_params").asLong() != f.nonTrainable()) {
                mismatches.add(tag + "totals graft " + g.get("total_params") + "/" + g.get("trainable_params") + "/"
                        + g.get("non_trainable_params") + ", Keras " + (f.trainable() + f.nonTrainable()) + "/" + f.trainable() + "/"
                        + f.nonTrainable());
            }
            if (f.layers().stream().anyMatch(l -> NESTED.contains(l.className()))) {
                continue; // graft expands a nested model into its layers; Keras shows it as one
            }
            List<String> graftRows = new ArrayList<>();
            g.get("layers").forEach(l -> graftRows.add(l.get("name").asText() + " " + l.get("trainable_params").asLong() + "/"
                    + l.get("non_trainable_params").asLong()));
            List<String> kerasRows = f.layers().stream().map(l -> l.name() + " " + l.trainable() + "/" + l.nonTrainable()).toList();
            if (!graftRows.equals(kerasRows)) {
                mismatches.add(tag + "rows graft " + graftRows + ", Keras " + kerasRows);
            }
            String numbering = g.get("layer_numbering").asText();
            assertThat(numbering).as(tag).isEqualTo(f.className().equals("Sequential") ? "keras-sequential" : "keras-functional");
        }
        assertThat(mismatches).isEmpty();
        assertThat(compared).isGreaterThanOrEqualTo(30);
    }

    @Test
    void sliceFreezesWhatKerasModelLayersSliceWouldFreeze() {
        Path cnn = KerasCorpusTest.CORPUS.resolve("fullconfigs/cnn/cnn_batch_norm.h5");
        TestPaths.assumeExists(cnn, "the shared Keras corpus");
        // Sequential: model.layers[:2] = conv2d_1, batch_normalization_1
        Graph g = Surgery.on(new KerasFormat().read(cnn, graft.io.Options.none())).freeze(":2").apply();
        assertThat(g.trainingOf("conv2d_1").trainable()).isFalse();
        assertThat(g.trainingOf("batch_normalization_1").trainable()).isFalse();
        assertThat(g.trainingOf("conv2d_2").trainable()).isTrue();
        // functional: model.layers[:3] = input_1, block1_conv1, block1_conv2
        Path vgg = KerasVgg16Test.model("vgg16_small.h5", "--width-div", "16", "--fc", "64", "--classes", "10");
        Graph v = Surgery.on(new KerasFormat().read(vgg, graft.io.Options.none())).freeze(":3").apply();
        assertThat(v.trainingOf("block1_conv2").trainable()).isFalse();
        assertThat(v.trainingOf("block2_conv1").trainable()).isTrue();
    }

    @Test
    void inspectSaysWhichNumberingApplies() {
        Path cnn = KerasCorpusTest.CORPUS.resolve("fullconfigs/cnn/cnn_batch_norm.h5");
        TestPaths.assumeExists(cnn, "the shared Keras corpus");
        Cli.Result r = Cli.run("inspect", cnn.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("layer numbers: Keras Sequential model.layers (no InputLayer row; the first layer is 0)")
                .contains("Total params: 79").contains("Trainable params: 77").contains("Non-trainable params: 2");
        Path vgg = KerasVgg16Test.model("vgg16_small.h5", "--width-div", "16", "--fc", "64", "--classes", "10");
        assertThat(Cli.run("inspect", vgg.toString()).out()).contains("layer numbers: Keras functional model.layers (the InputLayer is 0)");
        assertThat(Cli.run("inspect", TestPaths.fixtures().resolve("onnx/small_vgg.onnx").toString()).out())
                .contains("layer numbers: graft rows (no input row; the first layer is 0)");
    }

    /**
     * The "wrote ... N parameters" line of convert and surgery counts as inspect and Keras count:
     * not the gamma/beta graft made up for scale=False/center=False, not Reshape shape constants.
     */
    @Test
    void wroteLineCountsParametersAsKerasDoes() throws Exception {
        Path scratch = TestPaths.scratch("keras-wrote-count");
        Path bn = scratch.resolve("bn_variants.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_bn_variants.py"), bn.toString());
        TfjsFacts.Facts f = TfjsFacts.run(List.of(TfjsFacts.Job.of(bn, null)), scratch.resolve("tfjs")).get(0);
        assertThat(f.error()).isNull();
        String keras = String.format("%,d parameters", f.trainable() + f.nonTrainable());
        Cli.Result c = Cli.run("convert", bn.toString(), scratch.resolve("bn.onnx").toString(), "--force");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).contains(keras);
        Cli.Result s = Cli.run("surgery", bn.toString(), "--edit", "freeze conv_a", "-o", scratch.resolve("bn_frozen.h5").toString(), "--force");
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(s.out()).contains(keras);
    }
}
