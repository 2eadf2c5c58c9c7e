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
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * #25.10, the writer half: a Keras BatchNormalization with {@code scale=False}/{@code center=False}
 * has no gamma/beta; graft's importer synthesises gamma 1 / beta 0 as constants (not parameters).
 * Written back to Keras they must be the flags again, with no gamma/beta datasets: graft wrote
 * {@code scale: true, center: true} with the synthesised weights, which computes the same numbers
 * but is a different model (26 more trainable parameters on {@code make_bn_variants.py}'s net).
 * Checked with TensorFlow.js: same outputs and the same trainable/non-trainable counts as the source.
 */
class KerasBnFlagsTest {
    @Test
    void scaleAndCenterFalseRoundTripAsFlagsWithTheSameNumbersAndParameterCounts() throws Exception {
        Path scratch = TestPaths.scratch("keras-bn-flags");
        Path src = scratch.resolve("bn_variants.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_bn_variants.py"), src.toString());
        Path out = scratch.resolve("bn_variants_back.h5");
        Cli.Result r = Cli.run("convert", src.toString(), out.toString(), "--force");
        assertThat(r.code()).as(r.err()).isZero();

        List<String> flags = new ArrayList<>();
        try (HdfFile f = new HdfFile(out)) {
            JsonNode cfg = new ObjectMapper().readTree((String) f.getAttribute("model_config").getData());
            for (JsonNode l : cfg.at("/config/layers")) {
                if (l.get("class_name").asText().equals("BatchNormalization")) {
                    JsonNode c = l.get("config");
                    String name = c.get("name").asText();
                    flags.add(name + " scale=" + c.get("scale").asBoolean() + " center=" + c.get("center").asBoolean());
                    List<String> datasets = new ArrayList<>();
                    ((io.jhdf.api.Group) f.getByPath("model_weights/" + name + "/" + name)).getChildren().keySet().forEach(datasets::add);
                    assertThat(datasets).as(name).hasSize(2 + (c.get("scale").asBoolean() ? 1 : 0) + (c.get("center").asBoolean() ? 1 : 0));
                }
            }
        }
        assertThat(flags).containsExactly("bn_noscale scale=false center=true", "bn_nocenter scale=true center=false",
                "bn_neither scale=false center=false");

        Tensor x = Tensor.random(DataType.FLOAT, new long[] {2, 8, 8, 3}, 5);
        List<TfjsFacts.Facts> facts = TfjsFacts.run(List.of(new TfjsFacts.Job(src, null, null, List.of(), List.of(x)),
                new TfjsFacts.Job(out, null, null, List.of(), List.of(x))), scratch.resolve("tfjs"));
        TfjsFacts.Facts a = facts.get(0);
        TfjsFacts.Facts b = facts.get(1);
        assertThat(a.error()).isNull();
        assertThat(b.error()).isNull();
        assertThat(b.trainable()).isEqualTo(a.trainable());
        assertThat(b.nonTrainable()).isEqualTo(a.nonTrainable());
        double err = TfjsOracle.relError(b.outputs().get(0), a.outputs().get(0));
        System.out.println("bn_variants Keras -> Keras: TF.js on the written file vs on the source, rel err " + err
                + "; trainable " + b.trainable() + "/" + a.trainable() + ", non-trainable " + b.nonTrainable() + "/" + a.nonTrainable());
        assertThat(err).isLessThanOrEqualTo(1e-6);
    }
}
