package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.io.Npy;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The command line as a user meets it: tables, JSON, outputs, help, exit codes. */
class CliTest {
    static final String SMALL = TestPaths.fixtures().resolve("onnx/small_vgg.onnx").toString();

    @Test
    void inspectPrintsAKerasStyleSummary() {
        Cli.Result r = Cli.run("inspect", SMALL);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("Layer", "Op(s)", "Output shape", "Param #", "Trainable")
                .contains("(N, 8, 32, 32)").contains("Gemm").contains("Total params: 70,546")
                .contains("input:  input").contains("opset 13");
    }

    @Test
    void inspectJsonIsMachineReadableAndAgreesWithTheTable() throws Exception {
        Cli.Result r = Cli.run("inspect", SMALL, "--json");
        assertThat(r.code()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("total_params").asLong()).isEqualTo(70_546L);
        assertThat(j.get("layers").size()).isGreaterThan(8);
        assertThat(j.get("inputs").get(0).get("shape").asText()).isEqualTo("(N, 3, 32, 32)");
        long sum = 0;
        for (JsonNode l : j.get("layers")) {
            sum += l.get("params").asLong();
        }
        assertThat(sum).isEqualTo(70_546L);
    }

    @Test
    void runWritesOutputsThatMatchPyTorch() {
        Path dir = TestPaths.scratch("cli-run");
        Cli.Result r = Cli.run("run", SMALL, "--input", "input=" + TestPaths.fixtures().resolve("onnx/small_vgg_input.npy"),
                "--out", dir.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("output probs", "[2, 10]");
        float[] got = Npy.read(dir.resolve("probs.npy")).toFloats();
        float[] torch = Npy.read(TestPaths.fixtures().resolve("onnx/small_vgg_torch_output.npy")).toFloats();
        for (int i = 0; i < got.length; i++) {
            assertThat((double) got[i]).isCloseTo(torch[i], org.assertj.core.data.Offset.offset(1e-6));
        }
    }

    @Test
    void runOnSeededRandomInputsIsRepeatableAndUsesTheBatchFlag() {
        Cli.Result a = Cli.run("run", SMALL, "--batch", "3", "--seed", "5");
        Cli.Result b = Cli.run("run", SMALL, "--batch", "3", "--seed", "5");
        assertThat(a.code()).isZero();
        assertThat(a.out()).contains("float[3, 3, 32, 32]").contains("float[3, 10]");
        assertThat(a.out().lines().filter(l -> l.startsWith("output")).toList())
                .isEqualTo(b.out().lines().filter(l -> l.startsWith("output")).toList());
    }

    @Test
    void cudaWithoutTheCudaBuildIsAClearUsageError() {
        Cli.Result r = Cli.run("run", SMALL, "--device", "cuda");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--device cuda").contains("-Pcuda").doesNotContain("\tat ");
    }

    @Test
    void everyCommandHasHelpWithExamples() {
        for (String c : new String[]{"inspect", "convert", "run"}) {
            Cli.Result r = Cli.run(c, "--help");
            assertThat(r.code()).isZero();
            assertThat(r.out()).contains("Usage: graft " + c).contains("Examples:");
        }
    }

    @Test
    void badUsageExitsTwoAndUnknownFileExitsThree() {
        assertThat(Cli.run("convert", SMALL).code()).isEqualTo(2);
        assertThat(Cli.run("frobnicate").code()).isEqualTo(2);
        Cli.Result missing = Cli.run("inspect", "no/such/model.onnx");
        assertThat(missing.code()).isEqualTo(3);
        assertThat(missing.err()).isEqualTo("graft: model 'no/such/model.onnx': no such file\n");
        Cli.Result unknownExt = Cli.run("inspect", "model.xyz");
        assertThat(unknownExt.code()).isEqualTo(2);
    }

    @Test
    void verboseShowsTheStackTrace() {
        Cli.Result r = Cli.run("-v", "inspect", TestPaths.fixtures().resolve("hostile/cases/truncated_0500.onnx").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("\tat ");
    }
}
