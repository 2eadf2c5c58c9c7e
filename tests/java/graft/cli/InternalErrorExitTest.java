package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.error.TestFault;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Whose fault (issue #14.10): a bug inside graft's importers or reference executor exits 4
 * ("internal error", a bug to report), never 3 ("your file is corrupt"), and leaves no output.
 * The bug is a real NullPointerException thrown from graft's code at the named site
 * ({@link TestFault}); corrupted files keep exit 3 (HostileOnnxTest, HostileCaffeTest,
 * HostileKerasTest).
 */
class InternalErrorExitTest {
    static final Path ONNX = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
    static final Path CAFFE = TestPaths.corpus().resolve("caffe/mnist/lenet.prototxt");
    static final Path CAFFEMODEL = TestPaths.corpus().resolve("caffe/mnist/lenet_iter_10000.caffemodel");
    static final Path KERAS = TestPaths.corpus().resolve("keras/fullconfigs/cnn/cnn_batch_norm.h5");

    static Cli.Result withFault(String site, String... args) {
        System.setProperty(TestFault.PROPERTY, site);
        try {
            return Cli.run(args);
        } finally {
            System.clearProperty(TestFault.PROPERTY);
        }
    }

    static void internal(Cli.Result r, Path out) throws Exception {
        assertThat(r.code()).as(r.err()).isEqualTo(4);
        assertThat(r.err()).contains("internal error").contains("NullPointerException").doesNotContain("corrupt");
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        if (out != null) {
            assertThat(out).doesNotExist();
            try (Stream<Path> s = Files.list(out.getParent())) {
                assertThat(s).as("no temporary file left").isEmpty();
            }
        }
    }

    @Test
    void aBugInTheOnnxImporterExits4() throws Exception {
        Path out = TestPaths.scratch("internal-onnx").resolve("x.h5");
        internal(withFault("onnx-import", "convert", ONNX.toString(), out.toString()), out);
    }

    @Test
    void aBugInTheCaffeImporterExits4() throws Exception {
        TestPaths.assumeExists(CAFFEMODEL, "Caffe corpus");
        Path out = TestPaths.scratch("internal-caffe").resolve("x.onnx");
        internal(withFault("caffe-import", "convert", CAFFE.toString(), "--weights", CAFFEMODEL.toString(), out.toString()), out);
    }

    @Test
    void aBugInTheKerasImporterExits4() throws Exception {
        TestPaths.assumeExists(KERAS, "Keras corpus");
        Path out = TestPaths.scratch("internal-keras").resolve("x.onnx");
        internal(withFault("keras-import", "convert", KERAS.toString(), out.toString()), out);
    }

    @Test
    void aBugInTheReferenceExecutorExits4() throws Exception {
        internal(withFault("exec", "validate", ONNX.toString()), null);
    }

    @Test
    void withoutTheFaultTheSameCommandsSucceed() throws Exception {
        Path out = TestPaths.scratch("internal-none").resolve("x.h5");
        Cli.Result r = Cli.run("convert", ONNX.toString(), out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Cli.Result v = Cli.run("validate", ONNX.toString());
        assertThat(v.code()).as(v.err()).isZero();
    }
}
