package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A full disk (issue #14.6) is the environment's fault: exit 5, one line naming the output, no
 * output and no temporary file left. The disk fills for real: graft runs in a child JVM under
 * {@code ulimit -f}, so the kernel refuses writes past the limit with EFBIG ("File too large";
 * HotSpot ignores SIGXFSZ), as it refuses them with ENOSPC on a full file system.
 */
class FullDiskTest {
    static final Path SMALL = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "h5", "prototxt"})
    void aWriteThatRunsOutOfSpaceExits5AndLeavesNothing(String ext) throws Exception {
        Path dir = TestPaths.scratch("full-disk-" + ext);
        Path out = dir.resolve("big." + ext);
        // 16 KiB: the model's weights are larger, so every format's write fails part way.
        assertThat(Files.size(SMALL)).isGreaterThan(32 * 1024);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:-UsePerfData", "-Xshare:off", "-Xmx512m", "-cp",
                System.getProperty("java.class.path"), "graft.cli.Main", "convert", SMALL.toString(), out.toString()));
        StringBuilder line = new StringBuilder("ulimit -f 16; exec");
        for (String c : cmd) {
            line.append(" '").append(c.replace("'", "'\\''")).append("'");
        }
        Process p = new ProcessBuilder("bash", "-c", line.toString()).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(text).isEqualTo(5);
        assertThat(text.strip().lines().count()).as(text).isEqualTo(1);
        // a Caffe net is two files; the caffemodel (the weights) is the one that outgrows the limit
        String named = ext.equals("prototxt") ? dir.resolve("big.caffemodel").toString() : out.toString();
        assertThat(text).startsWith("graft: ").contains(named).containsIgnoringCase("file too large")
                .doesNotContain("\tat ").doesNotContain("internal error");
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(Path::toString).toList()).as("no output, no temporary file").isEmpty();
        }
    }
}
