package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.ir.DataType;
import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * #15, Keras writer: the layers the corpus lacks (fixtures/keras/make_writer_layers.py), written
 * back by {@code graft convert X.h5 Y.h5} as the same Keras layers: same names, classes and
 * inbound layers, every config value of the source present with the same value, every weight's
 * bytes; TensorFlow.js 4.22 gives the written file the source's outputs. The second model holds
 * what TensorFlow.js cannot judge (it ignores ReLU's negative_slope and threshold, has no
 * Subtract and refuses ELU's alpha other than 1): for it the config equality is the check, plus ONNX Runtime on graft's conversion of
 * each file (graft against graft: the same model read twice, not an independent oracle).
 */
class KerasWriterLayersTest {
    static Path scratch;
    static Path tfjsModel;
    static Path otherModel;

    @BeforeAll
    static void fixtures() {
        scratch = TestPaths.scratch("keras-writer-layers");
        tfjsModel = scratch.resolve("writer_layers.h5");
        otherModel = scratch.resolve("writer_layers_other.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_writer_layers.py"), tfjsModel.toString(), otherModel.toString());
    }

    static Path write(Path src) {
        Path out = src.resolveSibling(src.getFileName().toString().replace(".h5", "_back.h5"));
        Cli.Result r = Cli.run("convert", src.toString(), out.toString(), "--force");
        assertThat(r.code()).as(r.err()).isZero();
        return out;
    }

    @Test
    void everyLayerIsWrittenBackAsItWasAndTensorFlowJsGivesTheSourcesOutputs() throws Exception {
        TfjsOracle.assumeInstalled();
        Path back = write(tfjsModel);
        assertThat(differences(tfjsModel, back)).isEmpty();
        assertThat(KerasH5RoundTripTest.structure(new KerasCorpusTest.Case(tfjsModel, null, "writer_layers"), back)).isEmpty();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {3, 8, 8, 3}, 7);
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> r = TfjsOracle.predict(List.of(new TfjsOracle.Job(tfjsModel, null, List.of(x)),
                new TfjsOracle.Job(back, null, List.of(x))), scratch.resolve("tfjs"), errors);
        assertThat(errors).containsOnlyNulls();
        double err = TfjsOracle.relError(r.get(1).get(0), r.get(0).get(0));
        System.out.println("writer_layers: TensorFlow.js on graft's .h5 vs on the source, rel err " + err);
        assertThat(err).isLessThanOrEqualTo(1e-6);
    }

    @Test
    void reluSlopeThresholdAndSubtractAreWrittenWithTheSourcesConfig() throws Exception {
        Path back = write(otherModel);
        assertThat(differences(otherModel, back)).isEmpty();
        assertThat(KerasH5RoundTripTest.structure(new KerasCorpusTest.Case(otherModel, null, "writer_layers_other"), back)).isEmpty();
        Path a = scratch.resolve("other.onnx");
        Path b = scratch.resolve("other_back.onnx");
        assertThat(Cli.run("convert", otherModel.toString(), a.toString(), "--force").code()).isZero();
        assertThat(Cli.run("convert", back.toString(), b.toString(), "--force").code()).isZero();
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {4, 16}, 3);
        assertThat(TfjsOracle.relError(KerasRoundTripTest.run(b, x), KerasRoundTripTest.run(a, x))).isZero();
    }

    /**
     * Per layer of the source: a different class or inbound list, or a config value (dtype aside)
     * missing or different in the written file; numbers compared as float32, as Keras holds them.
     */
    static List<String> differences(Path source, Path written) throws Exception {
        Map<String, JsonNode> out = new HashMap<>();
        for (JsonNode l : layers(written)) {
            out.put(l.path("config").path("name").asText(), l);
        }
        List<String> bad = new ArrayList<>();
        for (JsonNode l : layers(source)) {
            String name = l.path("config").path("name").asText();
            JsonNode w = out.get(name);
            if (w == null || !w.path("class_name").equals(l.path("class_name"))) {
                bad.add(name + ": " + (w == null ? "not written" : "written as " + w.path("class_name")));
                continue;
            }
            if (!w.path("inbound_nodes").toString().equals(l.path("inbound_nodes").toString())) {
                bad.add(name + ": inbound " + l.path("inbound_nodes") + " written as " + w.path("inbound_nodes"));
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = l.path("config").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = w.path("config").path(e.getKey());
                if (!e.getKey().equals("dtype") && !same(e.getValue(), v)) {
                    bad.add(name + "." + e.getKey() + ": " + e.getValue() + " written as " + v);
                }
            }
        }
        return bad;
    }

    private static boolean same(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return (float) a.asDouble() == (float) b.asDouble();
        }
        if (a.isArray() && b.isArray() && a.size() == b.size()) {
            for (int i = 0; i < a.size(); i++) {
                if (!same(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    private static JsonNode layers(Path h5) throws Exception {
        try (HdfFile f = new HdfFile(h5)) {
            return new ObjectMapper().readTree((String) f.getAttribute("model_config").getData()).path("config").path("layers");
        }
    }
}
