package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.io.Options;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.onnx.OnnxFormat;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * fixtures/caffe/all_layers.prototxt uses every converted layer type the corpus nets do not
 * (PReLU, padded AVE pooling whose last window overhangs, BatchNorm + Scale, grouped
 * convolution, ELU, Slice, Sigmoid, TanH, Concat, Eltwise SUM with coefficients and PROD,
 * AbsVal, Power, LRN in both regions, Deconvolution, ceil MAX pooling, Dropout, global pooling,
 * Flatten, leaky ReLU, Reshape, Softmax on axis 2), with seeded random weights. OpenCV's
 * forward of the original prototxt checks graft's import (ONNX in ONNX Runtime); OpenCV's
 * forward of graft's written Caffe pair checks graft's export. Both within 1e-5 relative.
 */
class AllLayersTest {
    @Test
    void everyLayerTypeImportsAndExportsAsOpenCvComputesIt() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Python.has("google.protobuf"), "python3-protobuf is not installed");
        Path net = CaffeOracle.script("all_layers.prototxt");
        Path dir = TestPaths.scratch("caffe-all-layers");
        CaffeFormat caffe = new CaffeFormat();
        Path init = dir.resolve("init.caffemodel");
        caffe.write(caffe.read(net, Options.none()), init, Options.none());
        Path random = dir.resolve("random.caffemodel");
        Python.run(CaffeOracle.script("randomize_caffemodel.py"), init.toString(), random.toString(), "3");
        Graph g = caffe.read(net, Options.none().set("weights", random));
        assertThat(g.metadata()).doesNotContainKey("caffe.filled_from_fillers");
        Path onnx = dir.resolve("graft.onnx");
        new OnnxFormat().write(g, onnx, Options.none());
        Path ours = dir.resolve("graft.caffemodel");
        caffe.write(g, ours, Options.none());

        long[] shape = {2, 3, 16, 16};
        Tensor x = Tensor.random(DataType.FLOAT, shape, 5);
        Path input = dir.resolve("input.npy");
        Npy.write(input, DataType.FLOAT, shape, x.data().duplicate(), true);
        Tensor ort = CaffeOracle.ort(onnx, "data", x);
        Tensor original = CaffeOracle.opencv(net, random, input, dir);
        Tensor exported = CaffeOracle.opencv(dir.resolve("graft.prototxt"), ours, input, dir);
        double importErr = CaffeOracle.relError(ort, original);
        double exportErr = CaffeOracle.relError(exported, original);
        System.out.println("all layers: graft import vs OpenCV " + importErr + ", graft export vs OpenCV " + exportErr);
        assertThat(ort.shape()).containsExactly(2, 2, 3);
        assertThat(importErr).isLessThan(1e-5);
        assertThat(exportErr).isLessThan(1e-5);
    }
}
