package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every shipped recipe's output goes to Keras and to Caffe and back to ONNX: where the format can
 * express the model, the trip back computes the same function (graft validate, ONNX Runtime on
 * both, seeded inputs) and the training state (frozen layers, lr/decay multipliers) survives;
 * where it cannot, the refusal is one line naming the nodes (exit 3) and no file is left.
 */
class RecipeFormatsTest {
    /** What each format must do with each recipe's output: true = converts, false = refused. */
    static final Map<String, Map<String, Boolean>> EXPECTED = new LinkedHashMap<>();

    static {
        for (String[] r : RecipesTest.RECIPES) {
            boolean caffenet = r[1].startsWith("caffenet");
            boolean keras = r[1].endsWith(".h5");
            // Keras has no LRN and no grouped (non-depthwise) convolution: CaffeNet's conv2/norm1 are refused.
            // (Batch 1: a Caffe deploy net has a fixed input shape.)
            // The keras.applications twins: Caffe has no padding layer (ResNet50's conv1_pad/pool1_pad) and
            // no asymmetric 'same' padding (MobileNetV2's strided convs): refused. ResNet50's Keras 2
            // model_config (62,559 bytes for the twin), more than an HDF5 attribute message holds, is written
            // as a variable-length string in a global heap (KerasH5LargeConfigTest).
            boolean h5 = !caffenet;
            EXPECTED.put(r[0], Map.of(".h5", h5, ".prototxt", !keras));
        }
    }

    @Test
    void everyRecipeOutputThroughKerasAndCaffeAndBack() throws Exception {
        Path dir = TestPaths.scratch("surgery-recipe-formats");
        for (String[] r : RecipesTest.RECIPES) {
            Path tuned = dir.resolve(r[0] + ".onnx");
            Cli.Result s = Cli.run("surgery", RecipesTest.model(r[1]).toString(), "--recipe",
                    TestPaths.root().resolve("recipes/" + r[0] + ".yaml").toString(), "-o", tuned.toString());
            assertThat(s.code()).as(r[0] + ": " + s.err()).isZero();
            Graph original = OnnxImporter.read(tuned);
            for (Map.Entry<String, Boolean> e : EXPECTED.get(r[0]).entrySet()) {
                String ext = e.getKey();
                Path there = dir.resolve(r[0] + ext);
                Cli.Result c = Cli.run("convert", tuned.toString(), there.toString());
                String what = r[0] + " -> " + ext;
                if (!e.getValue()) {
                    assertThat(c.code()).as(what + " refused: " + c.err()).isEqualTo(3);
                    assertThat(c.err().strip()).as(what).doesNotContain("\n").contains("graft: ").doesNotContain("Exception");
                    assertThat(there).doesNotExist();
                    continue;
                }
                assertThat(c.code()).as(what + ": " + c.err()).isZero();
                List<String> weights = ext.equals(".prototxt")
                        ? List.of("--weights", dir.resolve(r[0] + ".caffemodel").toString()) : List.of();
                Path back = dir.resolve(r[0] + ext.replace('.', '_') + "_back.onnx");
                List<String> args = new java.util.ArrayList<>(List.of("convert", there.toString()));
                args.addAll(weights);
                args.add(back.toString());
                Cli.Result b = Cli.run(args.toArray(String[]::new));
                assertThat(b.code()).as(what + " -> .onnx: " + b.err()).isZero();

                Cli.Result v = Cli.run("validate", tuned.toString(), back.toString(), "--seed", "3",
                        "--atol", "1e-5", "--rtol", "1e-4");
                assertThat(v.code()).as(what + " -> .onnx validate: " + v.out() + v.err()).isZero();

                Graph g = OnnxImporter.read(back);
                for (String layer : original.layers()) {
                    LayerTraining want = original.trainingOf(layer);
                    if (!original.training().containsKey(layer) || !hasWeights(original, layer)) {
                        continue;
                    }
                    LayerTraining got = g.trainingOf(layer);
                    assertThat(got.trainable()).as(what + " trainable " + layer).isEqualTo(want.trainable());
                    // Caffe keeps the multipliers (Keras only trainable). A frozen layer is lr_mult 0 in
                    // Caffe, so its multipliers are compared only while it trains; no list means 1s.
                    if (ext.equals(".prototxt") && want.trainable()) {
                        assertThat(ones(got.lrMult())).as(what + " lr_mult " + layer).isEqualTo(ones(want.lrMult()));
                        assertThat(ones(got.decayMult())).as(what + " decay_mult " + layer).isEqualTo(ones(want.decayMult()));
                    }
                }
            }
        }
        assertThat(Files.list(dir).filter(p -> p.toString().endsWith(".tmp")).count()).isZero();
    }

    private static List<Float> ones(List<Float> mults) {
        return mults.stream().allMatch(m -> m == 1f) ? List.of() : mults;
    }

    private static boolean hasWeights(Graph g, String layer) {
        return g.nodes().stream().filter(n -> n.layer().equals(layer))
                .anyMatch(n -> n.inputs().stream().anyMatch(g.initializers()::containsKey));
    }
}
