package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.testing.Cli;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Keras Sequential is written back as a Sequential (#15): Keras's {@code model.layers} of a
 * Sequential has no InputLayer row, so writing it as a functional Model shifted every index a
 * user's {@code layers[:N]} freeze range counts with. Checked on the corpus's Sequential files
 * written by real Keras (2.1.3's list form, 2.3.1's {name, layers} form; the configs read here
 * with jhdf, not graft's importer): graft's .h5 holds a Sequential with the same layer names
 * and classes in the same order, the input shape on the first layer, and graft's surgery that
 * leaves a chain keeps it a Sequential. Outputs of these files through graft's .h5 are checked
 * against TensorFlow.js by {@link KerasH5RoundTripTest}.
 */
class KerasSequentialWriteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode modelConfig(Path h5) throws IOException {
        try (HdfFile f = new HdfFile(h5)) {
            Object v = f.getAttribute("model_config").getData();
            return JSON.readTree(v instanceof String s ? s : ((String[]) v)[0]);
        }
    }

    /** [class_name:name] of a Sequential config's layers (either form), no InputLayer. */
    static List<String> layers(JsonNode model) {
        JsonNode cfg = model.path("config");
        JsonNode list = cfg.isArray() ? cfg : cfg.path("layers");
        List<String> r = new ArrayList<>();
        for (JsonNode l : list) {
            if (!l.path("class_name").asText().equals("InputLayer")) {
                r.add(l.path("class_name").asText().replace("Convolution2D", "Conv2D") + ":" + l.path("config").path("name").asText());
            }
        }
        return r;
    }

    static JsonNode firstLayer(JsonNode model) {
        JsonNode cfg = model.path("config");
        return (cfg.isArray() ? cfg : cfg.path("layers")).path(0).path("config");
    }

    @Test
    void corpusSequentialsAreWrittenBackAsSequentials() throws IOException {
        Path corpus = TestPaths.corpus().resolve("keras");
        TestPaths.assumeExists(corpus, "the shared Keras corpus");
        Path scratch = TestPaths.scratch("keras-sequential-write");
        for (String file : List.of("examples/activations/ReLU_0_model.h5", "fullconfigs/cnn/cnn_batch_norm.h5")) {
            Path original = corpus.resolve(file);
            Path out = scratch.resolve(original.getFileName());
            Cli.Result r = Cli.run("convert", "--force", original.toString(), out.toString());
            assertThat(r.code()).as(file + ": " + r.err()).isZero();
            JsonNode a = modelConfig(original);
            JsonNode b = modelConfig(out);
            assertThat(a.path("class_name").asText()).as(file).isEqualTo("Sequential");
            assertThat(b.path("class_name").asText()).as(file).isEqualTo("Sequential");
            assertThat(fieldNamesOf(b.path("config"))).containsExactly("name", "layers");
            assertThat(layers(b)).as(file).isEqualTo(layers(a));
            assertThat(firstLayer(b).path("batch_input_shape")).as(file).isEqualTo(firstLayer(a).path("batch_input_shape"));
        }
    }

    @Test
    void surgeryThatLeavesAChainKeepsASequential() throws IOException {
        Path original = TestPaths.corpus().resolve("keras/fullconfigs/cnn/cnn_batch_norm.h5");
        TestPaths.assumeExists(original, "the shared Keras corpus");
        Path out = TestPaths.scratch("keras-sequential-write").resolve("popped.h5");
        JsonNode a = modelConfig(original);
        List<String> before = layers(a);
        Cli.Result r = Cli.run("surgery", "--force", original.toString(), "-o", out.toString(), "--edit", "pop 2");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode b = modelConfig(out);
        assertThat(b.path("class_name").asText()).isEqualTo("Sequential");
        assertThat(layers(b)).isEqualTo(before.subList(0, before.size() - 2));
    }

    static List<String> fieldNamesOf(JsonNode n) {
        List<String> r = new ArrayList<>();
        n.fieldNames().forEachRemaining(r::add);
        return r;
    }
}
