package graft.picture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.ir.Node;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code graft inspect --svg/--html} and {@code graft diff --svg/--html}: the SVG parses as XML, holds one box per
 * row of {@code inspect --json} and the edges of the layer graph, recomputed here by a forward walk over the IR's
 * values (the picture's code walks backwards from each input); a diff picture's statuses are those of
 * {@code diff --json}. The browser's view of the same pages is {@link BrowserPicturesTest}.
 */
class PicturesTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Path model(String name) {
        return name.startsWith("corpus:") ? TestPaths.corpus().resolve(name.substring(7)) : TestPaths.fixtures().resolve(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"surgery/vgg16_mini.onnx", "surgery/caffenet_mini.onnx", "pictures/residual_mini.onnx",
            "corpus:onnx/light/light_resnet50.onnx", "corpus:onnx/light/light_inception_v1.onnx"})
    void oneBoxPerLayerAndTheLayerGraphsEdges(String name) throws Exception {
        Path in = model(name);
        TestPaths.assumeExists(in, "the shared corpus");
        Path dir = TestPaths.scratch("pictures-" + in.getFileName());
        Path svg = dir.resolve("m.svg");
        Path html = dir.resolve("m.html");
        Cli.Result r = Cli.run("inspect", in.toString(), "--json", "--svg", svg.toString(), "--html", html.toString());
        assertThat(r.code()).as(r.err()).isZero();
        List<String> rows = new ArrayList<>();
        JSON.readTree(r.out()).get("layers").forEach(l -> rows.add(l.get("name").asText()));

        PictureDom dom = PictureDom.parseSvg(Files.readString(svg));
        assertThat(dom.layers()).as("one box per inspect row, in order").containsExactlyElementsOf(rows);
        Set<String> expected = forwardEdges(OnnxImporter.read(in));
        assertThat(dom.edges()).as("edges").containsExactlyInAnyOrderElementsOf(expected);
        assertThat(dom.edges()).hasSize(expected.size());
        if (name.contains("residual") || name.contains("resnet") || name.contains("inception")) {
            assertThat(dom.edges().size()).as("a DAG: more edges than a chain").isGreaterThan(rows.size() - 1);
        }
        // the HTML inlines the same SVG element and the rows for its side panel
        String page = Files.readString(html);
        String svgText = Files.readString(svg);
        assertThat(page).contains(svgText.substring(svgText.indexOf("<svg")));
        assertThat(page).contains("id=\"rows\"").doesNotContain("src=");
        assertThat(page.replace("http://www.w3.org/2000/svg", "")).doesNotContain("http://", "https://");
    }

    /** Edges A -> B: walking forward from A's outputs through nodes of no row, the first row layers reached. */
    static Set<String> forwardEdges(Graph g) {
        List<LayerTable.Row> rows = LayerTable.of(g);
        Set<String> layers = new LinkedHashSet<>();
        rows.forEach(r -> layers.add(r.layer()));
        Map<String, List<String>> starts = new LinkedHashMap<>();
        for (String l : layers) {
            starts.put(l, new ArrayList<>());
        }
        for (Node n : g.nodes()) {
            if (layers.contains(n.layer())) {
                starts.get(n.layer()).addAll(n.outputs());
            }
        }
        g.inputs().forEach(v -> {
            if (layers.contains(v.name())) {
                starts.get(v.name()).add(v.name());
            }
        });
        Set<String> edges = new LinkedHashSet<>();
        for (Map.Entry<String, List<String>> e : starts.entrySet()) {
            Deque<String> todo = new ArrayDeque<>(e.getValue());
            Set<String> seen = new HashSet<>(todo);
            while (!todo.isEmpty()) {
                for (Node c : g.consumers(todo.pop())) {
                    if (c.layer().equals(e.getKey())) {
                        continue;
                    }
                    if (layers.contains(c.layer())) {
                        edges.add(e.getKey() + " -> " + c.layer());
                    } else {
                        c.outputs().stream().filter(seen::add).forEach(todo::add);
                    }
                }
            }
        }
        return edges;
    }

    @Test
    void theFinetuneRecipeAsAPictureHasDiffsStatuses() throws Exception {
        Path dir = TestPaths.scratch("pictures-diff");
        Path a = TestPaths.fixtures().resolve("surgery/vgg16_mini.onnx");
        Path b = dir.resolve("vgg16_finetune.onnx");
        Cli.Result s = Cli.run("surgery", a.toString(), "--recipe", TestPaths.root().resolve("recipes/vgg16_finetune.yaml").toString(),
                "-o", b.toString());
        assertThat(s.code()).as(s.err()).isZero();
        Path svg = dir.resolve("diff.svg");
        Cli.Result d = Cli.run("diff", a.toString(), b.toString(), "--json", "--svg", svg.toString(), "--html",
                dir.resolve("diff.html").toString());
        assertThat(d.code()).as(d.err()).isZero();
        JsonNode diff = JSON.readTree(d.out());
        PictureDom dom = PictureDom.parseSvg(Files.readString(svg));

        Map<String, String> expected = expectedStatuses(diff, rows(a), rows(b));
        Map<String, String> actual = new LinkedHashMap<>();
        Map<String, String> training = new LinkedHashMap<>();
        dom.boxes().forEach((k, e) -> {
            actual.put(k, e.getAttribute("data-status"));
            if (!e.getAttribute("data-training").isEmpty()) {
                training.put(k, e.getAttribute("data-training"));
            }
        });
        assertThat(actual).isEqualTo(expected);
        assertThat(actual.values()).contains("removed", "added", "same");
        // the recipe's freeze: every "trainable true -> false" line of the diff, and only those, marked frozen
        Map<String, String> frozen = new LinkedHashMap<>();
        diff.get("training").forEach(t -> {
            String[] p = t.asText().split(": ", 2);
            assertThat(p[1]).isEqualTo("trainable true -> false");
            frozen.put(p[0], "frozen");
        });
        assertThat(frozen).hasSize(10);
        assertThat(training).isEqualTo(frozen);
        // edges: A's chain into the removed head is removed, the new head's are added, the rest kept
        assertThat(dom.edges()).contains("flatten -> fc1", "flatten -> dense", "block5_pool -> flatten");
    }

    @Test
    void aDryRunsPictureEqualsTheDiffOfTheWrittenModel() throws Exception {
        Path dir = TestPaths.scratch("pictures-dry-run");
        Path a = TestPaths.fixtures().resolve("surgery/vgg16_mini.onnx");
        String recipe = TestPaths.root().resolve("recipes/vgg16_finetune.yaml").toString();
        Path pics = dir.resolve("pics");
        Files.createDirectories(pics);
        Path svg = pics.resolve("dry.svg");
        Cli.Result s = Cli.run("surgery", a.toString(), "--recipe", recipe, "--dry-run", "--svg", svg.toString());
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(s.out()).contains("dry run: no model written, only the picture");
        try (var l = Files.list(pics)) {
            assertThat(l.toList()).as("the picture is the only file").containsExactly(svg);
        }
        Path b = dir.resolve("ft.onnx");
        assertThat(Cli.run("surgery", a.toString(), "--recipe", recipe, "-o", b.toString()).code()).isZero();
        Cli.Result d = Cli.run("diff", a.toString(), b.toString(), "--json");
        Map<String, String> expected = expectedStatuses(JSON.readTree(d.out()), rows(a), rows(b));
        PictureDom dom = PictureDom.parseSvg(Files.readString(svg));
        Map<String, String> actual = new LinkedHashMap<>();
        dom.boxes().forEach((k, e) -> actual.put(k, e.getAttribute("data-status")));
        assertThat(actual).isEqualTo(expected);
        assertThat(dom.boxes().values().stream().filter(e -> e.getAttribute("data-training").equals("frozen")).count()).isEqualTo(10);
    }

    static List<String> rows(Path model) throws Exception {
        Cli.Result r = Cli.run("inspect", model.toString(), "--json");
        List<String> names = new ArrayList<>();
        JSON.readTree(r.out()).get("layers").forEach(l -> names.add(l.get("name").asText()));
        return names;
    }

    /** The status diff --json gives each layer of the union of both inspect tables. */
    static Map<String, String> expectedStatuses(JsonNode diff, List<String> a, List<String> b) {
        Set<String> removed = texts(diff.get("removed"));
        Set<String> added = texts(diff.get("added"));
        Map<String, String> renamed = new LinkedHashMap<>();
        diff.get("renamed").fields().forEachRemaining(e -> renamed.put(e.getKey(), e.getValue().asText()));
        Set<String> changed = new HashSet<>();
        diff.get("changed").forEach(c -> changed.add(c.asText().split(": ", 2)[0]));
        diff.get("weights").forEach(w -> changed.add(w.get("layer").asText()));
        Map<String, String> r = new LinkedHashMap<>();
        for (String l : a) {
            String subject = renamed.containsKey(l) ? l + " -> " + renamed.get(l) : l;
            r.put(l, removed.contains(l) ? "removed" : renamed.containsKey(l) ? "renamed" : changed.contains(subject) ? "changed" : "same");
        }
        for (String l : b) {
            if (added.contains(l)) {
                r.put(l, "added");
            }
        }
        return r;
    }

    static Set<String> texts(JsonNode n) {
        Set<String> r = new LinkedHashSet<>();
        n.forEach(x -> r.add(x.asText()));
        return r;
    }

    @Test
    void anExistingPictureIsKeptWithoutForce() throws Exception {
        Path dir = TestPaths.scratch("pictures-force");
        Path svg = dir.resolve("m.svg");
        Files.writeString(svg, "keep");
        Cli.Result r = Cli.run("inspect", TestPaths.fixtures().resolve("surgery/vgg16_mini.onnx").toString(), "--svg", svg.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("exists").doesNotContain("Exception");
        assertThat(Files.readString(svg)).isEqualTo("keep");
        try (var s = Files.list(dir)) {
            assertThat(s.toList()).as("no temporary file left").containsExactly(svg);
        }
        // refused before any work: the model is not even read (a missing one would be exit 3), for all three commands
        Path missing = dir.resolve("no-such-model.onnx");
        for (String[] args : List.of(new String[] {"inspect", missing.toString(), "--html", svg.toString()},
                new String[] {"diff", missing.toString(), missing.toString(), "--svg", svg.toString()},
                new String[] {"surgery", missing.toString(), "--dry-run", "--edit", "pop 1", "--svg", svg.toString()})) {
            Cli.Result early = Cli.run(args);
            assertThat(early.code()).as(args[0] + ": " + early.err()).isEqualTo(2);
            assertThat(early.err()).contains("exists; pass --force").contains(svg.toString());
        }
        assertThat(Files.readString(svg)).isEqualTo("keep");
    }
}
