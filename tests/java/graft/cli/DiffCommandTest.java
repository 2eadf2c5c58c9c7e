package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.ir.ShapeInference;
import graft.ir.Weight;
import graft.onnx.OnnxExporter;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.TestPaths;
import graft.validate.VggFixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * graft diff reports exactly the edits made: a changed padding, a permuted weight (max abs
 * difference > 0, equal norms: a permutation keeps the norm), and a set of hand edits made
 * through the IR (a layer renamed, one removed, one added, one weight changed, one layer
 * frozen, lr multipliers set) — and nothing else.
 */
class DiffCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static String model(String name) {
        return VggFixtures.small().resolve(name).toString();
    }

    @Test
    void changedPaddingIsTheOnlyDifference() throws Exception {
        Cli.Result r = Cli.run("diff", model("vgg.onnx"), model("vgg_pad_block3.onnx"), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = JSON.readTree(r.out());
        assertThat(j.get("changed")).hasSize(1);
        assertThat(j.get("changed").get(0).asText()).isEqualTo("block3_conv2: Conv pads [1, 1, 1, 1] -> [0, 0, 2, 2]");
        assertThat(j.get("weights")).isEmpty();
        assertThat(j.get("added")).isEmpty();
        assertThat(j.get("removed")).isEmpty();
        assertThat(j.get("renamed")).isEmpty();
        assertThat(j.get("training")).isEmpty();
        Cli.Result table = Cli.run("diff", model("vgg.onnx"), model("vgg_pad_block3.onnx"));
        assertThat(table.out()).contains("changed   block3_conv2: Conv pads [1, 1, 1, 1] -> [0, 0, 2, 2]");
    }

    @Test
    void permutedFc1IsOneWeightChangeWithEqualNorms() throws Exception {
        JsonNode j = JSON.readTree(Cli.run("diff", model("vgg.onnx"), model("vgg_fc1_permuted.onnx"), "--json").out());
        assertThat(j.get("weights")).hasSize(1);
        JsonNode w = j.get("weights").get(0);
        assertThat(w.get("layer").asText()).isEqualTo("fc1");
        assertThat(w.get("weight").asText()).isEqualTo("fc1/kernel");
        assertThat(w.get("max_abs_diff").asDouble()).isGreaterThan(0.1);
        assertThat(w.get("norm_a").asDouble()).isCloseTo(w.get("norm_b").asDouble(), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(j.get("changed")).isEmpty();
    }

    @Test
    void handEditsAreReportedExactly() throws Exception {
        Graph g = OnnxImporter.read(Path.of(model("vgg.onnx")));
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.name().equals("block5_conv3_relu")) {
                continue; // removed: block5_pool now reads the conv directly
            }
            if (n.name().equals("block5_pool")) {
                n = n.withInputs(List.of("block5_conv3"));
            }
            if (n.name().equals("fc2")) {
                n = n.withName("fc2_renamed", "fc2_renamed");
            }
            if (n.name().equals("fc2_relu")) {
                nodes.add(n.withOutputs(List.of("fc2_relu_pre")));
                n = Node.of(graft.ir.Op.RELU, "extra_relu", "extra_relu", List.of("fc2_relu_pre"), List.of("fc2_relu"), Map.of());
            }
            nodes.add(n);
        }
        g.nodes().clear();
        g.nodes().addAll(nodes);
        Weight bias = g.initializer("predictions/bias");
        float[] v = bias.toFloats();
        v[7] += 0.5f;
        g.addInitializer(Weight.ofFloats("predictions/bias", bias.shape(), v));
        g.training().put("block1_conv1", LayerTraining.frozen());
        g.training().put("fc1", new LayerTraining(true, List.of(10f, 20f), List.of(1f, 0f)));
        ShapeInference.run(g);
        Path out = TestPaths.scratch("diff-edits").resolve("edited.onnx");
        OnnxExporter.write(g, out, OnnxExporter.Settings.defaults());
        JsonNode j = JSON.readTree(Cli.run("diff", model("vgg.onnx"), out.toString(), "--json").out());
        assertThat(j.get("removed")).extracting(JsonNode::asText).containsExactly("block5_conv3_relu");
        assertThat(j.get("added")).extracting(JsonNode::asText).containsExactly("extra_relu");
        assertThat(j.get("renamed").get("fc2").asText()).isEqualTo("fc2_renamed");
        assertThat(j.get("renamed")).hasSize(1);
        assertThat(j.get("changed")).isEmpty();
        assertThat(j.get("weights")).hasSize(1);
        JsonNode w = j.get("weights").get(0);
        assertThat(w.get("weight").asText()).isEqualTo("predictions/bias");
        assertThat(w.get("max_abs_diff").asDouble()).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(j.get("training")).extracting(JsonNode::asText).containsExactly(
                "block1_conv1: trainable true -> false", "fc1: lr_mult [] -> [10.0, 20.0]", "fc1: decay_mult [] -> [1.0, 0.0]");
        assertThat(Cli.run("diff", model("vgg.onnx"), model("vgg.onnx")).out()).contains("no differences");
    }
}
