package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every shipped recipe, run as the README shows it ({@code graft surgery MODEL --recipe R -o OUT})
 * on the bundled model; each output passes onnx.checker (full check), runs in ONNX Runtime, has
 * the shapes the recipe promises, and carries its training state as ONNX metadata that Python
 * reads back.
 */
class RecipesTest {
    static Path dir;
    static final Map<String, JsonNode> ORACLE = new HashMap<>();
    static final String[][] RECIPES = {
        {"vgg16_bottleneck", "vgg16_mini"},
        {"vgg16_finetune", "vgg16_mini"},
        {"caffenet_flickr_style", "caffenet_mini"},
        {"vgg16_cut_block2_160", "vgg16_mini"},
        {"vgg16_block1_5x5", "vgg16_mini"},
        {"resnet50_transfer", "resnet50_small.h5"},
        {"resnet50_finetune", "resnet50_small.h5"},
        {"mobilenetv2_transfer", "mobilenetv2_small.h5"},
        {"mobilenetv2_finetune", "mobilenetv2_small.h5"},
    };

    /** A bundled surgery model, or a width-reduced keras.applications twin (fixtures/keras/make_applications.py). */
    static Path model(String name) {
        return name.endsWith(".h5") ? TestPaths.fixtures().resolve("keras/applications/" + name) : Mini.path(name);
    }

    @BeforeAll
    static void runEveryRecipe() throws Exception {
        dir = TestPaths.scratch("surgery-recipes");
        List<String> outs = new ArrayList<>();
        for (String[] r : RECIPES) {
            Path out = dir.resolve(r[0] + ".onnx");
            Cli.Result res = Cli.run("surgery", model(r[1]).toString(), "--recipe",
                    TestPaths.root().resolve("recipes/" + r[0] + ".yaml").toString(), "-o", out.toString());
            assertThat(res.code()).as(r[0] + ": " + res.err()).isZero();
            assertThat(res.out()).contains("wrote " + out);
            outs.add(out.toString());
        }
        String lines = Python.run(TestPaths.fixtures().resolve("surgery/check_onnx.py"), outs.toArray(String[]::new));
        ObjectMapper json = new ObjectMapper();
        for (String l : lines.strip().split("\n")) {
            JsonNode n = json.readTree(l);
            String f = Path.of(n.get("file").asText()).getFileName().toString();
            ORACLE.put(f.substring(0, f.length() - 5), n);
        }
    }

    /** Runs the recipe's output in ONNX Runtime on a seeded batch of 2; returns the only output. */
    private static Tensor run(String recipe) {
        try (OrtRunner r = OrtRunner.open(dir.resolve(recipe + ".onnx"), Device.CPU)) {
            Map.Entry<String, OrtRunner.TensorSpec> in = r.inputs().entrySet().iterator().next();
            long[] shape = in.getValue().shape().clone();
            shape[0] = 2;
            Map<String, Tensor> out = r.run(Map.of(in.getKey(), Tensor.random(DataType.FLOAT, shape, 21)));
            assertThat(out).hasSize(1);
            return out.values().iterator().next();
        }
    }

    private static Graph reload(String recipe) {
        return new graft.onnx.OnnxFormat().read(dir.resolve(recipe + ".onnx"), graft.io.Options.none());
    }

    @Test
    void bottleneckIsTheFrozenTrunkWithASigmoidHead() {
        Tensor y = run("vgg16_bottleneck");
        assertThat(y.shape()).containsExactly(2, 1);
        for (float v : y.toFloats()) {
            assertThat(v).isStrictlyBetween(0f, 1f);
        }
        Graph g = reload("vgg16_bottleneck");
        assertThat(Layers.names(g).subList(18, 22)).containsExactly("flatten", "dense", "dropout", "dense_1");
        assertThat(g.trainingOf("block5_conv3").trainable()).isFalse();
        assertThat(g.trainingOf("dense").trainable()).isTrue();
        JsonNode o = ORACLE.get("vgg16_bottleneck");
        assertThat(o.get("outputs").get("dense_1").toString()).isEqualTo("[\"N\",1]");
        assertThat(o.get("training").get("block1_conv1").get("trainable").asBoolean()).isFalse();
    }

    @Test
    void finetuneHasTheNewHeadAndTheFirstFifteenLayersFrozen() {
        Tensor y = run("vgg16_finetune");
        assertThat(y.shape()).containsExactly(2, 5);
        float[] p = y.toFloats();
        assertThat(p[0] + p[1] + p[2] + p[3] + p[4]).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-5f));
        Graph g = reload("vgg16_finetune");
        List<String> names = Layers.names(g);
        assertThat(names.subList(19, 22)).containsExactly("dense", "dense_1", "dense_2");
        // Keras's model.layers[:15] (InputLayer first) = block1_conv1 .. block4_pool = graft rows 0..13.
        assertThat(names.get(13)).isEqualTo("block4_pool");
        for (int i = 0; i < 14; i++) {
            if (names.get(i).endsWith("_pool")) {
                continue; // no weights, no training state
            }
            assertThat(g.trainingOf(names.get(i)).trainable()).as(names.get(i)).isFalse();
        }
        for (String trains : List.of("block5_conv1", "block5_conv2", "block5_conv3", "dense", "dense_1", "dense_2")) {
            assertThat(g.trainingOf(trains).trainable()).as(trains).isTrue();
        }
        JsonNode t = ORACLE.get("vgg16_finetune").get("training");
        assertThat(t.get("block4_conv3").get("trainable").asBoolean()).isFalse();
        assertThat(t.has("block5_conv1")).isFalse();
    }

    @Test
    void flickrStyleRenamesFc8AndSetsItsMultipliers() {
        Tensor y = run("caffenet_flickr_style");
        assertThat(y.shape()).containsExactly(2, 20);
        Graph g = reload("caffenet_flickr_style");
        assertThat(Layers.names(g)).contains("fc8_flickr").doesNotContain("fc8");
        assertThat(g.trainingOf("fc8_flickr").lrMult()).containsExactly(10f, 20f);
        assertThat(g.trainingOf("fc8_flickr").decayMult()).containsExactly(1f, 0f);
        JsonNode t = ORACLE.get("caffenet_flickr_style").get("training").get("fc8_flickr");
        assertThat(t.get("lr_mult").toString()).isEqualTo("[10.0,20.0]");
        assertThat(ORACLE.get("caffenet_flickr_style").get("edits").toString()).contains("rename fc8 fc8_flickr", "lr-mult fc8_flickr 10 20");
    }

    @Test
    void block2CutRunsAt160WithTheConvHead() {
        Tensor y = run("vgg16_cut_block2_160");
        assertThat(y.shape()).containsExactly(2, 10);
        JsonNode o = ORACLE.get("vgg16_cut_block2_160");
        assertThat(o.get("inputs").get("input_1").toString()).isEqualTo("[\"N\",3,160,160]");
        Graph g = reload("vgg16_cut_block2_160");
        assertThat(Layers.names(g)).endsWith("block2_pool", "head_conv", "global_average_pooling2d", "head_predictions");
    }

    @Test
    void block1PairBecomesOne5x5Convolution() {
        Tensor y = run("vgg16_block1_5x5");
        assertThat(y.shape()).containsExactly(2, 10);
        Graph g = reload("vgg16_block1_5x5");
        assertThat(Layers.names(g)).startsWith("block1_conv1", "block1_pool").doesNotContain("block1_conv2");
        assertThat(g.initializer(Layers.weighted(g, "block1_conv1").input(1)).shape()).containsExactly(4, 3, 5, 5);
    }

    /** A source with value_info for every intermediate: the new sizes must replace the recorded ones. */
    @Test
    void newInputSizeOnAModelWithRecordedShapes() throws Exception {
        Path src = dir.resolve("with_value_info.onnx");
        String n = Python.run(TestPaths.fixtures().resolve("surgery/with_value_info.py"), Mini.path("vgg16_mini").toString(), src.toString());
        assertThat(Integer.parseInt(n.strip())).isGreaterThan(20);
        Path out = dir.resolve("vi_160.onnx");
        Cli.Result res = Cli.run("surgery", src.toString(), "--edit", "cut-after block5_pool", "--edit", "set-input-shape 160x160x3",
                "-o", out.toString());
        assertThat(res.code()).as(res.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(Python.run(TestPaths.fixtures().resolve("surgery/check_onnx.py"), out.toString()));
        assertThat(o.get("outputs").get("block5_pool").toString()).isEqualTo("[\"N\",16,5,5]");
        try (OrtRunner r = OrtRunner.open(out, Device.CPU)) {
            Tensor y = r.run(Map.of("input_1", Tensor.random(DataType.FLOAT, new long[] {1, 3, 160, 160}, 2))).values().iterator().next();
            assertThat(y.shape()).containsExactly(1, 16, 5, 5);
        }
    }

    /**
     * The ResNet50 and MobileNetV2 transfer recipes on the small twins: a 5-class head, and the
     * frozen range Keras's idiom gives. Phase 1 trains the head alone (its trainable count is the
     * Dense's); phase 2 also trains what follows the frozen range: ResNet50's stage 5 (layers[143:],
     * the first of them conv5_block1_1_conv), MobileNetV2's layers[100:]. Every layer with weights
     * before the range's end is frozen, every one after it trains.
     */
    @Test
    void resnetAndMobileNetTransferRecipesFreezeWhatKerasFreezes() {
        for (String[] r : new String[][] {{"resnet50_transfer", "conv5_block3_3_bn", ""}, {"resnet50_finetune", "conv4_block6_3_bn", "conv5_block1_1_conv"},
                {"mobilenetv2_transfer", "Conv_1_bn", ""}, {"mobilenetv2_finetune", null, null}}) {
            assertThat(run(r[0]).shape()).as(r[0]).containsExactly(2, 5);
            Graph g = reload(r[0]);
            java.util.List<String> names = Layers.names(g);
            java.util.List<String> weighted = Layers.withWeights(g, names);
            String head = weighted.get(weighted.size() - 1);
            assertThat(g.trainingOf(head).trainable()).as(r[0] + " head " + head).isTrue();
            int end = r[1] != null ? names.indexOf(r[1]) : 99;
            for (String l : weighted) {
                boolean frozen = names.indexOf(l) <= end;
                assertThat(g.trainingOf(l).trainable()).as(r[0] + ": " + l).isEqualTo(!frozen);
            }
            if (!r[0].endsWith("transfer") && r[2] != null) {
                assertThat(g.trainingOf(r[2]).trainable()).as(r[2]).isTrue();
            }
            JsonNode t = ORACLE.get(r[0]).get("training");
            assertThat(t.get(weighted.get(0)).get("trainable").asBoolean()).as(r[0] + " metadata").isFalse();
            Cli.Result inspect = Cli.run("inspect", "--json", dir.resolve(r[0] + ".onnx").toString());
            long trainable;
            try {
                trainable = new ObjectMapper().readTree(inspect.out()).get("trainable_params").asLong();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            System.out.printf("%s: %d layers, %d with weights frozen, head %s; trainable parameters (inspect) %d%n", r[0], names.size(),
                    weighted.stream().filter(l -> !g.trainingOf(l).trainable()).count(), head, trainable);
            // phase 1: the head alone (256 and 1280 features, 5 classes); ResNet50 phase 2: Keras's count for layers[:143]
            // on the small twin (240,266, KerasApplicationsTest) less its 10-class head (2,570) plus this one (1,285)
            Long want = Map.of("resnet50_transfer", 1_285L, "mobilenetv2_transfer", 6_405L, "resnet50_finetune", 238_981L).get(r[0]);
            if (want != null) {
                assertThat(trainable).as(r[0] + " trainable").isEqualTo(want);
            }
        }
    }
}
