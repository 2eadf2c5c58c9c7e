package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.error.ExitCodes;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import graft.validate.VggFixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * graft validate on VGG16-topology models with Keras layer names (fixtures/validate/make_vgg.py):
 * the Flatten-order bug and a wrong block3 padding fail and --per-layer names the layer that
 * broke; a channels-last model of the same function passes layer by layer; one model compares
 * ONNX Runtime with the reference executor; the metrics agree with numpy's.
 */
class ValidateCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static String model(String name) {
        return VggFixtures.small().resolve(name).toString();
    }

    static JsonNode json(Cli.Result r) throws Exception {
        return JSON.readTree(r.out());
    }

    static List<String> layerNames(JsonNode j) {
        List<String> r = new ArrayList<>();
        j.get("layers").forEach(l -> r.add(l.get("name").asText()));
        return r;
    }

    @Test
    void oneModelComparesOnnxRuntimeWithTheReferenceExecutor() throws Exception {
        Cli.Result r = Cli.run("validate", model("vgg.onnx"), "--json");
        assertThat(r.code()).as(r.err()).isEqualTo(ExitCodes.OK);
        JsonNode j = json(r);
        assertThat(j.get("reference").asText()).contains("ONNX Runtime");
        assertThat(j.get("candidate").asText()).contains("reference executor");
        JsonNode out = j.get("outputs").get(0);
        assertThat(out.get("name").asText()).isEqualTo("probabilities");
        assertThat(out.get("max_rel").asDouble()).isLessThan(1e-4);
        assertThat(out.get("cosine").asDouble()).isGreaterThan(0.9999999);
        assertThat(out.get("top1_agreement").asDouble()).isEqualTo(1.0);
        assertThat(out.get("top5_agreement").asDouble()).isEqualTo(1.0);
    }

    @Test
    void oneModelPerLayerWalksOnnxRuntimeSegmentsAgainstTheReferenceExecutor() throws Exception {
        Cli.Result r = Cli.run("validate", model("vgg.onnx"), "--per-layer", "--json", "--atol", "1e-5", "--rtol", "1e-4");
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(ExitCodes.OK);
        JsonNode j = json(r);
        assertThat(layerNames(j)).hasSize(38).startsWith("block1_conv1", "block1_conv1_relu").endsWith("predictions", "probabilities");
        assertThat(j.get("first_diverging_layer").isNull()).isTrue();
    }

    @Test
    void flattenOrderBugFailsAndPerLayerNamesFc1First() throws Exception {
        Cli.Result plain = Cli.run("validate", model("vgg.onnx"), model("vgg_fc1_permuted.onnx"));
        assertThat(plain.code()).isEqualTo(ExitCodes.VALIDATION_FAILED);
        assertThat(plain.out()).contains("FAIL");
        Cli.Result r = Cli.run("validate", model("vgg.onnx"), model("vgg_fc1_permuted.onnx"), "--per-layer", "--json");
        assertThat(r.code()).isEqualTo(ExitCodes.VALIDATION_FAILED);
        JsonNode j = json(r);
        assertThat(j.get("first_diverging_layer").asText()).isEqualTo("fc1");
        List<String> names = layerNames(j);
        int fc1 = names.indexOf("fc1");
        for (int i = 0; i < fc1; i++) {
            assertThat(j.get("layers").get(i).get("max_abs").asDouble()).as(names.get(i)).isZero();
        }
        assertThat(j.get("layers").get(fc1).get("within").asBoolean()).isFalse();
        Cli.Result table = Cli.run("validate", model("vgg.onnx"), model("vgg_fc1_permuted.onnx"), "--per-layer");
        assertThat(table.out()).contains("first layer beyond tolerance: fc1");
    }

    @Test
    void perLayerPlotIsAPngAndNeedsPerLayer() throws Exception {
        java.nio.file.Path png = graft.testing.TestPaths.scratch("validate-plot").resolve("errors.png");
        Cli.Result r = Cli.run("validate", model("vgg.onnx"), model("vgg_fc1_permuted.onnx"), "--per-layer", "--plot", png.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(ExitCodes.VALIDATION_FAILED);
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
        assertThat(img.getHeight()).isEqualTo(480);
        Cli.Result no = Cli.run("validate", model("vgg.onnx"), "--plot", png.resolveSibling("x.png").toString());
        assertThat(no.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(no.err()).contains("add --per-layer");
        assertThat(png.resolveSibling("x.png")).doesNotExist();
    }

    @Test
    void wrongPaddingInBlock3IsNamedByPerLayer() throws Exception {
        Cli.Result r = Cli.run("validate", model("vgg.onnx"), model("vgg_pad_block3.onnx"), "--per-layer", "--json");
        assertThat(r.code()).isEqualTo(ExitCodes.VALIDATION_FAILED);
        assertThat(json(r).get("first_diverging_layer").asText()).isEqualTo("block3_conv2");
    }

    @Test
    void channelsLastModelOfTheSameFunctionMatchesLayerByLayerThroughTransposes() throws Exception {
        Cli.Result r = Cli.run("validate", model("vgg.onnx"), model("vgg_nhwc.onnx"), "--per-layer", "--json", "--atol", "1e-5", "--rtol", "1e-4");
        assertThat(r.code()).as(r.out()).isEqualTo(ExitCodes.OK);
        JsonNode j = json(r);
        assertThat(layerNames(j)).hasSize(38);
        for (JsonNode l : j.get("layers")) {
            String name = l.get("name").asText();
            String expected = name.startsWith("block") ? "NHWC->NCHW" : name.equals("flatten") ? "HWC->CHW" : "same";
            assertThat(l.get("layout").asText()).as(name).isEqualTo(expected);
            assertThat(l.get("within").asBoolean()).as(name).isTrue();
        }
    }

    @Test
    void metricsAgreeWithNumpy() throws Exception {
        Path dir = TestPaths.scratch("validate-metrics");
        String input = "input_1=" + VggFixtures.small().resolve("input.npy");
        for (String m : List.of("vgg", "vgg_fc1_permuted")) {
            Cli.Result run = Cli.run("run", model(m + ".onnx"), "--input", input, "--out", dir.resolve(m).toString());
            assertThat(run.code()).as(run.err()).isZero();
        }
        JsonNode numpy = JSON.readTree(Python.run(TestPaths.fixtures().resolve("validate/metrics.py"),
                dir.resolve("vgg/probabilities.npy").toString(), dir.resolve("vgg_fc1_permuted/probabilities.npy").toString()));
        Cli.Result r = Cli.run("validate", model("vgg.onnx"), model("vgg_fc1_permuted.onnx"), "--input", input, "--json");
        JsonNode got = json(r).get("outputs").get(0);
        for (String k : List.of("max_abs", "max_rel", "mean_abs", "cosine", "top1_agreement", "top5_agreement")) {
            double want = numpy.get(k).asDouble();
            assertThat(got.get(k).asDouble()).as(k).isCloseTo(want, Offset.offset(1e-9 + 1e-6 * Math.abs(want)));
        }
    }

    @Test
    void helpStatesTheDefaultTolerancesAndBadCombinationsAreUsageErrors() {
        Cli.Result help = Cli.run("validate", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("--atol", "default: 1e-4", "--rtol", "default: 1e-3", "--per-layer", "--images", "--seed");
        Cli.Result both = Cli.run("validate", model("vgg.onnx"), "--images", "x", "--input", "input_1=x.npy");
        assertThat(both.code()).isEqualTo(ExitCodes.USAGE);
        Cli.Result badName = Cli.run("validate", model("vgg.onnx"), "--input", "nope=x.npy");
        assertThat(badName.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(badName.err()).contains("nope").contains("input_1");
    }

    /** Full-width VGG16 at 224x224 (528 MB per model): the same two demonstrations at full size. */
    @Test
    @org.junit.jupiter.api.Tag("slow")
    void fullSizeVgg16PerLayerNamesFc1AndBlock3Conv2() throws Exception {
        Path dir = VggFixtures.full();
        JsonNode fc1 = json(Cli.run("validate", dir.resolve("vgg.onnx").toString(), dir.resolve("vgg_fc1_permuted.onnx").toString(), "--per-layer", "--json"));
        assertThat(fc1.get("passed").asBoolean()).isFalse();
        assertThat(fc1.get("first_diverging_layer").asText()).isEqualTo("fc1");
        JsonNode pad = json(Cli.run("validate", dir.resolve("vgg.onnx").toString(), dir.resolve("vgg_pad_block3.onnx").toString(), "--per-layer", "--json"));
        assertThat(pad.get("first_diverging_layer").asText()).isEqualTo("block3_conv2");
    }

    /** torchvision VGG16: ONNX Runtime walked segment by segment against the reference executor, every layer within 1e-5 relative. */
    @Test
    @org.junit.jupiter.api.Tag("slow")
    void torchvisionVgg16PerLayerOnnxRuntimeAgainstReferenceExecutor() throws Exception {
        Cli.Result r = Cli.run("validate", graft.testing.Models.vgg16().toString(), "--per-layer", "--json", "--atol", "1e-6", "--rtol", "1e-5");
        assertThat(r.code()).as(r.out()).isEqualTo(ExitCodes.OK);
        assertThat(layerNames(json(r))).hasSize(38);
    }

    @Test
    void seededInputsAreRepeatableAndASeedChangesThem() throws Exception {
        JsonNode a = json(Cli.run("validate", model("vgg.onnx"), model("vgg_fc1_permuted.onnx"), "--seed", "3", "--json"));
        JsonNode b = json(Cli.run("validate", model("vgg.onnx"), model("vgg_fc1_permuted.onnx"), "--seed", "3", "--json"));
        JsonNode c = json(Cli.run("validate", model("vgg.onnx"), model("vgg_fc1_permuted.onnx"), "--seed", "4", "--json"));
        double ma = a.get("outputs").get(0).get("max_abs").asDouble();
        assertThat(b.get("outputs").get(0).get("max_abs").asDouble()).isEqualTo(ma);
        assertThat(c.get("outputs").get(0).get("max_abs").asDouble()).isNotEqualTo(ma);
    }
}
