package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.io.Npy;
import graft.ir.DataType;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * {@code validate A B --images DIR} over a folder runs {@code --images-batch} images at a time
 * (issue #23: the whole folder was one batch, 600 KB of input per 224x224 image) with a progress
 * bar, and reports what one run over the whole folder reports: the same metrics (float64 sums of
 * the same values: within 1e-9 relative), the same top-1/top-5 agreement and the same labelled
 * accuracy counts. A model with a fixed batch runs that batch at a time; a folder that is not a
 * multiple of it is refused in one line.
 */
class ValidateImagesBatchedTest {
    @Test
    void batchesReportWhatOneRunReports() throws Exception {
        Path dir = TestPaths.scratch("validate-images-batched");
        Path images = Files.createDirectories(dir.resolve("images"));
        int n = 70;
        Random rnd = new Random(23);
        for (int i = 0; i < n; i++) {
            BufferedImage im = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    im.setRGB(x, y, rnd.nextInt(1 << 24));
                }
            }
            ImageIO.write(im, "png", images.resolve(String.format("img_%03d.png", i)).toFile());
        }
        ByteBuffer y = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            y.putLong(i % 10);
        }
        y.flip();
        Path labels = dir.resolve("y.npy");
        Npy.write(labels, DataType.INT64, new long[] {n}, y, true);
        Path model = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
        Path half = dir.resolve("half.onnx");
        assertThat(Cli.run("convert", "--force", "--fp16", model.toString(), half.toString()).code()).isZero();

        Cli.Result whole = Cli.run("validate", model.toString(), half.toString(), "--images", images.toString(), "--labels", labels.toString(),
                "--json", "--images-batch", "1000");
        Cli.Result batched = Cli.run("validate", model.toString(), half.toString(), "--images", images.toString(), "--labels", labels.toString(),
                "--json", "--images-batch", "8");
        assertThat(whole.code()).as(whole.err()).isIn(0, 1);
        assertThat(batched.code()).as(batched.err()).isEqualTo(whole.code());
        JsonNode w = new ObjectMapper().readTree(whole.out());
        JsonNode b = new ObjectMapper().readTree(batched.out());
        JsonNode wo = w.path("outputs").path(0);
        JsonNode bo = b.path("outputs").path(0);
        assertThat(bo.path("other_shape").toString()).isEqualTo(wo.path("other_shape").toString()).contains(String.valueOf(n));
        for (String k : List.of("max_abs", "max_rel", "mean_abs", "cosine")) {
            double want = wo.path(k).asDouble();
            assertThat(bo.path(k).asDouble()).as(k).isCloseTo(want, within(1e-9 * Math.max(1e-30, Math.abs(want))));
        }
        assertThat(wo.path("max_abs").asDouble()).as("FP16 differs from FP32: the comparison is not vacuous").isGreaterThan(0);
        assertThat(bo.path("top1_agreement").asDouble()).isEqualTo(wo.path("top1_agreement").asDouble());
        assertThat(bo.path("top5_agreement").asDouble()).isEqualTo(wo.path("top5_agreement").asDouble());
        assertThat(b.path("accuracy").toString()).isEqualTo(w.path("accuracy").toString());
        assertThat(b.path("accuracy").path("samples").asInt()).isEqualTo(n);

        // the progress bar: plain lines on stderr (not a terminal) ending at the full count; none for one run or --quiet
        List<String> bars = batched.err().lines().filter(l -> l.startsWith("validate ") && l.contains("%")).toList();
        assertThat(bars).as(batched.err()).isNotEmpty();
        assertThat(bars.get(bars.size() - 1)).contains("100%").contains(n + "/" + n).contains("img/s");
        assertThat(whole.err().lines().filter(l -> l.contains("%"))).isEmpty();
        Cli.Result quiet = Cli.run("validate", model.toString(), half.toString(), "--images", images.toString(), "--images-batch", "8", "--quiet");
        assertThat(quiet.err().lines().filter(l -> l.contains("%"))).as(quiet.err()).isEmpty();

        // a fixed batch of 2: 35 runs of 2, the same report; a folder of 3 images: one line, exit 2
        Path fixed = dir.resolve("fixed2.onnx");
        Cli.Result s = Cli.run("surgery", model.toString(), "-o", fixed.toString(), "--force", "--edit", "set-batch 2");
        assertThat(s.code()).as(s.err()).isZero();
        Cli.Result twos = Cli.run("validate", fixed.toString(), half.toString(), "--images", images.toString(), "--json");
        assertThat(twos.code()).as(twos.err()).isEqualTo(whole.code());
        JsonNode t = new ObjectMapper().readTree(twos.out()).path("outputs").path(0);
        assertThat(t.path("top1_agreement").asDouble()).isEqualTo(wo.path("top1_agreement").asDouble());
        assertThat(t.path("max_abs").asDouble()).isCloseTo(wo.path("max_abs").asDouble(), within(1e-9 * wo.path("max_abs").asDouble()));
        Path three = Files.createDirectories(dir.resolve("three"));
        for (int i = 0; i < 3; i++) {
            Files.copy(images.resolve(String.format("img_%03d.png", i)), three.resolve(i + ".png"));
        }
        Cli.Result odd = Cli.run("validate", fixed.toString(), half.toString(), "--images", three.toString());
        assertThat(odd.code()).isEqualTo(2);
        assertThat(odd.err().strip().lines().count()).as(odd.err()).isEqualTo(1);
        assertThat(odd.err()).contains(three.toString()).contains("3 images").contains("fixed batch of 2");
    }
}
