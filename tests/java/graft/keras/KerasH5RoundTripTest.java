package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.io.Npy;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.testing.Cli;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
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
 * Every Keras file of the shared corpus through {@code graft convert X.h5 Y.h5}: (a) the
 * written file's outputs, computed by TensorFlow.js 4.22 from graft's .h5 (by the numpy
 * LocallyConnected2D evaluation where TensorFlow.js has no such layer), equal the original's
 * oracle (Keras's saved predictions, TensorFlow.js or numpy on the original, as
 * {@link KerasCorpusTest} chooses) within 1e-5 relative to the output's magnitude; (b) the
 * written model has the original's layers, same names and classes in the same order (the
 * InputLayer aside: graft writes a functional model; a Keras 1 Convolution2D is written as its
 * Keras 2 class Conv2D); (c) every weight of every layer, in weight_names order, has the
 * original's shape and bytes. Writes target/keras-h5-roundtrip-table.md.
 */
class KerasH5RoundTripTest {
    static final double TOLERANCE = 1e-5;

    @Test
    void everyCorpusFileRoundTripsThroughGraftsH5WithItsLayersWeightsAndOutputs() throws IOException {
        TestPaths.assumeExists(KerasCorpusTest.CORPUS, "the shared Keras corpus");
        TfjsOracle.assumeInstalled();
        Path scratch = TestPaths.scratch("keras-h5-roundtrip");
        List<KerasCorpusTest.Case> cases = KerasCorpusTest.cases();
        assertThat(cases).hasSize(41);
        Map<KerasCorpusTest.Case, String> outcome = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        Map<KerasCorpusTest.Case, Path> written = new LinkedHashMap<>();
        Map<KerasCorpusTest.Case, List<Tensor>> inputs = new LinkedHashMap<>();
        Map<KerasCorpusTest.Case, Tensor> reference = new LinkedHashMap<>();
        Map<KerasCorpusTest.Case, Tensor> got = new LinkedHashMap<>();
        List<TfjsOracle.Job> jobs = new ArrayList<>();
        List<Runnable> collect = new ArrayList<>();
        for (KerasCorpusTest.Case c : cases) {
            Path out = scratch.resolve(c.name().replace('/', '_'));
            List<String> args = new ArrayList<>(List.of("convert", c.model().toString(), out.toString(), "--force"));
            if (c.config() != null) {
                args.addAll(List.of("--config", c.config().toString()));
            }
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            if (r.code() != 0) {
                outcome.put(c, "refused: " + r.err().strip());
                failures.add(c.name() + ": " + r.err().strip());
                continue;
            }
            written.put(c, out);
            List<String> structure = structure(c, out);
            if (!structure.isEmpty()) {
                failures.add(c.name() + ": " + structure);
            }
            Graph g = new KerasFormat().read(c.model(), graft.io.Options.none().set("config", c.config()));
            List<Tensor> in = new ArrayList<>();
            String file = c.model().getFileName().toString();
            if (c.name().startsWith("fullconfigs/cnn/")) {
                in.add(KerasCorpusTest.toFloat(Npy.read(c.model().resolveSibling("input.npy"))));
                reference.put(c, KerasCorpusTest.toFloat(Npy.read(c.model().resolveSibling("predictions.npy"))));
            } else if (c.name().startsWith("examples/activations/")) {
                Path io = c.model().resolveSibling(file.replaceAll("_(model|weights)\\.h5$", "_inputs_and_outputs.h5"));
                try (HdfFile h = new HdfFile(io)) {
                    in.add(KerasCorpusTest.dataset(h, "inputs"));
                    reference.put(c, KerasCorpusTest.dataset(h, "predictions"));
                }
            } else {
                int k = 0;
                for (Value v : g.inputs()) {
                    in.add(Tensor.random(graft.ir.DataType.FLOAT, KerasCorpusTest.concrete(g.type(v.name()).shape()), 42 + k++));
                }
                if (KerasCorpusTest.usesLocallyConnected(c.model())) {
                    reference.put(c, KerasCorpusTest.numpyOracle("locally_connected_oracle.py", c.model(), in.get(0), scratch, file));
                } else if (g.metadata().getOrDefault("source.keras_version", "").startsWith("1.")) {
                    reference.put(c, KerasCorpusTest.numpyOracle("keras1_conv_oracle.py", c.model(), in.get(0), scratch, file));
                } else {
                    int at = jobs.size();
                    jobs.add(new TfjsOracle.Job(c.model(), c.config(), in));
                    collect.add(() -> reference.put(c, tfjsResults.get(at).get(0)));
                }
            }
            inputs.put(c, in);
            if (KerasCorpusTest.usesLocallyConnected(out)) {
                got.put(c, KerasCorpusTest.numpyOracle("locally_connected_oracle.py", out, in.get(0), scratch, "graft_" + file));
            } else {
                int at = jobs.size();
                jobs.add(new TfjsOracle.Job(out, null, in));
                collect.add(() -> got.put(c, tfjsResults.get(at).get(0)));
            }
        }
        List<String> errors = new ArrayList<>();
        tfjsResults = TfjsOracle.predict(jobs, scratch.resolve("tfjs"), errors);
        for (int i = 0; i < jobs.size(); i++) {
            if (errors.get(i) != null) {
                failures.add(jobs.get(i).model().getFileName() + ": TensorFlow.js: " + errors.get(i).lines().findFirst().orElse(""));
            }
        }
        assertThat(failures).as("structure, weights or TensorFlow.js loading").isEmpty();
        collect.forEach(Runnable::run);
        for (KerasCorpusTest.Case c : written.keySet()) {
            Tensor a = got.get(c);
            Tensor ref = reference.get(c);
            double err = java.util.Arrays.equals(a.shape(), ref.shape()) ? TfjsOracle.relError(a, ref) : Double.POSITIVE_INFINITY;
            if (!(err <= TOLERANCE)) {
                failures.add(c.name() + ": max error " + err + " relative (shapes " + a + " / " + ref + ")");
            }
            outcome.put(c, String.format(Locale.ROOT, "round-trips; same layers and weight bytes; max error %.1e relative", err));
        }
        StringBuilder table = new StringBuilder("| file | .h5 -> .h5 |\n|---|---|\n");
        outcome.forEach((c, o) -> table.append("| `").append(c.name()).append("` | ").append(o.replace("|", "\\|")).append(" |\n"));
        Files.writeString(TestPaths.root().resolve("target/keras-h5-roundtrip-table.md"), table.toString());
        System.out.println(table);
        assertThat(failures).as("outputs beyond " + TOLERANCE + " relative").isEmpty();
    }

    private List<List<Tensor>> tfjsResults;

    /**
     * .h5 -> .onnx -> .h5: graft's ONNX keeps the source layers' tags and classes (metadata
     * graft.layers, source.keras_layers), so the Keras file written from the ONNX file has the
     * source's layers and weight bytes too (the same checks (b) and (c); equal layers and bytes
     * make the same model, so no second oracle run).
     */
    @Test
    void everyCorpusFileRoundTripsThroughGraftsOnnxBackToTheSameKerasLayersAndWeights() throws IOException {
        TestPaths.assumeExists(KerasCorpusTest.CORPUS, "the shared Keras corpus");
        Path scratch = TestPaths.scratch("keras-h5-onnx-h5");
        List<String> failures = new ArrayList<>();
        for (KerasCorpusTest.Case c : KerasCorpusTest.cases()) {
            Path onnx = scratch.resolve(c.name().replace('/', '_') + ".onnx");
            Path back = scratch.resolve(c.name().replace('/', '_'));
            List<String> args = new ArrayList<>(List.of("convert", c.model().toString(), onnx.toString(), "--force"));
            if (c.config() != null) {
                args.addAll(List.of("--config", c.config().toString()));
            }
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            Cli.Result r2 = r.code() == 0 ? Cli.run("convert", onnx.toString(), back.toString(), "--force") : r;
            if (r2.code() != 0) {
                failures.add(c.name() + ": " + r2.err().strip());
                continue;
            }
            List<String> bad = structure(c, back);
            if (!bad.isEmpty()) {
                failures.add(c.name() + ": " + bad);
            }
        }
        assertThat(failures).isEmpty();
    }

    /** What differs between the original's and the written file's layers and weights (empty: nothing). */
    static List<String> structure(KerasCorpusTest.Case c, Path out) throws IOException {
        List<String> bad = new ArrayList<>();
        try (HdfFile a = new HdfFile(c.model()); HdfFile b = new HdfFile(out)) {
            String cfgA = c.config() != null ? Files.readString(c.config()) : (String) a.getAttribute("model_config").getData();
            List<String> la = layers(cfgA, true);
            List<String> lb = layers((String) b.getAttribute("model_config").getData(), false);
            if (!la.equals(lb)) {
                bad.add("layers " + la + " written as " + lb);
            }
            Group wa = a.getChildren().containsKey("model_weights") ? (Group) a.getChild("model_weights") : a;
            Group wb = (Group) b.getChild("model_weights");
            for (Map.Entry<String, Node> e : wa.getChildren().entrySet()) {
                if (!(e.getValue() instanceof Group ga)) {
                    continue;
                }
                List<Dataset> da = datasets(ga);
                if (da.isEmpty()) {
                    continue;
                }
                if (!(wb.getChildren().get(e.getKey()) instanceof Group gb)) {
                    bad.add("layer " + e.getKey() + ": no weights written");
                    continue;
                }
                List<Dataset> db = datasets(gb);
                if (da.size() != db.size()) {
                    bad.add("layer " + e.getKey() + ": " + da.size() + " weights, written " + db.size());
                    continue;
                }
                for (int i = 0; i < da.size(); i++) {
                    if (!java.util.Arrays.equals(da.get(i).getDimensions(), db.get(i).getDimensions())
                            || !java.util.Arrays.equals(floatBits(da.get(i)), floatBits(db.get(i)))) {
                        bad.add("layer " + e.getKey() + " weight " + i + " (" + da.get(i).getName() + "): not the original's bits");
                    }
                }
            }
        }
        return bad;
    }

    private static List<Dataset> datasets(Group g) {
        List<Dataset> r = new ArrayList<>();
        Object names = g.getAttribute("weight_names") == null ? null : g.getAttribute("weight_names").getData();
        if (names == null) {
            return r;
        }
        for (String n : (String[]) names) {
            r.add(g.getDatasetByPath(n));
        }
        return r;
    }

    static int[] floatBits(Dataset d) {
        assertThat(d.getJavaType()).as(d.getPath()).isEqualTo(float.class);
        float[] f = (float[]) d.getDataFlat();
        int[] r = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            r[i] = Float.floatToRawIntBits(f[i]);
        }
        return r;
    }

    /** "class:name" of every layer but the InputLayer; Keras 1 names as their Keras 2 classes when {@code original}. */
    static List<String> layers(String modelConfig, boolean original) throws IOException {
        JsonNode root = new ObjectMapper().readTree(modelConfig);
        JsonNode ls = root.path("config").isArray() ? root.path("config") : root.path("config").path("layers");
        List<String> r = new ArrayList<>();
        for (JsonNode l : ls) {
            String cls = l.path("class_name").asText();
            if (cls.equals("InputLayer")) {
                continue;
            }
            if (original && cls.equals("Convolution2D")) {
                cls = "Conv2D";
            }
            r.add(cls + ":" + l.path("config").path("name").asText());
        }
        return r;
    }
}
