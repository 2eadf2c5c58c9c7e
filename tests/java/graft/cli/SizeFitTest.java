package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code --size} on a model whose H and W are symbolic but whose later layers fix them (LeNet's
 * ip1 takes exactly 50x4x4 = 800 features, so only 28x28 fits): the size is refused up front by
 * shape inference, exit 2, one line naming the input shape fed and the layer shapes that clash,
 * instead of ONNX Runtime's "Dimension mismatch" mid-run as graft's own bug (exit 4) (the
 * silent-output audit's finding (b)).
 */
class SizeFitTest {
    @Test
    void aSizeTheLayersCannotTakeIsAUsageErrorNamingBothShapes() {
        Path dir = TestPaths.scratch("size-fit");
        Path caffe = TestPaths.corpus().resolve("caffe/mnist");
        Path onnx = dir.resolve("lenet_train_test.onnx");
        Cli.Result c = Cli.run("convert", caffe.resolve("lenet_train_test.prototxt").toString(), "--weights",
                caffe.resolve("lenet_iter_10000.caffemodel").toString(), onnx.toString(), "--force");
        assertThat(c.code()).as(c.err()).isZero();

        for (String command : new String[] {"validate", "run"}) {
            Cli.Result r = Cli.run(command, onnx.toString(), "--size", "32x32");
            assertThat(r.code()).as(command + ": " + r.err()).isEqualTo(2);
            String line = r.err().strip();
            assertThat(line).as(command).doesNotContain("\n").contains("(100, 1, 32, 32)").contains("ip1").contains("800").contains("1250");
        }
        Cli.Result ok = Cli.run("validate", onnx.toString(), "--size", "28x28");
        assertThat(ok.code()).as(ok.err() + ok.out()).isZero();
    }
}
