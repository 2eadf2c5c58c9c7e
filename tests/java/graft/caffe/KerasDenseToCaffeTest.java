package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.keras.TfjsOracle;
import graft.testing.Cli;
import graft.testing.TestPaths;
import graft.validate.Feeds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keras Dense layers written as Caffe InnerProduct, checked by two implementations graft did not
 * write: TensorFlow.js on the source {@code .h5} and OpenCV dnn on the written prototxt/caffemodel.
 *
 * <p>Why the writer stores every InnerProduct weight as {@code (num_output, K)} and never writes
 * {@code transpose: true}: a Keras kernel is {@code (K, num_output)}, which caffe.proto lets a net
 * store as is with {@code inner_product_param { transpose: true }} (BVLC Caffe then computes
 * {@code y = x W + b}). graft wrote exactly that, and its own Caffe reader agreed; but OpenCV's
 * InnerProduct (4.6, Debian's python3-opencv) ignores the flag and always reshapes the blob to
 * {@code (num_output, K)}, so it computed {@code x W'ᵀ} with a scrambled W' and differed from
 * TensorFlow.js by 0.73-1.0 of the output's magnitude (the silent-output audit's finding (a)).
 * Other Caffe forks (some MKL and ACL builds) ignore the flag too. The transposed blob with
 * {@code transpose: false} means the same net to every Caffe runtime, so that is what is written.
 */
class KerasDenseToCaffeTest {
    static final List<String> SOURCES = List.of(
            "keras/examples/activations/ReLU_0_model.h5",
            "keras/examples/activations/Softmax_0_model.h5",
            "keras/weights/dense_tensorflow_2.h5",
            "keras/weights/dense_theano_2.h5");

    @Test
    void denseOnlyKerasModelsWrittenAsCaffeRunInOpenCvAsTensorFlowJsRunsTheSource() throws IOException {
        TfjsOracle.assumeInstalled();
        Path dir = TestPaths.scratch("keras-dense-to-caffe");
        List<TfjsOracle.Job> jobs = new ArrayList<>();
        List<Tensor> opencv = new ArrayList<>();
        for (int i = 0; i < SOURCES.size(); i++) {
            Path h5 = TestPaths.corpus().resolve(SOURCES.get(i));
            Path prototxt = dir.resolve("m" + i + ".prototxt");
            Path caffemodel = dir.resolve("m" + i + ".caffemodel");
            Cli.Result r = Cli.run("convert", h5.toString(), prototxt.toString(), "--force");
            assertThat(r.code()).as(r.err()).isZero();
            Graph g = new graft.keras.KerasFormat().read(h5, Options.none());
            Map<String, Tensor> feeds = Feeds.make(g, Map.of(), 7, new Feeds.Sizes(1, null));
            assertThat(feeds).hasSize(1);
            Tensor x = feeds.values().iterator().next();
            Path in = dir.resolve("in" + i + ".npy");
            Npy.write(in, x.dtype(), x.shape(), x.data(), true);
            jobs.add(new TfjsOracle.Job(h5, null, List.of(x)));
            opencv.add(CaffeOracle.opencv(prototxt, caffemodel, in, dir));
        }
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> tfjs = TfjsOracle.predict(jobs, dir.resolve("tfjs"), errors);
        for (int i = 0; i < SOURCES.size(); i++) {
            assertThat(errors.get(i)).as(SOURCES.get(i)).isNull();
            double err = CaffeOracle.relError(opencv.get(i), tfjs.get(i).get(0));
            System.out.printf("%s -> Caffe: OpenCV vs TensorFlow.js on the source, rel err %.2e%n", SOURCES.get(i), err);
            assertThat(err).as(SOURCES.get(i)).isLessThan(1e-5);
            assertThat(Files.readString(dir.resolve("m" + i + ".prototxt"))).as(SOURCES.get(i)).doesNotContain("transpose");
        }
    }
}
