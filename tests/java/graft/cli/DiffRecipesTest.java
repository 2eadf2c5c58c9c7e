package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code graft diff} between the bundled model and the output of each shipped surgery recipe
 * reports exactly the recipe's edits. Expectations come from the recipe's edit lines and from
 * the two models' layer tables ({@code graft inspect --json}), never from diff itself: layers
 * removed, layers added with their output shapes, renamed and re-initialised layers with their
 * weight shapes, frozen layers, lr/decay multipliers and input-shape changes, and nothing else
 * (every other list of the report is asserted empty or exact).
 */
class DiffRecipesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path dir;

    @BeforeAll
    static void scratch() {
        dir = TestPaths.scratch("diff-recipes");
    }

    /** One recipe applied: its edit lines, both layer tables, both inspect reports and the diff. */
    record Run(String recipe, List<String[]> edits, JsonNode inspectA, JsonNode inspectB, Map<String, JsonNode> a,
               Map<String, JsonNode> b, JsonNode diff, String table) {
        /** The tokens of the only edit line starting with this verb. */
        String[] edit(String verb) {
            List<String[]> hits = edits.stream().filter(e -> e[0].equals(verb)).toList();
            assertThat(hits).as(recipe + " " + verb).hasSize(1);
            return hits.get(0);
        }

        /** Names of A's layers from the first one through {@code last}, in order. */
        List<String> upTo(String last) {
            List<String> r = new ArrayList<>();
            for (String k : a.keySet()) {
                r.add(k);
                if (k.equals(last)) {
                    return r;
                }
            }
            throw new AssertionError(last + " not in " + a.keySet());
        }

        /** The trainability lines a freeze of A's layers through {@code last} must produce: layers with parameters. */
        List<String> frozen(String last) {
            return upTo(last).stream().filter(k -> a.get(k).get("params").asLong() > 0 && a.get(k).get("trainable").asBoolean())
                    .map(k -> k + ": trainable true -> false").toList();
        }

        List<String> texts(String field) {
            List<String> r = new ArrayList<>();
            diff.get(field).forEach(n -> r.add(n.asText()));
            return r;
        }

        Map<String, String> map(String field) {
            Map<String, String> r = new LinkedHashMap<>();
            diff.get(field).fields().forEachRemaining(e -> r.put(e.getKey(), e.getValue().asText()));
            return r;
        }
    }

    static Map<String, JsonNode> layers(JsonNode inspect) {
        Map<String, JsonNode> r = new LinkedHashMap<>();
        inspect.get("layers").forEach(l -> r.put(l.get("name").asText(), l));
        return r;
    }

    static JsonNode inspect(Path model) throws Exception {
        Cli.Result r = Cli.run("inspect", model.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        return JSON.readTree(r.out());
    }

    static Run apply(String recipe, String model) throws Exception {
        Path in = TestPaths.fixtures().resolve("surgery/" + model + ".onnx");
        Path yaml = TestPaths.root().resolve("recipes/" + recipe + ".yaml");
        Path out = dir.resolve(recipe + ".onnx");
        Cli.Result s = Cli.run("surgery", in.toString(), "--recipe", yaml.toString(), "-o", out.toString());
        assertThat(s.code()).as(s.err()).isZero();
        List<String[]> edits = new ArrayList<>();
        for (String line : Files.readAllLines(yaml)) {
            if (line.startsWith("  - ")) {
                edits.add(line.substring(4).replace(",", " ,").trim().split("\\s+"));
            }
        }
        Cli.Result d = Cli.run("diff", in.toString(), out.toString(), "--json");
        assertThat(d.code()).as(d.err()).isZero();
        Cli.Result t = Cli.run("diff", in.toString(), out.toString());
        JsonNode ia = inspect(in);
        JsonNode ib = inspect(out);
        return new Run(recipe, edits, ia, ib, layers(ia), layers(ib), JSON.readTree(d.out()), t.out());
    }

    /** Layers only in B (minus rename targets) with B's output shapes, in B's order. */
    static Map<String, String> addedByTables(Run r, Set<String> renamedTo) {
        Map<String, String> m = new LinkedHashMap<>();
        r.b().forEach((k, v) -> {
            if (!r.a().containsKey(k) && !renamedTo.contains(k)) {
                m.put(k, v.get("output_shape").asText());
            }
        });
        return m;
    }

    /** Layers only in A (minus renamed ones), in A's order. */
    static List<String> removedByTables(Run r, Set<String> renamedFrom) {
        return r.a().keySet().stream().filter(k -> !r.b().containsKey(k) && !renamedFrom.contains(k)).toList();
    }

    /** The layers a cut after {@code last} drops, except those the new head brings back under the same name and ops. */
    static List<String> cutAway(Run r, String last) {
        List<String> kept = r.upTo(last);
        return r.a().keySet().stream().filter(k -> !kept.contains(k))
                .filter(k -> !(r.b().containsKey(k) && r.b().get(k).get("ops").equals(r.a().get(k).get("ops")))).toList();
    }

    static void assertNoChangesBeyond(Run r, List<String> changed, int weights) {
        assertThat(r.texts("changed")).as(r.recipe() + " changed").containsExactlyElementsOf(changed);
        assertThat(r.diff().get("weights")).as(r.recipe() + " weights").hasSize(weights);
        assertThat(r.diff().get("identical").asBoolean()).isFalse();
    }

    static long[] longs(JsonNode n) {
        long[] v = new long[n.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = n.get(i).asLong();
        }
        return v;
    }

    static String shapeOf(String dims) {
        return "(N, " + dims + ")";
    }

    @Test
    void bottleneckRemovesTheFcLayersAddsTheHeadAndFreezesTheTrunk() throws Exception {
        Run r = apply("vgg16_bottleneck", "vgg16_mini");
        String cut = r.edit("cut-after")[1];
        assertThat(r.edit("freeze")[1]).isEqualTo(".." + cut);
        List<String> removed = cutAway(r, cut);
        assertThat(removed).containsExactly("fc1", "fc2", "predictions"); // flatten comes back as the head's Flatten
        assertThat(r.texts("removed")).containsExactlyElementsOf(removed).containsExactlyElementsOf(removedByTables(r, Set.of()));
        // attach-head flatten, dense 256 relu, dropout 0.5, dense 1 sigmoid: the flatten keeps its name, the rest is new
        Map<String, String> added = addedByTables(r, Set.of());
        assertThat(added.values()).containsExactly(shapeOf("256"), shapeOf("256"), shapeOf("1"));
        assertThat(r.texts("added")).containsExactlyElementsOf(added.keySet());
        assertThat(r.map("added_shapes")).containsExactlyEntriesOf(added);
        assertThat(r.map("renamed")).isEmpty();
        assertNoChangesBeyond(r, List.of(), 0);
        assertThat(r.texts("training")).hasSize(13).containsExactlyElementsOf(r.frozen(cut));
    }

    @Test
    void finetunePopsThreeAddsThreeDenseAndFreezesThroughBlock4() throws Exception {
        Run r = apply("vgg16_finetune", "vgg16_mini");
        int pop = Integer.parseInt(r.edit("pop")[1]);
        List<String> names = new ArrayList<>(r.a().keySet());
        List<String> popped = names.subList(names.size() - pop, names.size());
        assertThat(r.texts("removed")).containsExactlyElementsOf(popped).containsExactlyElementsOf(removedByTables(r, Set.of()));
        // attach-head dense 1024 relu, dense 128 relu, dense 5 softmax
        Map<String, String> added = addedByTables(r, Set.of());
        assertThat(added.values()).containsExactly(shapeOf("1024"), shapeOf("128"), shapeOf("5"));
        assertThat(r.map("added_shapes")).containsExactlyEntriesOf(added);
        assertThat(r.texts("added")).containsExactlyElementsOf(added.keySet());
        assertThat(r.map("renamed")).as("new head layers are not renames of the popped ones").isEmpty();
        assertNoChangesBeyond(r, List.of(), 0);
        String last = r.edit("freeze")[1].substring(2);
        assertThat(r.texts("training")).hasSize(10).containsExactlyElementsOf(r.frozen(last));
        assertThat(r.texts("training")).noneMatch(t -> t.startsWith("block5"));
    }

    @Test
    void cutAtBlock2With160InputReportsTheInputShapeAndTheConvHead() throws Exception {
        Run r = apply("vgg16_cut_block2_160", "vgg16_mini");
        String cut = r.edit("cut-after")[1];
        List<String> removed = cutAway(r, cut);
        assertThat(r.texts("removed")).containsExactlyElementsOf(removed).containsExactlyElementsOf(removedByTables(r, Set.of()));
        assertThat(removed).hasSize(r.a().size() - r.upTo(cut).size());
        // attach-head conv 64 3 relu name=head_conv, global-avg, dense 10 softmax name=head_predictions
        Map<String, String> added = addedByTables(r, Set.of());
        assertThat(added).containsKeys("head_conv", "head_predictions").hasSize(3);
        assertThat(added.values()).containsExactly(shapeOf("64, 40, 40"), shapeOf("64"), shapeOf("10"));
        assertThat(r.map("added_shapes")).containsExactlyEntriesOf(added);
        assertThat(r.texts("added")).containsExactlyElementsOf(added.keySet());
        assertThat(r.map("renamed")).as("head_predictions only looks like the removed predictions").isEmpty();
        // set-input-shape 160x160x3: the graph input, channels first, is the only structural change
        String[] hwc = r.edit("set-input-shape")[1].split("x");
        JsonNode inA = r.inspectA().get("inputs").get(0);
        JsonNode inB = r.inspectB().get("inputs").get(0);
        assertThat(inB.get("shape").asText()).isEqualTo("(N, " + hwc[2] + ", " + hwc[0] + ", " + hwc[1] + ")");
        String input = "input " + inA.get("name").asText() + ": " + inA.get("type").asText() + inA.get("shape").asText() + " -> "
                + inB.get("type").asText() + inB.get("shape").asText();
        assertNoChangesBeyond(r, List.of(input), 0);
        assertThat(r.texts("training")).hasSize(4).containsExactlyElementsOf(r.frozen(r.edit("freeze")[1].substring(2)));
        assertThat(r.table()).contains("changed   input input_1: float(N, 3, 224, 224) -> float(N, 3, 160, 160)")
                .contains("added     head_conv (N, 64, 40, 40)").contains("removed   block3_conv1")
                .contains("training  block2_conv2: trainable true -> false");
    }

    @Test
    void block1PairBecomesOne5x5ConvolutionNamedBlock1Conv1() throws Exception {
        Run r = apply("vgg16_block1_5x5", "vgg16_mini");
        String[] e = r.edit("replace-conv-pair");
        String first = e[1];
        String second = e[2];
        int k = Integer.parseInt(e[Arrays.asList(e).indexOf("--kernel") + 1]);
        assertThat(r.texts("removed")).containsExactly(second).containsExactlyElementsOf(removedByTables(r, Set.of()));
        assertThat(r.texts("added")).isEmpty();
        assertThat(addedByTables(r, Set.of())).isEmpty();
        assertThat(r.map("renamed")).isEmpty();
        // the kept name carries the new kernel; 'same' padding for a k x k kernel is (k - 1) / 2 on every side
        int pad = (k - 1) / 2;
        assertNoChangesBeyond(r, List.of(first + ": Conv kernel_shape [3, 3] -> [" + k + ", " + k + "]",
                first + ": Conv pads [1, 1, 1, 1] -> [" + pad + ", " + pad + ", " + pad + ", " + pad + "]"), 2);
        // second's filters, the input's channels: shape and parameter count agree with both layer tables
        long filters = Long.parseLong(r.a().get(second).get("output_shape").asText().split(", ")[1]);
        long channels = Long.parseLong(r.inspectA().get("inputs").get(0).get("shape").asText().split(", ")[1]);
        assertThat(r.b().get(first).get("params").asLong()).isEqualTo(filters * channels * k * k + filters);
        JsonNode w = r.diff().get("weights").get(0);
        assertThat(w.get("layer").asText()).isEqualTo(first);
        assertThat(longs(w.get("shape_a"))).containsExactly(filters, channels, 3, 3);
        assertThat(longs(w.get("shape_b"))).containsExactly(filters, channels, k, k);
        JsonNode bias = r.diff().get("weights").get(1);
        assertThat(longs(bias.get("shape_b"))).containsExactly(filters);
        assertThat(bias.get("max_abs_diff").asDouble()).as("fitted bias differs from the old one").isGreaterThan(0);
        assertThat(r.texts("training")).isEmpty();
    }

    @Test
    void flickrStyleRenamesFc8ToTwentyClassesWithFasterLearning() throws Exception {
        Run r = apply("caffenet_flickr_style", "caffenet_mini");
        String[] rename = r.edit("rename");
        int classes = Integer.parseInt(r.edit("set-classes")[1]);
        String[] lr = r.edit("lr-mult");
        String[] decay = r.edit("decay-mult");
        String from = rename[1];
        String to = rename[2];
        assertThat(r.map("renamed")).containsExactly(Map.entry(from, to));
        assertThat(r.texts("removed")).isEmpty();
        assertThat(removedByTables(r, Set.of(from))).isEmpty();
        assertThat(r.texts("added")).isEmpty();
        assertThat(addedByTables(r, Set.of(to))).isEmpty();
        assertThat(r.b().get(to).get("output_shape").asText()).isEqualTo(shapeOf(String.valueOf(classes)));
        assertNoChangesBeyond(r, List.of(), 2);
        String label = from + " -> " + to;
        // the layer feeding fc8 gives the kernel's input width; A's table gives the old class count
        List<String> names = new ArrayList<>(r.a().keySet());
        String feed = names.get(names.indexOf(from) - 1);
        long width = Long.parseLong(r.a().get(feed).get("output_shape").asText().replaceAll("\\D+", " ").trim());
        long old = Long.parseLong(r.a().get(from).get("output_shape").asText().replaceAll("\\D+", " ").trim());
        JsonNode w = r.diff().get("weights").get(0);
        JsonNode b = r.diff().get("weights").get(1);
        assertThat(w.get("layer").asText()).isEqualTo(label);
        assertThat(longs(w.get("shape_a"))).containsExactly(old, width);
        assertThat(longs(w.get("shape_b"))).containsExactly(classes, width);
        assertThat(longs(b.get("shape_a"))).containsExactly(old);
        assertThat(longs(b.get("shape_b"))).containsExactly(classes);
        // gaussian:0.01 over classes x width values: the norm is about 0.01 * sqrt(n); the bias filler is 0
        double expected = 0.01 * Math.sqrt(classes * width);
        assertThat(w.get("norm_b").asDouble()).isCloseTo(expected, Offset.offset(expected * 0.25));
        assertThat(b.get("norm_b").asDouble()).isZero();
        assertThat(r.texts("training")).containsExactly(
                label + ": lr_mult [] -> [" + Float.parseFloat(lr[2]) + ", " + Float.parseFloat(lr[3]) + "]",
                label + ": decay_mult [] -> [" + Float.parseFloat(decay[2]) + ", " + Float.parseFloat(decay[3]) + "]");
        assertThat(new LinkedHashSet<>(List.of(lr[1], decay[1]))).containsExactly(to);
    }
}
