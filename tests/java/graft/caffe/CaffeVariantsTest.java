package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real LeNet re-encoded by fixtures/caffe/make_variants.py as Caffe files also come: a V1
 * prototxt (enum types, blobs_lr, input/input_dim header) with V1 or V2 weights, and V2
 * weights in double_data. Each converts to an ONNX model whose output matches OpenCV's
 * forward of the original files within 1e-5 relative, and keeps lr_mult 1/2.
 */
class CaffeVariantsTest {
    @ParameterizedTest
    @CsvSource({"lenet_v1.prototxt, lenet_v1.caffemodel", "lenet_v1.prototxt, ORIGINAL", "ORIGINAL, lenet_double.caffemodel"})
    void everyEncodingOfLenetComputesWhatOpenCvComputesFromTheOriginal(String proto, String weights) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Python.has("google.protobuf"), "python3-protobuf is not installed");
        Path corpus = TestPaths.corpus().resolve("caffe/mnist");
        Path dir = TestPaths.scratch("caffe-variants-" + proto + "-" + weights);
        Python.run(CaffeOracle.script("make_variants.py"), corpus.resolve("lenet.prototxt").toString(),
                corpus.resolve("lenet_iter_10000.caffemodel").toString(), dir.toString());
        Path p = proto.equals("ORIGINAL") ? corpus.resolve("lenet.prototxt") : dir.resolve(proto);
        Path w = weights.equals("ORIGINAL") ? corpus.resolve("lenet_iter_10000.caffemodel") : dir.resolve(weights);
        Path images = dir.resolve("fashion8.npy");
        Python.run(CaffeOracle.script("fashion_mnist.py"), images.toString(), "64", "0.00390625");
        Path onnx = dir.resolve("lenet.onnx");
        Cli.Result r = Cli.run("convert", p.toString(), "--weights", w.toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Tensor ours = CaffeOracle.ort(onnx, "data", CaffeOracle.npy(images));
        Tensor cv = CaffeOracle.opencv(corpus.resolve("lenet.prototxt"), corpus.resolve("lenet_iter_10000.caffemodel"), images, dir);
        assertThat(CaffeOracle.relError(ours, cv)).isLessThan(1e-5);
        Cli.Result inspect = Cli.run("inspect", p.toString(), "--weights", w.toString());
        assertThat(inspect.out().lines().filter(l -> l.contains(" ip1 "))).anyMatch(l -> l.contains("lr_mult 1/2"));
    }
}
