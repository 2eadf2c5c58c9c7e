package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The real caffemodel Caffe wrote for LeNet (10000 iterations on MNIST): graft's ONNX of it,
 * in ONNX Runtime, gives what OpenCV's Caffe importer computes from the original files, on
 * 64 real Fashion-MNIST images scaled as the LeNet net says (0.00390625).
 */
class LenetCaffemodelTest {
    static final Path DIR = TestPaths.corpus().resolve("caffe/mnist");

    @Test
    void graftOnnxOfTheRealCaffemodelMatchesOpenCv() {
        Path dir = TestPaths.scratch("caffe-lenet");
        Path images = dir.resolve("fashion64.npy");
        Python.run(CaffeOracle.script("fashion_mnist.py"), images.toString(), "64", "0.00390625");
        Path proto = DIR.resolve("lenet.prototxt");
        Path model = DIR.resolve("lenet_iter_10000.caffemodel");
        Path onnx = dir.resolve("lenet.onnx");
        Cli.Result r = Cli.run("convert", proto.toString(), "--weights", model.toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Tensor x = CaffeOracle.npy(images);
        Tensor ours = CaffeOracle.ort(onnx, "data", x);
        Tensor cv = CaffeOracle.opencv(proto, model, images, dir);
        assertThat(ours.shape()).containsExactly(64, 10);
        double err = CaffeOracle.relError(ours, cv);
        System.out.println("LeNet caffemodel vs OpenCV: rel err " + err);
        assertThat(err).isLessThan(1e-5);
        // The probabilities are not trivial: the net is confident on most images.
        float[] p = ours.toFloats();
        int confident = 0;
        for (int i = 0; i < 64; i++) {
            float max = 0;
            for (int k = 0; k < 10; k++) {
                max = Math.max(max, p[i * 10 + k]);
            }
            confident += max > 0.9f ? 1 : 0;
        }
        assertThat(confident).isGreaterThan(10);
    }

    @Test
    void caffemodelAloneCarriesTheLayersAndTheirMultipliers() {
        Cli.Result r = Cli.run("inspect", DIR.resolve("lenet_iter_10000.caffemodel").toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"name\" : \"conv1\"", "\"lr_mult\" : [ 1.0, 2.0 ]", "\"preprocess.scale\" : \"0.00390625\"",
                "\"total_params\" : 431080");
    }
}
