package graft.validate;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.onnx.OnnxFormat;
import graft.onnx.OnnxImporter;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Errors;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code graft run --images} applies the model's own preprocessing (here Caffe VGG's, as a Caffe
 * transform_param gives it: BGR, ImageNet means): its output equals ONNX Runtime on the tensor
 * that OpenCV and numpy make of the same PNGs (fixtures/validate/make_images.py).
 */
class RunImagesTest {
    @Test
    void runOnImagesUsesTheModelsPreprocessing() throws Exception {
        Path dir = TestPaths.scratch("run-images");
        Python.run(TestPaths.fixtures().resolve("validate/make_images.py"), dir.toString());
        Path plain = VggFixtures.small().resolve("vgg.onnx");
        Graph g = OnnxImporter.read(plain);
        g.metadata().put("preprocess.channel_order", "BGR");
        g.metadata().put("preprocess.mean_value", "103.939,116.779,123.68");
        Path withPre = dir.resolve("vgg_caffe_pre.onnx");
        new OnnxFormat().write(g, withPre, Options.none());

        // The model takes a fixed batch of 1: two images are refused clearly, one runs.
        Cli.Result two = Cli.run("run", withPre.toString(), "--images", dir.resolve("images").toString());
        assertThat(two.code()).isEqualTo(2);
        assertThat(two.err()).contains("2 images").contains("fixed batch of 1");
        Path one = java.nio.file.Files.createDirectories(dir.resolve("one"));
        java.nio.file.Files.copy(dir.resolve("images/a.png"), one.resolve("a.png"));
        Cli.Result r = Cli.run("run", withPre.toString(), "--images", one.toString(), "--out", dir.resolve("out").toString());
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        String output = g.outputs().get(0).name();
        Npy.Array got = Npy.read(dir.resolve("out").resolve(output + ".npy"));

        Npy.Array x = Npy.read(dir.resolve("expected_bgr_mean.npy"));
        try (OrtRunner ort = OrtRunner.open(plain, Device.CPU)) {
            String in = ort.inputs().keySet().iterator().next();
            java.nio.ByteBuffer first = x.data().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
            first.limit(first.position() + 3 * 64 * 64 * 4); // image a.png, the first of the oracle's batch
            Tensor want = ort.run(Map.of(in, new Tensor(x.dtype(), new long[]{1, 3, 64, 64}, first.slice()))).get(output);
            assertThat(got.shape()).isEqualTo(want.shape());
            assertThat(Errors.relativeToMagnitude(new Tensor(got.dtype(), got.shape(), got.data()), want)).isLessThan(1e-5);
        }
    }
}
