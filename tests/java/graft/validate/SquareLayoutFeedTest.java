package graft.validate;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A Keras model whose NHWC input is 5x5x5 and the NCHW Caffe file graft writes from it: the
 * input's shape cannot tell the layouts apart, so validate must permute by what it knows of the
 * two models (channels-last Keras, `preprocess.layout=NCHW` Caffe). Before, it fed the NHWC
 * tensor to the Caffe net unpermuted and reported a correct file as 523% off (exit 1). The
 * file's own correctness against OpenCV and TensorFlow.js is the silent-output audit's and
 * KerasToCaffeTest's.
 */
class SquareLayoutFeedTest {
    @Test
    void validatePermutesByLayoutWhenTheShapeCannotTell() {
        Path h5 = TestPaths.corpus().resolve("keras/weights/conv2d_tensorflow_2.h5");
        TestPaths.assumeExists(h5, "Keras corpus");
        Path dir = TestPaths.scratch("square-layout");
        Path proto = dir.resolve("c.prototxt");
        Cli.Result c = Cli.run("convert", h5.toString(), proto.toString());
        assertThat(c.code()).as(c.err()).isZero();
        Cli.Result v = Cli.run("validate", h5.toString(), proto.toString(), "--b-weights", dir.resolve("c.caffemodel").toString(),
                "--oracle", "graft");
        assertThat(v.code()).as(v.out() + v.err()).isZero();
        assertThat(v.out()).contains("NCHW->NHWC").contains("PASS");
    }
}
