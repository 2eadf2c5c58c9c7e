package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Noise and small lies of the command line (issue #14.10, #14.11). Models: fixtures/cli/make_models.py. */
class NoiseTest {
    static final Path SMALL = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
    static final Path CLI = TestPaths.fixtures().resolve("cli");

    @Test
    void anIr3ModelWrittenAtOpset17NoLongerListsItsWeightsAsInputs() {
        Path out = TestPaths.scratch("noise-ir3").resolve("m17.onnx");
        Cli.Result r = Cli.run("convert", CLI.resolve("ir3_fixed.onnx").toString(), out.toString(), "--opset", "17");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = Python.run(CLI.resolve("graph_inputs.py"), out.toString()).lines().toList();
        assertThat(lines.get(0)).isEqualTo("ir 8");
        assertThat(lines.subList(1, lines.size())).as("initializers listed as graph inputs").isEmpty();
        // written at IR 3 again, they must be listed (IR 3 requires it)
        Path out8 = out.resolveSibling("m8.onnx");
        assertThat(Cli.run("convert", out.toString(), out8.toString(), "--opset", "8").code()).isZero();
        assertThat(Python.run(CLI.resolve("graph_inputs.py"), out8.toString()).lines().toList()).containsExactly("ir 3", "w", "b");
    }

    @Test
    void onnxRuntimesWarningsAreShownOnlyWithVerbose() throws Exception {
        // IR 8 with weights listed as inputs: ONNX Runtime warns once per weight at WARNING level
        String model = CLI.resolve("ir8_weight_inputs.onnx").toString();
        Cli.Result quiet = ExitCodeTest.fork(List.of("-Xmx256m"), "run", model);
        assertThat(quiet.code()).as(quiet.err()).isZero();
        assertThat(quiet.err()).doesNotContain("onnxruntime");
        Cli.Result verbose = ExitCodeTest.fork(List.of("-Xmx256m"), "-v", "run", model);
        assertThat(verbose.code()).as(verbose.err()).isZero();
        assertThat(verbose.err()).contains("W:onnxruntime");
    }

    @Test
    void outputsGetThePermissionsOfAPlainNewFileLikeCp() throws Exception {
        Path dir = TestPaths.scratch("noise-umask");
        Path probe = Files.createFile(dir.resolve("probe"));
        Set<PosixFilePermission> plain = Files.getPosixFilePermissions(probe);
        assertThat(Cli.run("convert", SMALL.toString(), dir.resolve("m.onnx").toString()).code()).isZero();
        assertThat(Files.getPosixFilePermissions(dir.resolve("m.onnx"))).isEqualTo(plain);
        assertThat(Cli.run("run", SMALL.toString(), "--out", dir.resolve("o").toString()).code()).isZero();
        assertThat(Files.getPosixFilePermissions(dir.resolve("o/probs.npy"))).isEqualTo(plain);
    }

    @Test
    void runPrintsTheArgmaxOfEveryRow() {
        Path dir = TestPaths.scratch("noise-argmax");
        Cli.Result r = Cli.run("run", SMALL.toString(), "--batch", "4", "--seed", "3", "--out", dir.toString());
        assertThat(r.code()).as(r.err()).isZero();
        float[] p = Npy.read(dir.resolve("probs.npy")).toFloats();
        StringBuilder want = new StringBuilder("argmax [");
        for (int row = 0; row < 4; row++) {
            int best = 0;
            for (int k = 1; k < 10; k++) {
                best = p[row * 10 + k] > p[row * 10 + best] ? k : best;
            }
            want.append(row == 0 ? "" : ", ").append(best);
        }
        assertThat(r.out()).contains(want.append("] per row"));
    }

    @Test
    void runSizeFillsSymbolicHeightAndWidthOfAChannelsLastInputAsValidateDoes() {
        String model = CLI.resolve("nhwc_symbolic.onnx").toString();
        Cli.Result run = Cli.run("run", model, "--batch", "2", "--size", "5x7");
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("float[2, 5, 7, 3]").contains("float[2, 4]");
        Cli.Result validate = Cli.run("validate", model, "--batch", "2", "--size", "5x7");
        assertThat(validate.code()).as(validate.err()).isZero();
    }
}
