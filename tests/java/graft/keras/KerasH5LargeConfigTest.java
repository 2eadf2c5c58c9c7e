package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ResNet50's, InceptionV3's and DenseNet121's Keras model_config (62,472 / 108,267 / 148,937
 * characters as graft writes the twins; a full-size model's is the same length, only filters
 * differ) is more than an HDF5 object header message holds (65,535 bytes). The writer used to
 * refuse them (exit 3); it now stores such an attribute as h5py 3 stores Keras's own: a
 * variable-length string in a global heap collection. Checked on the written file by three
 * readers: h5py (the attribute is a variable-length string holding the whole config), TensorFlow.js
 * through h5wasm (the written .h5's logits against TensorFlow.js on the source .h5, 1e-5
 * relative) and graft's own importer, jhdf (inspect shows the source's layers and parameters).
 */
class KerasH5LargeConfigTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "inceptionv3", "densenet121"})
    void largeConfigIsWrittenAndReadByH5pyTensorFlowJsAndGraft(String model) throws Exception {
        TfjsOracle.assumeInstalled();
        String name = model + "_small";
        Path scratch = TestPaths.scratch("keras-h5-large-config-" + model);
        Path logits = scratch.resolve("source_logits.h5");
        Python.run(KerasApplicationsTest.ORACLE, "logits", KerasApplicationsTest.h5(name).toString(), logits.toString());
        Path written = scratch.resolve("written.h5");
        Files.deleteIfExists(written);
        Cli.Result r = Cli.run("convert", logits.toString(), written.toString());
        assertThat(r.code()).as(r.err()).isZero();

        JsonNode attr = new ObjectMapper().readTree(Python.run(KerasApplicationsTest.ORACLE, "attr", written.toString(), "model_config"));
        System.out.printf(Locale.ROOT, "%s: h5py reads model_config as %s, variable-length %s, %d characters, %d layers%n", model,
                attr.path("python").asText(), attr.path("variable").asBoolean(), attr.path("chars").asInt(), attr.path("layers").asInt());
        assertThat(attr.path("variable").asBoolean()).isTrue();
        assertThat(attr.path("chars").asInt()).isGreaterThan(0xFFFF - 4096);
        JsonNode source = KerasApplicationsTest.inspect(logits);
        assertThat(attr.path("layers").asInt()).isEqualTo(source.path("layers").size());

        JsonNode back = KerasApplicationsTest.inspect(written);
        assertThat(back.path("layers").size()).isEqualTo(source.path("layers").size());
        assertThat(back.path("total_params").asLong()).isEqualTo(source.path("total_params").asLong());
        assertThat(back.path("non_trainable_params").asLong()).isEqualTo(source.path("non_trainable_params").asLong());

        Tensor x = KerasApplicationsTest.input(name, logits, 2);
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> out = TfjsOracle.predict(List.of(new TfjsOracle.Job(logits, null, List.of(x)), new TfjsOracle.Job(written, null, List.of(x))),
                scratch.resolve("tfjs"), errors);
        assertThat(errors).containsOnlyNulls();
        double e = TfjsOracle.relError(out.get(1).get(0), out.get(0).get(0));
        System.out.printf(Locale.ROOT, "%s: TensorFlow.js on the written .h5 vs on the source: %.2e relative%n", model, e);
        assertThat(e).isLessThanOrEqualTo(KerasApplicationsTest.TOLERANCE);
    }
}
