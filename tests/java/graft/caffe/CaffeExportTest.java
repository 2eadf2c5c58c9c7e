package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.io.Options;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.onnx.OnnxFormat;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Caffe export checked by an independent Caffe runtime. For each deploy net of the corpus:
 * graft writes it once with filler weights, {@code randomize_caffemodel.py} gives every blob
 * seeded He-normal values, graft reads the deploy net with those weights and writes both a
 * Caffe pair (prototxt + caffemodel) and ONNX. OpenCV's forward of graft's Caffe files must
 * match ONNX Runtime's forward of graft's ONNX within 1e-5 relative. The final Softmax is cut
 * first, so the logits are compared, not saturated probabilities.
 */
class CaffeExportTest {
    static final double TOLERANCE = 1e-5;

    @ParameterizedTest
    @ValueSource(strings = {"mnist/lenet.prototxt", "cifar10/cifar10_quick.prototxt", "bvlc_reference_caffenet/deploy.prototxt"})
    void openCvReadsGraftsCaffeFilesAndComputesWhatGraftsOnnxComputes(String net) {
        check(net, false);
    }

    @Test
    @Tag("slow")
    void vgg16DeployMatches() {
        check("vgg16/deploy.prototxt", false);
    }

    @Test
    @Tag("slow")
    void vgg16AsALegacyV1CaffemodelImportsAndMatches() {
        check("vgg16/deploy.prototxt", true);
    }

    static void check(String net, boolean v1) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Python.has("google.protobuf"), "python3-protobuf is not installed");
        Path deploy = TestPaths.corpus().resolve("caffe").resolve(net);
        String stem = net.replace('/', '_').replace(".prototxt", "") + (v1 ? "_v1" : "");
        Path dir = TestPaths.scratch("caffe-export-" + stem);
        CaffeFormat caffe = new CaffeFormat();
        Graph init = caffe.read(deploy, Options.none());
        Path initModel = dir.resolve("init.caffemodel");
        caffe.write(init, initModel, Options.none());
        Path random = dir.resolve("random.caffemodel");
        if (v1) {
            Python.run(CaffeOracle.script("randomize_caffemodel.py"), initModel.toString(), random.toString(), "7", "--v1");
        } else {
            Python.run(CaffeOracle.script("randomize_caffemodel.py"), initModel.toString(), random.toString(), "7");
        }
        Graph g = caffe.read(deploy, Options.none().set("weights", random));
        assertThat(g.metadata()).doesNotContainKey("caffe.filled_from_fillers");
        cutFinalSoftmax(g);
        Path ours = dir.resolve("graft.caffemodel");
        caffe.write(g, ours, Options.none());
        Path onnx = dir.resolve("graft.onnx");
        new OnnxFormat().write(g, onnx, Options.none());

        // lr_mult/decay_mult travel back out of Graph.training() into the written param blocks.
        Graph back = caffe.read(dir.resolve("graft.prototxt"), Options.none().set("weights", ours));
        assertThat(back.training()).isEqualTo(g.training());
        assertThat(back.parameterCount()).isEqualTo(g.parameterCount());

        Value in = g.inputs().get(0);
        long[] shape = g.type(in.name()).shape().toArray();
        Tensor x = Tensor.random(DataType.FLOAT, shape, 11);
        Path input = dir.resolve("input.npy");
        Npy.write(input, DataType.FLOAT, shape, x.data().duplicate(), true);
        Tensor ort = CaffeOracle.ort(onnx, in.name(), x);
        Tensor cv = CaffeOracle.opencv(dir.resolve("graft.prototxt"), ours, input, dir);
        double err = CaffeOracle.relError(ort, cv);
        System.out.println(net + (v1 ? " (V1)" : "") + ": OpenCV on graft's Caffe vs ONNX Runtime on graft's ONNX, rel err " + err);
        assertThat(ort.shape()).isEqualTo(cv.shape());
        assertThat(err).isLessThan(TOLERANCE);
        if (v1) {
            // The V1 file itself, read by OpenCV, gives the same numbers as graft's import of it.
            Tensor orig = CaffeOracle.opencv(dir.resolve("graft.prototxt"), random, input, dir.resolve(".."));
            assertThat(CaffeOracle.relError(ort, orig)).isLessThan(TOLERANCE);
        }
        // The VGG16-size files are regenerated on every run; do not leave gigabytes behind.
        for (String f : List.of("init.caffemodel", "random.caffemodel", "graft.caffemodel", "graft.onnx")) {
            try {
                java.nio.file.Files.deleteIfExists(dir.resolve(f));
            } catch (java.io.IOException e) {
                // scratch space: left for the next run to clear
            }
        }
    }

    /** Makes the logits the output: a saturated softmax would hide differences. */
    static void cutFinalSoftmax(Graph g) {
        Node last = g.nodes().get(g.nodes().size() - 1);
        if (last.opType().equals("Softmax") && g.outputs().size() == 1 && g.outputs().get(0).name().equals(last.output(0))) {
            g.nodes().remove(last);
            g.outputs().set(0, new Value(last.input(0), null));
            graft.ir.ShapeInference.run(g);
        }
    }
}
