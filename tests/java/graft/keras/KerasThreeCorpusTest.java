package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * #15: every Keras file of the shared corpus through {@code .h5 -> .keras -> ONNX}. Written files
 * have the original's layers (same names and classes in the same order, the InputLayer aside, a
 * Keras 1 Convolution2D as Conv2D) and their ONNX, through graft's .keras, gives the outputs of
 * graft's ONNX of the .h5 (itself proven against TensorFlow.js, Keras's saved predictions or numpy
 * by KerasCorpusTest) in ONNX Runtime within 1e-5 relative to each output's magnitude, on seeded
 * inputs (saved inputs for the files that have them). Files Keras 3 cannot hold are refused,
 * exit 3, in one line naming the layers, and must be exactly {@link #REFUSED}. Writes
 * target/keras3-corpus-table.md. Real Keras 3.15.1 loading these files is shown at dev time by
 * fixtures/keras/keras3/check_graft_keras3.py.
 */
class KerasThreeCorpusTest {
    static final double TOLERANCE = 1e-5;

    /** Corpus files Keras 3 cannot hold, and the Keras 2 layer class each needs. */
    static final Map<String, String> REFUSED = Map.of(
            "tfkeras/cnn2d_33.h5", "LocallyConnected2D",
            "tfkeras/cnn2d_35.h5", "LocallyConnected2D",
            "tfkeras/cnn2d_93.h5", "LocallyConnected2D",
            "tfkeras/cnn2d_95.h5", "LocallyConnected2D");

    @Test
    void everyCorpusFileGoesThroughKeras3ToTheSameLayersAndOutputsOrIsRefusedByName() throws IOException {
        TestPaths.assumeExists(KerasCorpusTest.CORPUS, "the shared Keras corpus");
        Path scratch = TestPaths.scratch("keras3-corpus");
        List<KerasCorpusTest.Case> cases = KerasCorpusTest.cases();
        assertThat(cases).hasSize(41);
        List<String> failures = new ArrayList<>();
        Map<String, String> outcome = new LinkedHashMap<>();
        for (KerasCorpusTest.Case c : cases) {
            String tag = c.name().replace('/', '_').replaceAll("\\.h5$", "");
            Path k3 = scratch.resolve(tag + ".keras");
            Path viaK3 = scratch.resolve(tag + ".via-keras3.onnx");
            Path direct = scratch.resolve(tag + ".onnx");
            List<String> cfg = c.config() == null ? List.of() : List.of("--config", c.config().toString());
            Cli.Result r = Cli.run(args("convert", "--force", c.model().toString(), k3.toString(), cfg));
            if (REFUSED.containsKey(c.name())) {
                if (r.code() != 3 || !r.err().contains("(" + REFUSED.get(c.name())) || r.err().strip().contains("\n") || Files.exists(k3)) {
                    failures.add(c.name() + ": expected a one-line refusal naming " + REFUSED.get(c.name()) + ", got exit " + r.code() + ": " + r.err());
                }
                outcome.put(c.name(), "refused: " + REFUSED.get(c.name()) + " (Keras 3 has no such layer)");
                continue;
            }
            if (r.code() != 0) {
                failures.add(c.name() + ": " + r.err().strip());
                continue;
            }
            Cli.Result r2 = Cli.run("convert", "--force", k3.toString(), viaK3.toString());
            Cli.Result r3 = Cli.run(args("convert", "--force", c.model().toString(), direct.toString(), cfg));
            if (r2.code() != 0 || r3.code() != 0) {
                failures.add(c.name() + ": " + r2.err().strip() + " " + r3.err().strip());
                continue;
            }
            String original = c.config() != null ? Files.readString(c.config()) : modelConfig(c.model());
            List<String> la = KerasH5RoundTripTest.layers(original, true);
            List<String> lb = layers(KerasThreeWriterTest.config(k3));
            if (!la.equals(lb)) {
                failures.add(c.name() + ": layers " + la + " written as " + lb);
            }
            Graph g = new KerasFormat().read(c.model(), graft.io.Options.none().set("config", c.config()));
            List<Tensor> in = new ArrayList<>();
            int k = 0;
            for (Value v : g.inputs()) {
                in.add(Tensor.random(graft.ir.DataType.FLOAT, KerasCorpusTest.concrete(g.type(v.name()).shape()), 42 + k++));
            }
            List<Tensor> want = run(direct, in);
            List<Tensor> got = run(viaK3, in);
            double err = 0;
            for (int i = 0; i < want.size(); i++) {
                err = Math.max(err, i < got.size() && java.util.Arrays.equals(got.get(i).shape(), want.get(i).shape())
                        ? TfjsOracle.relError(got.get(i), want.get(i)) : Double.POSITIVE_INFINITY);
            }
            if (got.size() != want.size() || !(err <= TOLERANCE)) {
                failures.add(c.name() + ": max error " + err + " relative over " + want.size() + " outputs");
            }
            outcome.put(c.name(), String.format(Locale.ROOT, "same %d layers; %d output%s within %.1e relative", lb.size(), want.size(),
                    want.size() == 1 ? "" : "s", err));
        }
        StringBuilder table = new StringBuilder("| file | .h5 -> .keras -> ONNX vs .h5 -> ONNX (ONNX Runtime) |\n|---|---|\n");
        outcome.forEach((n, o) -> table.append("| `").append(n).append("` | ").append(o).append(" |\n"));
        Files.writeString(TestPaths.root().resolve("target/keras3-corpus-table.md"), table.toString());
        System.out.println(table);
        assertThat(failures).isEmpty();
        assertThat(outcome).hasSize(41);
    }

    private static String[] args(String a, String b, String c, String d, List<String> more) {
        List<String> r = new ArrayList<>(List.of(a, b, c, d));
        r.addAll(more);
        return r.toArray(String[]::new);
    }

    private static String modelConfig(Path h5) {
        try (HdfFile h = new HdfFile(h5)) {
            return String.valueOf(h.getAttribute("model_config").getData());
        }
    }

    /** "class:name" of a .keras config.json's layers, the InputLayer aside. */
    static List<String> layers(JsonNode config) {
        List<String> r = new ArrayList<>();
        for (JsonNode l : config.path("config").path("layers")) {
            if (!l.path("class_name").asText().equals("InputLayer")) {
                r.add(l.path("class_name").asText() + ":" + l.path("config").path("name").asText());
            }
        }
        return r;
    }

    /** Every output, in the model's output order, for inputs fed in the model's input order. */
    private static List<Tensor> run(Path onnx, List<Tensor> in) {
        try (OrtRunner ort = OrtRunner.open(onnx, Device.CPU)) {
            Map<String, Tensor> feeds = new LinkedHashMap<>();
            int i = 0;
            for (String name : ort.inputs().keySet()) {
                feeds.put(name, in.get(i++));
            }
            return new ArrayList<>(ort.run(feeds).values());
        }
    }
}
