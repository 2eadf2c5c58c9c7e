package graft.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code graft validate A B --images DIR --spark} against single-machine validate: the transfer
 * study's source model (A) and graft's float16 conversion of it (B, so the errors are not zero),
 * over 200 Fashion-MNIST PNGs, on {@code local[2]} with 4 partitions. The report (table and JSON)
 * and the exit code are the same.
 */
class ValidateOnSparkTest {
    static Path a;
    static Path b;
    static Path images;

    @BeforeAll
    static void models() throws Exception {
        a = Fixtures.sourceModel();
        Path dir = Fixtures.scratch("validate");
        b = dir.resolve("fp16.onnx");
        var r = FeaturesOnSparkTest.graft("convert", a.toString(), b.toString(), "--fp16");
        assertThat(r.code()).as(r.err()).isEqualTo(0);
        images = Fixtures.pngFlat(dir.resolve("images"), 200);
    }

    @Test
    void theReportEqualsSingleMachineValidate() throws Exception {
        var one = FeaturesOnSparkTest.graft("validate", a.toString(), b.toString(), "--images", images.toString(), "--atol", "1e-2");
        var spark = FeaturesOnSparkTest.graft("validate", a.toString(), b.toString(), "--images", images.toString(), "--atol", "1e-2",
                "--spark", "--master", "local[2]", "--partitions", "4");
        assertThat(spark.code()).as(spark.err()).isEqualTo(one.code());
        assertThat(spark.out()).isEqualTo(one.out());
        var oneJson = FeaturesOnSparkTest.graft("validate", a.toString(), b.toString(), "--images", images.toString(), "--json");
        var sparkJson = FeaturesOnSparkTest.graft("validate", a.toString(), b.toString(), "--images", images.toString(), "--json", "--spark",
                "--master", "local[2]", "--partitions", "4");
        assertThat(sparkJson.code()).as(sparkJson.err()).isEqualTo(oneJson.code());
        JsonNode x = new ObjectMapper().readTree(oneJson.out()).get("outputs").get(0);
        JsonNode y = new ObjectMapper().readTree(sparkJson.out()).get("outputs").get(0);
        assertThat(x.get("max_abs").asDouble()).isGreaterThan(0);
        // maxima, counts and agreements exactly; means and cosine summed in another order: equal to 1e-12 relative
        for (String k : new String[] {"max_abs", "max_rel", "elements", "top1_agreement", "top5_agreement", "within"}) {
            assertThat(y.get(k)).as(k).isEqualTo(x.get(k));
        }
        for (String k : new String[] {"mean_abs", "cosine"}) {
            assertThat(y.get(k).asDouble()).as(k).isCloseTo(x.get(k).asDouble(), org.assertj.core.data.Percentage.withPercentage(1e-10));
        }
    }
}
