package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.DataType;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Whose fault an exit code names (issue #14.6): a user's mistake exits 2 or 3 in one line, the
 * machine's 5, and only graft's own bugs 4. Models: fixtures/cli/make_models.py.
 */
class ExitCodeTest {
    static final Path SMALL = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
    static final Path SMALL_INPUT = TestPaths.fixtures().resolve("onnx/small_vgg_input.npy");
    static final Path FIXED = TestPaths.fixtures().resolve("cli/ir3_fixed.onnx");

    static void oneLine(Cli.Result r) {
        assertThat(r.err().strip().lines().filter(l -> !l.startsWith("Usage:")).count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("internal error");
    }

    @Test
    void aFloat64NpyIsConvertedToTheInputsFloat32WithANote() throws Exception {
        Path dir = TestPaths.scratch("exit-float64");
        Npy.Array a = Npy.read(SMALL_INPUT);
        float[] v = a.toFloats();
        ByteBuffer d = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            d.putDouble(x);
        }
        d.flip();
        Path f64 = dir.resolve("x64.npy");
        Npy.write(f64, DataType.DOUBLE, a.shape(), d, false);
        Cli.Result r64 = Cli.run("run", SMALL.toString(), "--input", "input=" + f64, "--out", dir.resolve("o64").toString());
        assertThat(r64.code()).as(r64.err()).isZero();
        assertThat(r64.err()).contains("note").contains("float64").contains("float32");
        Cli.Result r32 = Cli.run("run", SMALL.toString(), "--input", "input=" + SMALL_INPUT, "--out", dir.resolve("o32").toString());
        assertThat(Npy.read(dir.resolve("o64/probs.npy")).toFloats()).containsExactly(Npy.read(dir.resolve("o32/probs.npy")).toFloats());
        // validate reads --input through the same code
        Cli.Result rv = Cli.run("validate", SMALL.toString(), "--input", "input=" + f64);
        assertThat(rv.code()).as(rv.err()).isZero();
    }

    @Test
    void anInputWhoseBatchDiffersFromAFixedBatchExits2NamingBothShapes() throws Exception {
        Path dir = TestPaths.scratch("exit-batch");
        Path x = dir.resolve("x.npy");
        float[] v = new float[2 * 3 * 8 * 8];
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        Npy.write(x, DataType.FLOAT, new long[]{2, 3, 8, 8}, b, false);
        for (String cmd : new String[]{"run", "validate"}) {
            Cli.Result r = Cli.run(cmd, FIXED.toString(), "--input", "x=" + x);
            assertThat(r.code()).as(r.err()).isEqualTo(2);
            oneLine(r);
            assertThat(r.err()).contains("[2, 3, 8, 8]").contains("(1, 3, 8, 8)");
        }
    }

    @Test
    void moreImagesThanAFixedBatchExits2NamingBothShapes() throws Exception {
        Path dir = TestPaths.scratch("exit-images");
        for (int i = 0; i < 2; i++) {
            ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", dir.resolve("img" + i + ".png").toFile());
        }
        Cli.Result r = Cli.run("run", FIXED.toString(), "--images", dir.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        oneLine(r);
        assertThat(r.err()).contains("[2, 3, 8, 8]").contains("(1, 3, 8, 8)");
        // validate reads a folder a model's fixed batch at a time (ValidateImagesBatchedTest): two runs of one image
        Cli.Result v = Cli.run("validate", FIXED.toString(), "--images", dir.toString(), "--quiet", "--json");
        assertThat(v.code()).as(v.err()).isZero();
        assertThat(v.out()).contains("\"shape\" : [ 2,");
    }

    @Test
    void anOutputInAFolderNobodyMayWriteExits5() {
        // Tests run as root, for whom permissions do not stop a write; sysfs refuses even root.
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("/sys/kernel")), "no sysfs");
        Cli.Result r = Cli.run("convert", SMALL.toString(), "/sys/graft-test.onnx");
        assertThat(r.code()).as(r.err()).isEqualTo(5);
        oneLine(r);
        assertThat(r.err()).contains("/sys/graft-test.onnx").contains("permission denied");
        Cli.Result run = Cli.run("run", SMALL.toString(), "--out", "/sys/graft-test");
        assertThat(run.code()).as(run.err()).isEqualTo(5);
        oneLine(run);
    }

    @Test
    void anOutputUnderARegularFileExits5() throws Exception {
        Path dir = TestPaths.scratch("exit-under-file");
        Path file = Files.writeString(dir.resolve("plain.txt"), "x");
        Cli.Result r = Cli.run("convert", SMALL.toString(), file.resolve("out.onnx").toString());
        assertThat(r.code()).as(r.err()).isEqualTo(5);
        oneLine(r);
        Cli.Result run = Cli.run("run", SMALL.toString(), "--out", file.resolve("outs").toString());
        assertThat(run.code()).as(run.err()).isEqualTo(5);
        oneLine(run);
    }

    @Test
    void aMissingDataFolderExits3LikeAMissingModel() {
        Path nowhere = TestPaths.root().resolve("target/no-such-folder");
        Cli.Result model = Cli.run("inspect", nowhere.resolve("m.onnx").toString());
        assertThat(model.code()).isEqualTo(3);
        Cli.Result features = Cli.run("features", SMALL.toString(), nowhere.toString(), "--upto", "fc1", "-o",
                TestPaths.scratch("exit-missing").resolve("f.npy").toString());
        assertThat(features.code()).as(features.err()).isEqualTo(3);
        oneLine(features);
        Cli.Result images = Cli.run("run", SMALL.toString(), "--images", nowhere.toString());
        assertThat(images.code()).as(images.err()).isEqualTo(3);
        oneLine(images);
        Cli.Result npy = Cli.run("run", SMALL.toString(), "--input", "input=" + nowhere.resolve("x.npy"));
        assertThat(npy.code()).as(npy.err()).isEqualTo(3);
    }

    @Test
    void aMistypedOptionGetsASuggestion() {
        Cli.Result r = Cli.run("run", SMALL.toString(), "--sed", "5");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--seed");
    }

    /** The launcher's JVM, forked: what a user's shell sees, native stderr included. */
    static Cli.Result fork(List<String> jvmArgs, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("graft.cli.Main");
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("graft-fork", ".out");
        Path err = Files.createTempFile("graft-fork", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            return new Cli.Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @Test
    void aMissingNativeLibraryExits5() throws Exception {
        Path empty = TestPaths.scratch("exit-no-native");
        Cli.Result r = fork(List.of("-Donnxruntime.native.path=" + empty, "-Xmx256m"), "run", SMALL.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(5);
        assertThat(r.err()).contains("native library").doesNotContain("\tat ");
    }
}
