package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code validate --per-layer} against an edited model (issue #14.8): a layer the edits replaced
 * or re-initialised is a new layer under an old name, shown as such and not compared, and not
 * named as the first divergence; relative errors read as people read them.
 */
class PerLayerEditsTest {
    static final String SMALL = TestPaths.fixtures().resolve("onnx/small_vgg.onnx").toString();
    static final String CONV = "/features/features.5/Conv";

    @Test
    void aReinitialisedLayerIsChangedByEditNotTheFirstDivergence() throws Exception {
        Path dir = TestPaths.scratch("per-layer-edits");
        Path edited = dir.resolve("reinit.onnx");
        Cli.Result s = Cli.run("surgery", SMALL, "--edit", "reinit " + CONV + " --init he --seed 3", "-o", edited.toString());
        assertThat(s.code()).as(s.err()).isZero();
        Cli.Result r = Cli.run("validate", SMALL, edited.toString(), "--per-layer");
        assertThat(r.code()).as("the outputs differ: the edit changed the function").isEqualTo(1);
        String row = r.out().lines().filter(l -> l.startsWith(CONV + " ")).findFirst().orElseThrow();
        assertThat(row).contains("changed by edit, not compared");
        assertThat(r.out()).doesNotContain("first layer beyond tolerance: " + CONV)
                .contains("first layer beyond tolerance: /features/features.6/Relu (after the edited layer " + CONV);
        // layers before the edit still compared, and agree
        assertThat(r.out().lines().filter(l -> l.startsWith("/features/features.2/Conv ")).findFirst().orElseThrow()).endsWith("ok");
        // relative errors: no 1e+05-style numbers in the table
        assertThat(r.out()).doesNotContainPattern("e\\+0[2-9]");
        JsonNode j = new ObjectMapper().readTree(Cli.run("validate", SMALL, edited.toString(), "--per-layer", "--json").out());
        assertThat(j.get("first_diverging_layer").asText()).isEqualTo("/features/features.6/Relu");
        boolean found = false;
        for (JsonNode l : j.get("layers")) {
            if (l.get("name").asText().equals(CONV)) {
                found = true;
                assertThat(l.get("compared").asBoolean()).isFalse();
            }
        }
        assertThat(found).isTrue();
    }

    @Test
    void theEditGrammarNamesTheLayersItRenews() {
        assertThat(graft.validate.ValidationAccess.editedBy("replace-conv-pair block1_conv1 block1_conv2 --kernel 5 --init random"))
                .containsExactly("block1_conv1", "block1_conv2");
        assertThat(graft.validate.ValidationAccess.editedBy("replace fc2 Dense(10)")).containsExactly("fc2");
        assertThat(graft.validate.ValidationAccess.editedBy("reinit fc1 --init he")).containsExactly("fc1");
        assertThat(graft.validate.ValidationAccess.editedBy("freeze :15")).isEmpty();
    }
}
