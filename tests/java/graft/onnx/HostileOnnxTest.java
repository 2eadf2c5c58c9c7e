package graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The hostile corpus made by fixtures/hostile/make_hostile.py: truncations at many offsets,
 * flipped bytes, an LFS pointer, absurd dims, escaping external-data paths, wrong formats.
 * Each must give one clear line naming the file, exit 3, no stack trace, no output file, and
 * must neither hang nor run out of memory.
 */
class HostileOnnxTest {
    static final Path DIR = TestPaths.fixtures().resolve("hostile");

    @TestFactory
    Stream<DynamicTest> everyHostileCaseGetsOneClearLineAndExitThree() throws IOException {
        Path scratch = TestPaths.scratch("hostile");
        List<DynamicTest> tests = new ArrayList<>();
        for (String line : Files.readAllLines(DIR.resolve("cases.tsv"))) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] p = line.split("\t", -1);
            Path file = DIR.resolve("cases").resolve(p[0]);
            String expect = p.length > 1 ? p[1] : "";
            tests.add(DynamicTest.dynamicTest(p[0], () -> {
                Path out = scratch.resolve(p[0] + ".out.onnx");
                Cli.Result r = Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60),
                        () -> Cli.run("convert", file.toString(), out.toString()));
                if (expect.equals("VALID")) {
                    assertThat(r.code()).as(r.err()).isZero();
                    assertThat(out).exists();
                    return;
                }
                assertThat(r.code()).as(r.err()).isEqualTo(3);
                assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
                assertThat(r.err()).startsWith("graft: ").contains(file.toString()).doesNotContain("\tat ").doesNotContain("Exception");
                if (!expect.isEmpty()) {
                    assertThat(r.err()).contains(expect);
                }
                assertThat(out).doesNotExist();
                try (Stream<Path> s = Files.list(scratch)) {
                    assertThat(s.filter(x -> x.getFileName().toString().startsWith("." + p[0]))).isEmpty();
                }
            }));
        }
        assertThat(tests).hasSizeGreaterThan(30);
        return tests.stream();
    }

    /** In a separate JVM with a 64 MB heap: a claim of 10^12 elements is refused, never allocated. */
    @Test
    void absurdSizesNeverAllocate() throws Exception {
        for (String c : List.of("absurd_dims.onnx", "absurd_typed.onnx", "huge_length.onnx")) {
            Path out = TestPaths.scratch("hostile-fork").resolve("o.onnx");
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                    "-cp", System.getProperty("java.class.path"), "graft.cli.Main", "convert",
                    DIR.resolve("cases").resolve(c).toString(), out.toString());
            pb.redirectErrorStream(true);
            Process proc = pb.start();
            String text = new String(proc.getInputStream().readAllBytes());
            assertThat(proc.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(proc.exitValue()).as(text).isEqualTo(3);
            assertThat(text).doesNotContain("OutOfMemoryError").doesNotContain("\tat ");
        }
    }

    @Test
    void outputIsNeverTheInputAndNeverOverwrittenWithoutForce() throws IOException {
        Path dir = TestPaths.scratch("overwrite");
        Path in = dir.resolve("m.onnx");
        Files.copy(TestPaths.fixtures().resolve("hostile/tiny.onnx"), in);
        byte[] before = Files.readAllBytes(in);
        Cli.Result same = Cli.run("convert", in.toString(), in.toString(), "--force");
        assertThat(same.code()).isEqualTo(2);
        assertThat(same.err()).contains("is the input file");
        assertThat(Files.readAllBytes(in)).isEqualTo(before);
        Path out = dir.resolve("o.onnx");
        Files.writeString(out, "keep me");
        Cli.Result exists = Cli.run("convert", in.toString(), out.toString());
        assertThat(exists.code()).isEqualTo(2);
        assertThat(exists.err()).contains("exists; pass --force");
        assertThat(Files.readString(out)).isEqualTo("keep me");
        assertThat(Cli.run("convert", in.toString(), out.toString(), "--force").code()).isZero();
    }
}
