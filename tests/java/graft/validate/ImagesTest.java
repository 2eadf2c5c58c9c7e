package graft.validate;

import static org.assertj.core.api.Assertions.assertThat;

import graft.error.ExitCodes;
import graft.io.Npy;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Image folders as validation inputs: PNGs written by OpenCV are decoded by javax.imageio and
 * preprocessed from the model's own preprocess.* metadata (here Caffe VGG's: BGR, ImageNet
 * means); the tensor must equal what OpenCV and numpy make of the same files (exactly: no
 * resize happens at the model's own size, and the arithmetic is one subtraction in float32).
 */
class ImagesTest {
    @Test
    void caffeStylePreprocessingMatchesOpenCv() {
        Path dir = TestPaths.scratch("validate-images");
        Python.run(TestPaths.fixtures().resolve("validate/make_images.py"), dir.toString());
        Graph g = OnnxImporter.read(VggFixtures.small().resolve("vgg.onnx"));
        g.metadata().put("preprocess.channel_order", "BGR");
        g.metadata().put("preprocess.mean", "103.939, 116.779, 123.68");
        Map<String, Tensor> feeds = Images.feeds(dir.resolve("images"), g, null);
        Tensor t = feeds.get("input_1");
        Npy.Array want = Npy.read(dir.resolve("expected_bgr_mean.npy"));
        assertThat(t.shape()).containsExactly(2, 3, 64, 64);
        float[] got = t.toFloats();
        float[] exp = want.toFloats();
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - exp[i]));
        }
        assertThat(worst).isLessThan(1e-4);
    }

    @Test
    void validateOnAnImageFolderPassesForOnnxRuntimeAgainstTheReferenceExecutor() throws Exception {
        Path dir = TestPaths.scratch("validate-images-cli");
        Python.run(TestPaths.fixtures().resolve("validate/make_images.py"), dir.toString());
        Path one = Files.createDirectories(dir.resolve("one"));
        Files.copy(dir.resolve("images/a.png"), one.resolve("a.png"));
        Cli.Result r = Cli.run("validate", VggFixtures.small().resolve("vgg.onnx").toString(), "--images", one.toString());
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(ExitCodes.OK);
        assertThat(r.out()).contains("probabilities").contains("PASS");
        Cli.Result empty = Cli.run("validate", VggFixtures.small().resolve("vgg.onnx").toString(), "--images",
                Files.createDirectories(dir.resolve("empty")).toString());
        assertThat(empty.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(empty.err()).contains("no .png");
    }
}
