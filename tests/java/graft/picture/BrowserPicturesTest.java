package graft.picture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The HTML pictures in a real browser: headless Chromium opens each page, its screenshot is kept under
 * target/pictures/, and the DOM after the page's script ran (--dump-dom) holds one box per {@code inspect}
 * row, the layer graph's edges, the diff's colours, and, opened with {@code #click=LAYER}, that layer's row in
 * the side panel. The page and the standalone SVG log nothing to the console (no script error).
 * Skipped, never passed, without chromium.
 */
class BrowserPicturesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern BOX = Pattern.compile("<g class=\"box( selected)?\" data-layer=\"([^\"]*)\" data-status=\"([^\"]*)\"[^>]*>\\s*"
            + "<title>[^<]*</title>\\s*<rect [^>]*fill=\"([^\"]*)\"");
    static final Pattern EDGE = Pattern.compile("<path class=\"edge\" data-from=\"([^\"]*)\" data-to=\"([^\"]*)\"");
    static final Pattern CELL = Pattern.compile("<td data-field=\"([^\"]*)\">([^<]*)</td>");

    @ParameterizedTest
    @CsvSource({"surgery/vgg16_mini.onnx, block3_conv2", "surgery/caffenet_mini.onnx, fc6", "pictures/residual_mini.onnx, res2_add"})
    void modelPagesShowEveryLayerTheEdgesAndTheClickedRow(String name, String click) throws Exception {
        Path in = TestPaths.fixtures().resolve(name);
        String stem = in.getFileName().toString().replace(".onnx", "");
        Path dir = TestPaths.scratch("browser-" + stem);
        Chromium chrome = Chromium.find(dir);
        Path html = dir.resolve(stem + ".html");
        Path svg = dir.resolve(stem + ".svg");
        Cli.Result r = Cli.run("inspect", in.toString(), "--json", "--html", html.toString(), "--svg", svg.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Map<String, JsonNode> rows = new LinkedHashMap<>();
        JSON.readTree(r.out()).get("layers").forEach(l -> rows.put(l.get("name").asText(), l));

        Chromium.Run shot = chrome.screenshot(html.toUri().toString(), TestPaths.root().resolve("target/pictures/" + stem + ".png"), 1200, 900);
        assertThat(shot.console()).as("console of " + html).isEmpty();
        assertPicture(TestPaths.root().resolve("target/pictures/" + stem + ".png"));

        Chromium.Run dom = chrome.dumpDom(html.toUri() + "#click=" + click);
        assertThat(dom.console()).as("console").isEmpty();
        Map<String, String[]> boxes = boxes(dom.out());
        assertThat(boxes.keySet()).as("one box per inspect row").containsExactlyElementsOf(rows.keySet());
        assertThat(edges(dom.out())).containsExactlyInAnyOrderElementsOf(PicturesTest.forwardEdges(OnnxImporter.read(in)));
        assertThat(boxes.entrySet().stream().filter(e -> e.getValue()[0] != null).map(Map.Entry::getKey)).containsExactly(click);
        Map<String, String> cells = cells(dom.out());
        JsonNode row = rows.get(click);
        assertThat(cells).containsEntry("name", click).containsEntry("ops", row.get("ops").asText())
                .containsEntry("output_shape", row.get("output_shape").asText()).containsEntry("params", row.get("params").asText())
                .containsEntry("trainable", row.get("trainable").asText()).containsKey("lr_mult");

        Chromium.Run plain = chrome.screenshot(svg.toUri().toString(), dir.resolve(stem + "-svg.png"), 800, 600);
        assertThat(plain.console()).as("console of the standalone SVG").isEmpty();
        assertPicture(dir.resolve(stem + "-svg.png"));
    }

    @Test
    void theFinetuneDiffPageColoursLayersAsDiffReportsThem() throws Exception {
        Path dir = TestPaths.scratch("browser-diff");
        Chromium chrome = Chromium.find(dir);
        Path a = TestPaths.fixtures().resolve("surgery/vgg16_mini.onnx");
        Path b = dir.resolve("vgg16_finetune.onnx");
        Cli.Result s = Cli.run("surgery", a.toString(), "--recipe", TestPaths.root().resolve("recipes/vgg16_finetune.yaml").toString(),
                "-o", b.toString());
        assertThat(s.code()).as(s.err()).isZero();
        Path html = dir.resolve("diff.html");
        Cli.Result d = Cli.run("diff", a.toString(), b.toString(), "--json", "--html", html.toString());
        assertThat(d.code()).as(d.err()).isZero();
        JsonNode diff = JSON.readTree(d.out());
        Map<String, String> expected = PicturesTest.expectedStatuses(diff, PicturesTest.rows(a), PicturesTest.rows(b));

        Path png = TestPaths.root().resolve("target/pictures/vgg16_finetune_diff.png");
        Chromium.Run shot = chrome.screenshot(html.toUri().toString(), png, 1200, 900);
        assertThat(shot.console()).isEmpty();
        assertPicture(png);

        Chromium.Run dom = chrome.dumpDom(html.toUri() + "#click=block4_conv1");
        assertThat(dom.console()).isEmpty();
        Map<String, String[]> boxes = boxes(dom.out());
        Map<String, String> status = new LinkedHashMap<>();
        boxes.forEach((k, v) -> status.put(k, v[1]));
        assertThat(status).isEqualTo(expected);
        Set<String> frozen = new LinkedHashSet<>();
        diff.get("training").forEach(t -> frozen.add(t.asText().split(": ", 2)[0]));
        for (Map.Entry<String, String[]> e : boxes.entrySet()) {
            LayerGraph.Status st = LayerGraph.Status.valueOf(e.getValue()[1].toUpperCase(java.util.Locale.ROOT));
            String want = st == LayerGraph.Status.SAME && frozen.contains(e.getKey()) ? Svg.FROZEN[0] : Svg.COLOURS.get(st)[0];
            assertThat(e.getValue()[2]).as("fill of " + e.getKey() + " (" + st + ")").isEqualTo(want);
        }
        assertThat(Set.of(boxes.get("fc1")[2], boxes.get("dense")[2], boxes.get("block5_conv1")[2], boxes.get("block1_conv1")[2]))
                .as("removed, added, same, frozen: four colours").hasSize(4);
        Map<String, String> cells = cells(dom.out());
        assertThat(cells).containsEntry("name", "block4_conv1").containsEntry("trainable", "false").containsEntry("status", "same")
                .containsEntry("diff", "block4_conv1: trainable true -> false");
    }

    /** data-layer -> {selected or null, data-status, rect fill}, in document order. */
    static Map<String, String[]> boxes(String dom) {
        Map<String, String[]> r = new LinkedHashMap<>();
        Matcher m = BOX.matcher(dom);
        while (m.find()) {
            assertThat(r.put(m.group(2), new String[] {m.group(1), m.group(3), m.group(4)})).as("duplicate box " + m.group(2)).isNull();
        }
        return r;
    }

    static Set<String> edges(String dom) {
        Set<String> r = new LinkedHashSet<>();
        Matcher m = EDGE.matcher(dom);
        while (m.find()) {
            r.add(m.group(1) + " -> " + m.group(2));
        }
        return r;
    }

    /** The side panel's cells (the selected row). */
    static Map<String, String> cells(String dom) {
        int at = dom.indexOf("<table id=\"row\"");
        assertThat(at).as("side panel table").isNotNegative();
        String table = dom.substring(at, dom.indexOf("</table>", at));
        Map<String, String> r = new LinkedHashMap<>();
        Matcher m = CELL.matcher(table);
        while (m.find()) {
            r.put(m.group(1), m.group(2).replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&"));
        }
        return r;
    }

    /** A PNG of the window's size that is not blank: more than two colours drawn. */
    static void assertPicture(Path png) throws Exception {
        assertThat(png).exists();
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img).as(png.toString()).isNotNull();
        Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                colours.add(img.getRGB(x, y));
            }
        }
        assertThat(colours.size()).as("distinct colours in " + png).isGreaterThan(4);
    }
}
