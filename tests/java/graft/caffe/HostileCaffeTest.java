package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Broken and hostile Caffe files made by fixtures/caffe/make_hostile.py from the real LeNet
 * files (truncations, a blob one value short of its shape, a shape claiming 10^12 values, text
 * syntax errors, an LFS pointer, wrong formats, unsupported layers): each gets one line naming
 * the file and the fault (with line and column for text), exit 3, no stack trace, no output.
 */
class HostileCaffeTest {
    @TestFactory
    Stream<DynamicTest> everyHostileCaffeFileGetsOneClearLineAndExitThree() throws IOException {
        Path dir = TestPaths.scratch("caffe-hostile");
        Path cases = dir.resolve("cases");
        Path lenet = TestPaths.corpus().resolve("caffe/mnist");
        org.junit.jupiter.api.Assumptions.assumeTrue(Python.has("google.protobuf"), "python3-protobuf is not installed");
        Python.run(CaffeOracle.script("make_hostile.py"), lenet.resolve("lenet.prototxt").toString(),
                lenet.resolve("lenet_iter_10000.caffemodel").toString(), cases.toString());
        List<DynamicTest> tests = new ArrayList<>();
        for (String line : Files.readAllLines(cases.resolve("expected.txt"))) {
            if (line.isBlank()) {
                continue;
            }
            String[] p = line.split("\t", -1);
            Path file = cases.resolve(p[0]);
            tests.add(DynamicTest.dynamicTest(p[0], () -> {
                Path out = dir.resolve(p[0] + ".onnx");
                Cli.Result r = Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60),
                        () -> Cli.run("convert", file.toString(), out.toString()));
                assertThat(r.code()).as(r.err()).isEqualTo(3);
                assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
                assertThat(r.err()).startsWith("graft: ").contains(file.getFileName().toString())
                        .doesNotContain("\tat ").doesNotContain("Exception").contains(p[1]);
                assertThat(out).doesNotExist();
            }));
        }
        assertThat(tests).hasSizeGreaterThan(15);
        return tests.stream();
    }
}
